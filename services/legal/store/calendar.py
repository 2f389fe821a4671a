"""The working-day calendar (tables working_calendar, working_calendar_years and its revision)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from services.legal.domain.clocks import WorkCalendar
from shared.contracts.legal import CalendarDayKind
from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class CalendarDayRow:
    day: date
    kind: CalendarDayKind
    name: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class YearRow:
    year: int
    source: str
    published_by: str
    published_at: datetime


async def revision(conn: Conn, *, lock: str = "") -> int:
    """The calendar's revision; `lock` "FOR SHARE" by a step that computes a working-day
    deadline, "FOR UPDATE" by a change (so a change waits for such steps, and they for it)."""
    return int(await conn.fetchval(f"SELECT revision FROM working_calendar_revision {lock}"))


async def bump_revision(conn: Conn) -> int:
    return int(
        await conn.fetchval("UPDATE working_calendar_revision SET revision = revision + 1 RETURNING revision")
    )


async def all_days(conn: Conn) -> tuple[list[CalendarDayRow], list[int]]:
    days = await conn.fetch("SELECT day, kind, name, updated_by, updated_at FROM working_calendar")
    years = await conn.fetch("SELECT year FROM working_calendar_years")
    return (
        [
            CalendarDayRow(r["day"], CalendarDayKind(r["kind"]), r["name"], r["updated_by"], r["updated_at"])
            for r in days
        ],
        [r["year"] for r in years],
    )


async def year(conn: Conn, year: int) -> tuple[YearRow | None, list[CalendarDayRow]]:
    y = await conn.fetchrow("SELECT * FROM working_calendar_years WHERE year = $1", year)
    rows = await conn.fetch(
        """SELECT day, kind, name, updated_by, updated_at FROM working_calendar
           WHERE day >= make_date($1, 1, 1) AND day < make_date($1 + 1, 1, 1) ORDER BY day""",
        year,
    )
    days = [
        CalendarDayRow(r["day"], CalendarDayKind(r["kind"]), r["name"], r["updated_by"], r["updated_at"])
        for r in rows
    ]
    return (YearRow(y["year"], y["source"], y["published_by"], y["published_at"]) if y else None), days


async def set_day(conn: Conn, day: date, kind: CalendarDayKind, name: str, actor: str) -> None:
    await conn.execute(
        """INSERT INTO working_calendar (day, kind, name, updated_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (day) DO UPDATE
           SET kind = EXCLUDED.kind, name = EXCLUDED.name, updated_by = EXCLUDED.updated_by,
               updated_at = now()""",
        day, kind.value, name, actor,
    )  # fmt: skip


async def remove_day(conn: Conn, day: date) -> bool:
    return str(await conn.execute("DELETE FROM working_calendar WHERE day = $1", day)) != "DELETE 0"


async def publish_year(
    conn: Conn, year: int, source: str, actor: str, days: list[tuple[date, CalendarDayKind, str]]
) -> None:
    """The year's arrangement as a whole, replacing what it had."""
    await conn.execute(
        "DELETE FROM working_calendar WHERE day >= make_date($1, 1, 1) AND day < make_date($1 + 1, 1, 1)",
        year,
    )
    await conn.executemany(
        "INSERT INTO working_calendar (day, kind, name, updated_by) VALUES ($1, $2, $3, $4)",
        [(d, k.value, n, actor) for d, k, n in days],
    )
    await conn.execute(
        """INSERT INTO working_calendar_years (year, source, published_by) VALUES ($1, $2, $3)
           ON CONFLICT (year) DO UPDATE
           SET source = EXCLUDED.source, published_by = EXCLUDED.published_by, published_at = now()""",
        year, source, actor,
    )  # fmt: skip


class CalendarCache:
    """A replica's calendar in memory, checked against the table's revision in the transaction
    that counts working days: every replica counts with the calendar as committed, whichever
    of them took the change (a consumer group would bring the change's event to one replica
    only)."""

    def __init__(self) -> None:
        self._revision: int | None = None
        self._calendar = WorkCalendar()
        self._warned: set[int] = set()

    def warn_unpublished(self, years: Iterable[int]) -> None:
        """Never silently: the first deadline a replica counts over a year whose holidays are not
        published is logged (once per year), since it ignores that year's holidays until then."""
        for year in sorted(set(years) - self._warned):
            self._warned.add(year)
            log.warning(
                "working_calendar_year_unpublished", year=year,
                action=f"deadlines counted by weekends alone (provisional) until PUT /calendar/{year}",
            )  # fmt: skip

    async def current(self, conn: Conn) -> WorkCalendar:
        """The committed calendar; a change waits for this transaction to end (FOR SHARE)."""
        rev = await revision(conn, lock="FOR SHARE")
        if rev != self._revision:
            days, years = await all_days(conn)
            self._calendar = WorkCalendar.of(
                holidays=[d.day for d in days if d.kind is CalendarDayKind.HOLIDAY],
                makeup_workdays=[d.day for d in days if d.kind is CalendarDayKind.WORKDAY],
                years=years,
            )
            self._revision = rev
        return self._calendar

    @property
    def revision(self) -> int | None:
        return self._revision
