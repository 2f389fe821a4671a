"""Who may judge what, blind entry codes, the objection window, and honours' terms."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.competitions.domain.honours import MAX_TERM_YEARS, Honour, latest_end, validate_term
from services.competitions.domain.rules import (
    BLIND_CODE_LENGTH,
    StageStatus,
    blind_code,
    objection_window,
    require_final_allowed,
    require_judge,
    require_no_conflict,
    require_status,
    require_window_open,
)
from shared.errors import Conflict, Forbidden, InvalidInput

KEY = b"k" * 32
T0 = datetime(2026, 4, 1, 9, tzinfo=UTC)


def test_a_judge_may_not_score_an_entry_from_their_own_union() -> None:
    own, other = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(Forbidden) as exc:
        require_no_conflict(own, [other, own])
    assert exc.value.code == "conflict_of_interest"  # the problem body's `code`
    require_no_conflict(own, [other])
    require_no_conflict(None, [other])  # an admin has no union


def test_only_the_panel_judges() -> None:
    require_judge("judge-li", ["judge-li", "judge-wang"])
    with pytest.raises(Forbidden):
        require_judge("judge-zhao", ["judge-li", "judge-wang"])


def test_blind_codes_are_stable_per_stage_and_differ_between_stages_and_entries() -> None:
    stage, other_stage, entry = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    code = blind_code(KEY, stage, entry)
    assert code == blind_code(KEY, stage, entry)
    assert len(code) == BLIND_CODE_LENGTH and code.isalnum() and "0" not in code and "O" not in code
    assert code != blind_code(KEY, other_stage, entry)
    assert code != blind_code(b"another key".ljust(32, b"!"), stage, entry)
    assert str(entry) not in code


@given(st.lists(st.uuids(), min_size=2, max_size=50, unique=True))
def test_blind_codes_do_not_collide_within_a_stage(entries: list[uuid.UUID]) -> None:
    stage = uuid.uuid4()
    assert len({blind_code(KEY, stage, e) for e in entries}) == len(entries)


def test_stage_steps_only_from_the_right_status() -> None:
    require_status(StageStatus.SCORING, StageStatus.SCORING, doing="score")
    with pytest.raises(Conflict):
        require_status(StageStatus.PUBLISHED, StageStatus.SCORING, doing="score")


def test_objections_only_inside_the_window_and_final_only_after_it() -> None:
    start, ends = objection_window(T0, 5)
    assert ends - start == timedelta(days=5)
    require_window_open(ends - timedelta(seconds=1), ends)
    with pytest.raises(Conflict):
        require_window_open(ends, ends)
    with pytest.raises(Conflict):
        require_final_allowed(ends - timedelta(seconds=1), ends, 0)
    with pytest.raises(Conflict):
        require_final_allowed(ends, ends, open_objections=1)
    require_final_allowed(ends, ends, 0)


def test_a_title_is_granted_for_at_most_five_years() -> None:
    validate_term(date(2026, 5, 1), date(2031, 5, 1))
    with pytest.raises(InvalidInput):
        validate_term(date(2026, 5, 1), date(2031, 5, 2))
    with pytest.raises(InvalidInput):
        validate_term(date(2026, 5, 1), date(2026, 4, 30))
    assert latest_end(date(2024, 2, 29)) == date(2029, 2, 28)


def test_only_titles_valid_on_a_date_are_current() -> None:
    h = Honour(date(2021, 5, 1), date(2026, 4, 30))
    assert h.current_on(date(2021, 5, 1)) and h.current_on(date(2026, 4, 30))
    assert not h.current_on(date(2021, 4, 30)) and not h.current_on(date(2026, 5, 1))
    revoked = h.revoked(date(2024, 1, 10))
    assert revoked.current_on(date(2024, 1, 9)) and not revoked.current_on(date(2024, 1, 10))


def test_renewal_needs_a_passed_assessment_and_runs_at_most_five_years_on() -> None:
    h = Honour(date(2021, 5, 1), date(2026, 4, 30))
    renewed = h.renewed(date(2026, 4, 1), True, date(2031, 4, 30))
    assert renewed.valid_until == date(2031, 4, 30) and renewed.current_on(date(2028, 1, 1))
    with pytest.raises(Conflict):
        h.renewed(date(2026, 4, 1), False, date(2031, 4, 30))
    with pytest.raises(InvalidInput):
        h.renewed(date(2026, 4, 1), True, date(2031, 5, 1))
    with pytest.raises(InvalidInput):
        h.renewed(date(2026, 4, 1), True, date(2026, 4, 30))  # not an extension
    lapsed = h.renewed(date(2027, 1, 1), True, date(2032, 1, 1))  # a lapsed title renews from today
    assert not lapsed.current_on(date(2032, 1, 2))


def test_a_revoked_title_is_neither_renewed_nor_revoked_again() -> None:
    revoked = Honour(date(2021, 5, 1), date(2026, 4, 30)).revoked(date(2023, 1, 1))
    with pytest.raises(Conflict):
        revoked.renewed(date(2023, 2, 1), True, date(2027, 1, 1))
    with pytest.raises(Conflict):
        revoked.revoked(date(2023, 2, 1))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 3000))
def test_no_term_longer_than_five_years_is_ever_accepted(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    if end <= latest_end(start):
        validate_term(start, end)
        assert (end - start).days <= MAX_TERM_YEARS * 366
    else:
        with pytest.raises(InvalidInput):
            validate_term(start, end)
