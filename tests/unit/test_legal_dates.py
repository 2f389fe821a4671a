"""Legal dates: the working-day clock on the calendar the service ships (the State Council's
arrangements for 2025 and 2026, seeded by migration 0003_working_calendar), the dates of a
case's steps, how mediation ends and when arbitration may follow, and the calendar's rules."""

import re
from datetime import date, timedelta
from importlib import resources

import pytest

from services.legal.domain import clocks, timeline
from services.legal.domain.calendar import DayChange, require_day_change, require_year_days
from services.legal.domain.clocks import CalendarNotPublished, WorkCalendar
from shared.contracts.legal import CalendarDayKind, MediationOutcome, Stage
from shared.errors import Conflict, InvalidInput, NotFound


def shipped_calendar() -> WorkCalendar:
    """The calendar as migration 0003 seeds it (its rows between the two markers, its years)."""
    sql = (resources.files("services.legal.migrations") / "0003_working_calendar.sql").read_text(
        encoding="utf-8"
    )
    block = sql.split("-- shipped calendar: begin")[1].split("-- shipped calendar: end")[0]
    rows = re.findall(r"\('(\d{4}-\d\d-\d\d)', '(holiday|workday)', '[^']+'\)", block)
    years = re.findall(r"\((\d{4}), '国务院办公厅关于\d{4}年部分节假日安排的通知'", sql)
    return WorkCalendar.of(
        holidays=[date.fromisoformat(d) for d, k in rows if k == "holiday"],
        makeup_workdays=[date.fromisoformat(d) for d, k in rows if k == "workday"],
        years=[int(y) for y in years],
    )


CAL = shipped_calendar()


def test_the_shipped_calendar_covers_2025_and_2026_only() -> None:
    assert CAL.years == {2025, 2026}
    by_year = {y: sum(d.year == y for d in CAL.holidays) for y in (2025, 2026)}
    assert by_year == {2025: 28, 2026: 33}  # 元旦 春节 清明 劳动 端午 (中秋) 国庆, as the notices give them
    assert all(d.weekday() >= 5 for d in CAL.makeup_workdays)  # a make-up day is a Saturday or Sunday
    assert not CAL.holidays & CAL.makeup_workdays


