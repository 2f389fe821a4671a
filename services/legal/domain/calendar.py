"""Rules of the working-day calendar's administration: a year is published as a whole (the State
Council's notice: holidays and make-up working days), then corrected one day at a time."""

from collections.abc import Collection
from datetime import date
from enum import StrEnum

from shared.contracts.legal import CalendarDayKind
from shared.errors import Conflict, InvalidInput, NotFound

FIRST_YEAR, LAST_YEAR = 2000, 2100

DEFAULT_NAMES = {CalendarDayKind.HOLIDAY: "节假日", CalendarDayKind.WORKDAY: "调休上班"}


class DayChange(StrEnum):
    HOLIDAY = "holiday"  # a public holiday (or a day off of its week)
    WORKDAY = "workday"  # 调休上班日: a Saturday or Sunday worked
    REMOVE = "remove"  # an ordinary day again


def _require_day_kind(day: date, kind: CalendarDayKind) -> None:
    if kind is CalendarDayKind.WORKDAY and day.weekday() < 5:
        raise InvalidInput(f"{day.isoformat()} is a weekday: a make-up working day is a Saturday or Sunday")


def _require_in_year(year: int, day: date) -> None:
    if day.year != year:
        raise InvalidInput(f"the day {day.isoformat()} is not in {year}")


def require_day_change(
    year: int,
    day: date,
    change: DayChange,
    name: str,
    reason: str,
    *,
    published: bool,
    existing: Collection[date],
) -> CalendarDayKind | None:
    """The kind the day becomes (None: its entry removed)."""
    _require_in_year(year, day)
    if not reason.strip():
        raise InvalidInput("a change of the calendar needs a reason (the notice or the correction)")
    if not published:
        raise Conflict(
            f"the calendar of {year} is not published: publish it as a whole with PUT /calendar/{year}"
        )
    if change is DayChange.REMOVE:
        if day not in existing:
            raise NotFound(f"the calendar has no entry on {day.isoformat()}")
        return None
    kind = CalendarDayKind(change.value)
    _require_day_kind(day, kind)
    return kind


def day_name(kind: CalendarDayKind, name: str) -> str:
    return name.strip() or DEFAULT_NAMES[kind]


def require_year_days(year: int, source: str, days: list[tuple[date, CalendarDayKind, str]]) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"a calendar year is between {FIRST_YEAR} and {LAST_YEAR}")
    if not source.strip():
        raise InvalidInput("name the notice the year's arrangement follows (source)")
    seen: set[date] = set()
    for day, kind, _ in days:
        _require_in_year(year, day)
        _require_day_kind(day, kind)
        if day in seen:
            raise InvalidInput(f"the day {day.isoformat()} is given twice")
        seen.add(day)
