"""Statutory clocks of the PRC Labour Dispute Mediation and Arbitration Law, and the working-day
calendar of the supervision letters. Pure date arithmetic; a deadline is the last day on which
the step is still in time.

- mediation unresolved 15 days after acceptance: a party may apply for arbitration;
- arbitration must be applied for within one year of learning of the infringement;
- the tribunal decides within 45 days of accepting a case, extendable once by 15 days;
- a party may sue within 15 days of receiving the award;
- the employer answers an opinion letter (意见书) within 15 working days; labour inspection
  opens a case within 5 working days of a recommendation letter (建议书) or explains why not.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from shared.contracts.legal import ArbitrationStep, DeadlineName, Stage
from shared.errors import Conflict
from shared.events import CHINA

MEDIATION_DAYS = 15
AWARD_DAYS = 45
AWARD_EXTENSION_DAYS = 15
SUIT_DAYS = 15
OPINION_REPLY_WORKING_DAYS = 15
INSPECTION_RESPONSE_WORKING_DAYS = 5
WARN_DAYS_BEFORE = 3


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def mediation_window_ends(accepted_on: date) -> date:
    return accepted_on + timedelta(days=MEDIATION_DAYS)


def arbitration_limit(learned_on: date) -> date:
    return add_years(learned_on, 1)


def award_due(accepted_on: date, *, extended: bool) -> date:
    return accepted_on + timedelta(days=AWARD_DAYS + (AWARD_EXTENSION_DAYS if extended else 0))


def extend_award(accepted_on: date, already_extended: bool) -> date:
    """The award deadline after the one permitted extension; a second one is refused."""
    if already_extended:
        raise Conflict("the award deadline was extended once already: the law allows one extension")
    return award_due(accepted_on, extended=True)


def suit_limit(award_received_on: date) -> date:
    return award_received_on + timedelta(days=SUIT_DAYS)


def require_may_sue(
    accepted_on: date | None, extended: bool, award_received_on: date | None, on: date
) -> None:
    """A suit follows the award, or the tribunal's silence once its deadline has passed."""
    if award_received_on is not None:
        return
    if accepted_on is None:
        raise Conflict("no award yet and the tribunal has not accepted the case: a suit cannot follow")
    due = award_due(accepted_on, extended=extended)
    if on <= due:
        raise Conflict(f"no award yet: a suit may follow the award, or the tribunal's silence after {due}")


def in_time(deadline: date, on: date) -> bool:
    return on <= deadline


def warning_day(deadline: date, days_before: int = WARN_DAYS_BEFORE) -> date:
    return deadline - timedelta(days=days_before)


def start_of(day: date) -> datetime:
    """Midnight at the start of `day`, China time."""
    return datetime.combine(day, time(0), tzinfo=CHINA)


def notice_times(due_on: date, days_before: int = WARN_DAYS_BEFORE) -> list[tuple[str, datetime]]:
    """When a deadline's two notices fire: "approaching" at the start of the warning day, "missed"
    at the start of the day after the last day (the last day itself is still in time)."""
    return [
        ("approaching", start_of(warning_day(due_on, days_before))),
        ("missed", start_of(due_on + timedelta(days=1))),
    ]


PROVISIONAL_LABEL = "暂按周末推算，待国务院公布当年节假日安排后自动调整"


