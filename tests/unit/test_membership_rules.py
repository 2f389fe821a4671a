import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.enrollment.domain import membership as rules
from shared.contracts.enrollment import MembershipStatus, PeriodEnd
from shared.errors import Conflict, InvalidInput

T0 = datetime(2026, 1, 1, tzinfo=UTC)
A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def joined() -> rules.Membership:
    return rules.enroll(uuid.uuid4(), A, T0)


def test_new_member_is_active_in_the_chosen_union() -> None:
    m = joined()
    assert m.status is MembershipStatus.ACTIVE
    assert m.base_union_id == A
    assert m.member_since == T0.date()


def test_transfer_closes_one_period_and_opens_the_next() -> None:
    m = rules.transfer(joined(), B, T0 + timedelta(days=30), "changed employer")
    assert [p.union_id for p in m.periods] == [A, B]
    assert m.periods[0].end_reason is PeriodEnd.TRANSFERRED
    assert m.status is MembershipStatus.ACTIVE
    assert m.member_since == T0.date()  # a transfer does not reset seniority
    assert m.gaps == []


def test_transfer_to_the_same_union_is_refused() -> None:
    with pytest.raises(Conflict, match="already belongs"):
        rules.transfer(joined(), A, T0, "x")


def test_leaving_needs_a_reason_and_derives_left() -> None:
    with pytest.raises(InvalidInput, match="reason"):
        rules.leave(joined(), T0, "   ")
    m = rules.leave(joined(), T0 + timedelta(days=1), "retired")
    assert m.status is MembershipStatus.LEFT
    assert m.periods[-1].end_note == "retired"


def test_a_left_member_cannot_transfer_or_leave_again() -> None:
    m = rules.leave(joined(), T0, "moved away")
    with pytest.raises(Conflict):
        rules.transfer(m, B, T0, "x")
    with pytest.raises(Conflict):
        rules.leave(m, T0, "again")


def test_reinstatement_keeps_the_gap_visible() -> None:
    left_at = T0 + timedelta(days=100)
    back_at = T0 + timedelta(days=200)
    m = rules.reinstate(rules.leave(joined(), left_at, "lost job"), C, back_at)
    assert m.status is MembershipStatus.ACTIVE
    assert m.base_union_id == C
    assert m.member_since == T0.date()
    assert m.gaps == [rules.Gap(left_at=left_at, returned_at=back_at)]


def test_an_active_member_cannot_be_reinstated() -> None:
    with pytest.raises(Conflict, match="already active"):
        rules.reinstate(joined(), B, T0)


def test_a_period_cannot_end_before_it_started() -> None:
    with pytest.raises(InvalidInput):
        rules.leave(joined(), T0 - timedelta(seconds=1), "x")


def test_status_follows_the_last_period_only() -> None:
    m = rules.reinstate(rules.leave(joined(), T0, "x"), A, T0 + timedelta(days=1))
    m = rules.leave(m, T0 + timedelta(days=2), "y")
    assert rules.derive_status(m.periods) is MembershipStatus.LEFT
    assert len(m.gaps) == 2 and m.gaps[-1].returned_at is None


def test_a_member_who_is_out_left_when_their_last_period_ended() -> None:
    left_at = T0 + timedelta(days=100)
    m = rules.leave(rules.transfer(joined(), B, T0 + timedelta(days=1), "x"), left_at, "lost job")
    assert rules.left_at(m) == left_at
    with pytest.raises(Conflict, match="already active"):
        rules.left_at(joined())