def test_the_spring_festival_2026_is_off_from_15_to_23_february_with_saturdays_14_and_28_worked() -> None:
    assert all(not CAL.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert CAL.is_working_day(date(2026, 2, 14)) and CAL.is_working_day(date(2026, 2, 28))
    assert CAL.is_working_day(date(2026, 2, 24))


def test_fifteen_working_days_after_10_february_2026_end_on_9_march_not_3_march() -> None:
    # 11, 12, 13, Sat 14 (1-4); 15-23 off; 24-27 (5-8); Sat 28 (9); 2-6 March (10-14); 9 March (15).
    due = clocks.opinion_reply_due(date(2026, 2, 10), CAL)
    assert due == date(2026, 3, 9)
    assert due != date(2026, 3, 3)  # what weekends alone gave, through the Spring Festival


def test_five_working_days_across_the_spring_festival_2025_count_the_make_up_sunday() -> None:
    # Sent Friday 24 January 2025: Sun 26 worked (1), Mon 27 (2), 28 Jan - 4 Feb off, 5-7 Feb (3-5).
    assert clocks.inspection_response_due(date(2025, 1, 24), CAL) == date(2025, 2, 7)


def test_working_days_across_national_day_2026() -> None:
    # Sent Friday 18 Sep: Sun 20 worked (1), 21-24 (2-5), Fri 25 off (中秋), 28-30 (6-8),
    # 1-7 Oct off (国庆), 8-9 (9-10), Sat 10 worked (11), 12-15 (12-15).
    assert clocks.opinion_reply_due(date(2026, 9, 18), CAL) == date(2026, 10, 15)


def test_the_clock_refuses_to_count_into_a_year_the_calendar_does_not_have() -> None:
    # Sent 20 December 2026: the count reaches January 2027, whose arrangement is not published.
    with pytest.raises(CalendarNotPublished, match="no 2027") as refused:
        clocks.opinion_reply_due(date(2026, 12, 20), CAL)
    assert refused.value.status_code == 409 and refused.value.context == {"year": 2027}
    # Inside the year it still counts: sent 1 December, due 22 December.
    assert clocks.opinion_reply_due(date(2026, 12, 1), CAL) == date(2026, 12, 22)


FILED = date(2026, 3, 2)
TODAY = date(2026, 4, 30)


def test_a_step_date_in_the_future_is_refused_naming_today() -> None:
    with pytest.raises(InvalidInput, match=r"tribunal's acceptance cannot be after today \(2026-04-30"):
        timeline.require_step_day(
            "the tribunal's acceptance", TODAY + timedelta(days=1), TODAY, {"filed_on": FILED}
        )


def test_a_step_date_before_the_filing_is_refused_naming_the_filing() -> None:
    a_year_before = FILED - timedelta(days=365)
    with pytest.raises(InvalidInput, match=r"cannot be before the filing \(2026-03-02\)"):
        timeline.require_step_day("the tribunal's acceptance", a_year_before, TODAY, {"filed_on": FILED})


def test_a_step_date_before_the_latest_recorded_step_is_refused_naming_it() -> None:
    steps = {"filed_on": FILED, "arbitration_applied_on": date(2026, 3, 20), "arbitration_accepted_on": None}
    with pytest.raises(InvalidInput, match=r"before the application for arbitration \(2026-03-20\)"):
        timeline.require_step_day("the tribunal's acceptance", date(2026, 3, 19), TODAY, steps)
    timeline.require_step_day("the tribunal's acceptance", date(2026, 3, 20), TODAY, steps)  # same day: fine
    same_day = {"filed_on": FILED, "arbitration_applied_on": FILED}  # the later step is named
    with pytest.raises(InvalidInput, match=r"before the application for arbitration \(2026-03-02\)"):
        timeline.require_step_day("the award", FILED - timedelta(days=1), TODAY, same_day)
    timeline.require_step_day("the tribunal's acceptance", TODAY, TODAY, steps)  # today: fine


ACCEPTED = date(2026, 3, 5)  # mediation accepted: the window runs until 20 March


def test_mediation_ends_once_while_in_mediation() -> None:
    end = timeline.mediation_end(Stage.MEDIATION, None, ACCEPTED, MediationOutcome.FAILED, date(2026, 3, 10))
    assert end == timeline.MediationEnd(MediationOutcome.FAILED, date(2026, 3, 10))
    with pytest.raises(Conflict, match="ended already"):
        timeline.mediation_end(
            Stage.MEDIATION, MediationOutcome.FAILED, ACCEPTED, MediationOutcome.AGREEMENT, TODAY
        )
    with pytest.raises(Conflict, match="not in mediation"):
        timeline.mediation_end(Stage.CONSULTATION, None, None, MediationOutcome.FAILED, TODAY)


def test_a_passed_window_is_recorded_only_after_it_and_ends_on_its_last_day() -> None:
    with pytest.raises(InvalidInput, match="runs until 2026-03-20"):
        timeline.mediation_end(
            Stage.MEDIATION, None, ACCEPTED, MediationOutcome.WINDOW_PASSED, date(2026, 3, 20)
        )
    end = timeline.mediation_end(
        Stage.MEDIATION, None, ACCEPTED, MediationOutcome.WINDOW_PASSED, date(2026, 3, 25)
    )
    assert end == timeline.MediationEnd(MediationOutcome.WINDOW_PASSED, date(2026, 3, 20))


def test_arbitration_follows_no_mediation_a_failed_one_or_a_passed_window() -> None:
    assert timeline.arbitration_after_mediation(False, None, None, TODAY) is None
    assert (
        timeline.arbitration_after_mediation(True, MediationOutcome.FAILED, ACCEPTED, date(2026, 3, 10))
        is None
    )
    assert timeline.arbitration_after_mediation(True, MediationOutcome.WINDOW_PASSED, ACCEPTED, TODAY) is None
    assert timeline.arbitration_after_mediation(True, None, None, TODAY) is None  # no window known
    # The window passed without being recorded: the application records it.
    assert timeline.arbitration_after_mediation(
        True, None, ACCEPTED, date(2026, 3, 21)
    ) == timeline.MediationEnd(MediationOutcome.WINDOW_PASSED, date(2026, 3, 20))


def test_arbitration_is_refused_over_an_agreement_or_while_mediation_runs() -> None:
    with pytest.raises(Conflict, match="达成协议"):
        timeline.arbitration_after_mediation(True, MediationOutcome.AGREEMENT, ACCEPTED, TODAY)
    with pytest.raises(Conflict, match="mediation runs until 2026-03-20") as running:
        timeline.arbitration_after_mediation(True, None, ACCEPTED, date(2026, 3, 20))
    assert running.value.context == {"allowed": ["record_mediation_outcome"]}


def test_mediation_outcomes_read_in_chinese() -> None:
    assert [o.label for o in MediationOutcome] == ["达成协议", "调解不成", "期满未结"]


def test_a_calendar_day_change_needs_a_published_year_a_reason_and_a_weekend_for_a_make_up_day() -> None:
    sat = date(2026, 12, 26)
    kind = require_day_change(2026, sat, DayChange.WORKDAY, "", "调休", published=True, existing=[])
    assert kind is CalendarDayKind.WORKDAY
    with pytest.raises(InvalidInput, match="weekday"):
        require_day_change(
            2026, date(2026, 12, 24), DayChange.WORKDAY, "", "调休", published=True, existing=[]
        )
    with pytest.raises(InvalidInput, match="not in 2026"):
        require_day_change(
            2026, date(2027, 1, 1), DayChange.HOLIDAY, "元旦", "通知", published=True, existing=[]
        )
    with pytest.raises(InvalidInput, match="reason"):
        require_day_change(2026, sat, DayChange.HOLIDAY, "", " ", published=True, existing=[])
    with pytest.raises(Conflict, match="not published"):
        require_day_change(
            2027, date(2027, 1, 1), DayChange.HOLIDAY, "元旦", "通知", published=False, existing=[]
        )
    with pytest.raises(NotFound):
        require_day_change(2026, sat, DayChange.REMOVE, "", "更正", published=True, existing=[])
    assert require_day_change(2026, sat, DayChange.REMOVE, "", "更正", published=True, existing=[sat]) is None


def test_a_published_year_has_each_day_once_inside_the_year() -> None:
    ny = date(2027, 1, 1)
    require_year_days(2027, "通知", [(ny, CalendarDayKind.HOLIDAY, "元旦")])
    with pytest.raises(InvalidInput, match="twice"):
        require_year_days(
            2027, "通知", [(ny, CalendarDayKind.HOLIDAY, ""), (ny, CalendarDayKind.HOLIDAY, "")]
        )
    with pytest.raises(InvalidInput, match="not in 2027"):
        require_year_days(2027, "通知", [(date(2026, 12, 31), CalendarDayKind.HOLIDAY, "")])
    with pytest.raises(InvalidInput, match="source"):
        require_year_days(2027, "", [])
