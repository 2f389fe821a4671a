"""Statutory clocks and the working-day calendar of the supervision letters."""

from datetime import date, datetime, timedelta, timezone

import pytest

from services.legal.domain import clocks
from services.legal.domain.clocks import WorkCalendar
from shared.errors import Conflict


def test_mediation_may_escalate_fifteen_days_after_acceptance() -> None:
    assert clocks.mediation_window_ends(date(2026, 3, 1)) == date(2026, 3, 16)
    assert clocks.mediation_window_ends(date(2026, 12, 20)) == date(2027, 1, 4)


def test_arbitration_limit_is_one_year_after_learning_of_the_infringement() -> None:
    limit = clocks.arbitration_limit(date(2025, 6, 10))
    assert limit == date(2026, 6, 10)
    assert clocks.in_time(limit, date(2026, 6, 10))  # the last day is still in time
    assert not clocks.in_time(limit, date(2026, 6, 11))


def test_arbitration_limit_from_a_leap_day_ends_on_28_february() -> None:
    assert clocks.arbitration_limit(date(2024, 2, 29)) == date(2025, 2, 28)


def test_award_is_due_45_days_after_acceptance_and_60_with_the_extension() -> None:
    accepted = date(2026, 1, 10)
    assert clocks.award_due(accepted, extended=False) == date(2026, 2, 24)
    assert clocks.award_due(accepted, extended=True) == date(2026, 3, 11)
    assert clocks.extend_award(accepted, already_extended=False) == date(2026, 3, 11)


def test_the_award_deadline_is_extended_once_only() -> None:
    with pytest.raises(Conflict, match="extended once already"):
        clocks.extend_award(date(2026, 1, 10), already_extended=True)


def test_a_suit_may_follow_within_fifteen_days_of_the_award() -> None:
    assert clocks.suit_limit(date(2026, 2, 20)) == date(2026, 3, 7)
    assert clocks.in_time(date(2026, 3, 7), date(2026, 3, 7))


def test_the_warning_comes_three_days_before_the_last_day() -> None:
    assert clocks.warning_day(date(2026, 3, 7)) == date(2026, 3, 4)
    assert clocks.warning_day(date(2026, 3, 7), 1) == date(2026, 3, 6)


# National Day 2026 in this test: 1-7 October off, Saturday 10 October worked (调休).
NATIONAL_DAY = WorkCalendar.of(
    holidays=[date(2026, 10, d) for d in range(1, 8)], makeup_workdays=[date(2026, 10, 10)], years=[2026]
)
NO_HOLIDAYS_2026 = WorkCalendar.of(years=[2026])


def test_weekends_holidays_and_make_up_days() -> None:
    cal = NATIONAL_DAY
    assert cal.is_working_day(date(2026, 9, 30))  # Wednesday
    assert not cal.is_working_day(date(2026, 10, 1))  # Thursday, a holiday
    assert not cal.is_working_day(date(2026, 10, 4))  # Sunday in the holiday week
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, make-up working day
    assert not cal.is_working_day(date(2026, 10, 11))  # an ordinary Sunday


def test_working_days_skip_the_holiday_week_and_count_the_make_up_saturday() -> None:
    sent = date(2026, 9, 29)  # Tuesday
    # 30 Sep (1), 8 Oct (2), 9 Oct (3), Sat 10 Oct (4), 12 Oct (5)
    assert NATIONAL_DAY.add_working_days(sent, 5) == date(2026, 10, 12)
    # ... 13-16 Oct (6-9), 19-23 Oct (10-14), 26 Oct (15)
    assert clocks.opinion_reply_due(sent, NATIONAL_DAY) == date(2026, 10, 26)
    assert clocks.inspection_response_due(sent, NATIONAL_DAY) == date(2026, 10, 12)


def test_without_holidays_fifteen_working_days_are_three_weeks() -> None:
    assert clocks.opinion_reply_due(date(2026, 3, 2), NO_HOLIDAYS_2026) == date(2026, 3, 23)
    # Sent on a Friday: the count starts on Monday.
    assert NO_HOLIDAYS_2026.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)


def test_the_start_day_never_counts_and_days_must_be_positive() -> None:
    assert NO_HOLIDAYS_2026.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    with pytest.raises(ValueError):
        NO_HOLIDAYS_2026.add_working_days(date(2026, 3, 2), 0)


def test_notices_fire_at_midnight_china_time_before_and_after_the_last_day() -> None:
    china = timezone(timedelta(hours=8))
    assert clocks.notice_times(date(2026, 3, 16)) == [
        ("approaching", datetime(2026, 3, 13, tzinfo=china)),
        ("missed", datetime(2026, 3, 17, tzinfo=china)),  # 16 March itself is still in time
    ]
    assert clocks.notice_times(date(2026, 3, 16), 1)[0] == (
        "approaching",
        datetime(2026, 3, 15, tzinfo=china),
    )


def test_a_suit_follows_the_award_or_the_tribunals_silence_after_its_deadline() -> None:
    accepted = date(2026, 1, 10)
    clocks.require_may_sue(accepted, False, date(2026, 2, 1), date(2026, 2, 3))
    with pytest.raises(Conflict, match="no award yet"):
        clocks.require_may_sue(accepted, False, None, date(2026, 2, 24))  # the 45th day: still waiting
    clocks.require_may_sue(accepted, False, None, date(2026, 2, 25))
    with pytest.raises(Conflict):
        clocks.require_may_sue(accepted, True, None, date(2026, 3, 11))  # extended: 60 days
    clocks.require_may_sue(accepted, True, None, date(2026, 3, 12))
    with pytest.raises(Conflict, match="has not accepted"):
        clocks.require_may_sue(None, False, None, date(2026, 3, 12))