@dataclass(frozen=True)
class WorkCalendar:
    """Monday to Friday are working days, except public holidays; make-up working days (调休,
    a Saturday or Sunday next to a holiday week) are worked. In a year whose official
    arrangement is not published yet (`years`), weekends alone are counted: a deadline reaching
    it is provisional, and moves when the year is published (handlers/calendar.py)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls, holidays: Iterable[date] = (), makeup_workdays: Iterable[date] = (), years: Iterable[int] = ()
    ) -> "WorkCalendar":
        return cls(frozenset(holidays), frozenset(makeup_workdays), frozenset(years))

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.years:
            return day.weekday() < 5
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself does not count)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def unpublished_years(self, start: date, end: date) -> list[int]:
        """The years of the days after `start` up to `end` that were counted by weekends alone:
        a deadline counted over them is provisional."""
        return [y for y in range((start + timedelta(days=1)).year, end.year + 1) if y not in self.years]


def opinion_reply_due(sent_on: date, calendar: WorkCalendar) -> date:
    return calendar.add_working_days(sent_on, OPINION_REPLY_WORKING_DAYS)


def inspection_response_due(sent_on: date, calendar: WorkCalendar) -> date:
    return calendar.add_working_days(sent_on, INSPECTION_RESPONSE_WORKING_DAYS)


# What a missed deadline escalates to (the DeadlineMissed event says so).
ESCALATION: dict[DeadlineName, str] = {
    DeadlineName.ARBITRATION_LIMIT: "time_barred_review",
    DeadlineName.MEDIATION_WINDOW: "may_apply_for_arbitration",
    DeadlineName.AWARD_DUE: "press_tribunal_or_sue",
    DeadlineName.SUIT_LIMIT: "award_final",
    DeadlineName.OPINION_REPLY: "recommendation_letter",
    DeadlineName.INSPECTION_RESPONSE: "report_to_higher_inspection",
}


@dataclass(frozen=True)
class ClockChange:
    """What a step of a case means for its statutory clocks."""

    schedule: tuple[DeadlineName, date] | None = None  # a deadline that starts running
    cancel: tuple[DeadlineName, ...] = ()  # deadlines the step satisfies
    late: bool = False  # the step was taken after its limit


def on_stage(
    target: Stage,
    day: date,
    *,
    learned_on: date,
    arbitration_accepted_on: date | None,
    award_extended: bool,
    award_received_on: date | None,
) -> ClockChange:
    """Mediation starts its window; arbitration satisfies the one-year limit (late when after
    it) and the mediation window; a suit follows the award (or the tribunal's silence) and
    satisfies the suit limit and the award deadline."""
    if target is Stage.MEDIATION:
        return ClockChange(schedule=(DeadlineName.MEDIATION_WINDOW, mediation_window_ends(day)))
    if target is Stage.ARBITRATION:
        return ClockChange(
            cancel=(DeadlineName.ARBITRATION_LIMIT, DeadlineName.MEDIATION_WINDOW),
            late=not in_time(arbitration_limit(learned_on), day),
        )
    if target is Stage.LITIGATION:
        require_may_sue(arbitration_accepted_on, award_extended, award_received_on, day)
        late = award_received_on is not None and not in_time(suit_limit(award_received_on), day)
        return ClockChange(cancel=(DeadlineName.SUIT_LIMIT, DeadlineName.AWARD_DUE), late=late)
    return ClockChange()


def on_arbitration_step(
    step: ArbitrationStep,
    day: date,
    *,
    accepted_on: date | None,
    extended: bool,
    award_received_on: date | None,
) -> ClockChange:
    """The tribunal accepts (the 45-day award deadline runs), extends once (15 days more) or
    makes its award (the 15-day suit limit runs); the award deadline it had is replaced."""
    if step is ArbitrationStep.ACCEPTED:
        if accepted_on is not None:
            raise Conflict("the tribunal's acceptance is recorded already")
        due = award_due(day, extended=False)
    elif accepted_on is None:
        raise Conflict("record the tribunal's acceptance first")
    elif award_received_on is not None:
        raise Conflict("the award was made already")
    elif step is ArbitrationStep.EXTENDED:
        due = extend_award(accepted_on, extended)
    else:
        return ClockChange(
            schedule=(DeadlineName.SUIT_LIMIT, suit_limit(day)), cancel=(DeadlineName.AWARD_DUE,)
        )
    return ClockChange(schedule=(DeadlineName.AWARD_DUE, due), cancel=(DeadlineName.AWARD_DUE,))
