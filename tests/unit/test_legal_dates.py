"""Legal dates: the working-day clock on the calendar the service ships (the State Council's
arrangements for 2025 and 2026, seeded by migration 0003_working_calendar), the dates of a
case's steps, how mediation ends and when arbitration may follow, and the calendar's rules."""

import re
from datetime import date, timedelta
from importlib import resources

import pytest
from structlog.testing import capture_logs

from services.legal.domain import clocks, timeline
from services.legal.domain.calendar import DayChange, require_day_change, require_year_days
from services.legal.domain.clocks import WorkCalendar
from services.legal.store.calendar import CalendarCache
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


# The shipped calendar as of 2026 only, so that shipping 2027 later does not change these tests.
UP_TO_2026 = WorkCalendar.of(
    holidays=[d for d in CAL.holidays if d.year <= 2026],
    makeup_workdays=[d for d in CAL.makeup_workdays if d.year <= 2026],
    years=[y for y in CAL.years if y <= 2026],
)


def test_a_count_into_a_year_not_published_goes_by_weekends_and_is_provisional() -> None:
    # Sent Sunday 20 December 2026: 21-25 Dec (1-5), 28-31 Dec (6-9), Fri 1 Jan 2027 counted
    # as worked (its 元旦 is not published yet) (10), 4-8 Jan (11-15).
    sent = date(2026, 12, 20)
    due = clocks.opinion_reply_due(sent, UP_TO_2026)
    assert due == date(2027, 1, 8)
    assert UP_TO_2026.unpublished_years(sent, due) == [2027]
    assert UP_TO_2026.is_working_day(date(2027, 1, 1)) and not UP_TO_2026.is_working_day(date(2027, 1, 2))
    # Inside the published year nothing is provisional: sent 1 December, due 22 December.
    assert clocks.opinion_reply_due(date(2026, 12, 1), UP_TO_2026) == date(2026, 12, 22)
    assert UP_TO_2026.unpublished_years(date(2026, 12, 1), date(2026, 12, 22)) == []
    # A count that starts on the last day of the year runs in the next one only.
    assert UP_TO_2026.unpublished_years(date(2026, 12, 31), date(2027, 1, 21)) == [2027]
    assert UP_TO_2026.unpublished_years(date(2027, 12, 20), date(2028, 1, 10)) == [2027, 2028]


def test_publishing_the_year_moves_a_provisional_deadline_past_its_holiday_and_settles_it() -> None:
    sent = date(2026, 12, 20)
    published = WorkCalendar.of(
        holidays=UP_TO_2026.holidays | {date(2027, 1, 1)},
        makeup_workdays=UP_TO_2026.makeup_workdays,
        years=UP_TO_2026.years | {2027},
    )
    due = clocks.opinion_reply_due(sent, published)
    assert due == date(2027, 1, 11)  # 元旦 is off: one working day later than the weekend count
    assert published.unpublished_years(sent, due) == []


def test_each_year_counted_by_weekends_is_logged_once_per_replica() -> None:
    cache = CalendarCache()
    with capture_logs() as logs:
        cache.warn_unpublished([2027])
        cache.warn_unpublished([2027, 2028])
        cache.warn_unpublished([])
    warned = [(e["event"], e["year"], e["log_level"]) for e in logs]
    assert warned == [
        ("working_calendar_year_unpublished", 2027, "warning"),
        ("working_calendar_year_unpublished", 2028, "warning"),
    ]


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
