"""The rules of a transfer request (接转): who asks, who answers, when it is accepted at once."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from services.enrollment.domain import transfers as rules
from shared.auth import Principal, Role
from shared.contracts.enrollment import (
    TRANSFER_STATUS_LABELS,
    MembershipStatus,
    TransferStatus,
    UnionKind,
)
from shared.errors import Conflict, Forbidden, InvalidInput

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
CITY, DISTRICT, OTHER_DISTRICT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MEMBER = uuid.uuid4()


@dataclass(frozen=True)
class U:
    parent_id: uuid.UUID | None
    path_above: Sequence[uuid.UUID]
    kind: UnionKind = UnionKind.BASE
    union_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def path(self) -> list[uuid.UUID]:
        return [*self.path_above, self.union_id]


LOGISTICS = U(DISTRICT, [CITY, DISTRICT])
RIDERS = U(DISTRICT, [CITY, DISTRICT])  # same parent as LOGISTICS
FACTORY = U(OTHER_DISTRICT, [CITY, OTHER_DISTRICT])


def cadre(union: uuid.UUID) -> Principal:
    return Principal(sub="c", role=Role.CADRE, union_id=union)


def member(member_id: uuid.UUID = MEMBER) -> Principal:
    return Principal(sub="m", role=Role.MEMBER, member_id=member_id)


def ask(
    receiver: U = FACTORY,
    *,
    sender: U = LOGISTICS,
    status: MembershipStatus = MembershipStatus.ACTIVE,
    pending: rules.Transfer | None = None,
    reason: str = "  换工作  ",
) -> rules.Transfer:
    return rules.request(
        uuid.uuid4(), member_id=MEMBER, status=status, sender=sender, receiver=receiver,
        pending=pending, reason=reason, requested_by="cadre:c", at=T0,
    )  # fmt: skip


def test_a_request_waits_for_the_receiving_union_for_the_named_window() -> None:
    t = ask()
    assert t.status is TransferStatus.PENDING and t.is_pending
    assert t.reason == "换工作"  # trimmed
    assert t.expires_at - t.requested_at == rules.TRANSFER_WINDOW == timedelta(days=30)
    assert (t.decided_by, t.decided_at) == (None, None)


def test_a_transfer_within_one_parent_is_accepted_at_once() -> None:
    t = ask(RIDERS)
    assert t.status is TransferStatus.ACCEPTED
    assert (t.decided_by, t.decided_at) == (rules.AUTO_ACCEPTED_BY, T0)
    assert rules.accepted_at_once(LOGISTICS, RIDERS) and not rules.accepted_at_once(LOGISTICS, FACTORY)


def test_top_level_unions_do_not_share_a_parent() -> None:
    a, b = U(None, []), U(None, [])
    assert not rules.accepted_at_once(a, b)


def test_only_an_active_member_transfers() -> None:
    with pytest.raises(Conflict, match="active"):
        ask(status=MembershipStatus.LEFT)


def test_the_receiving_union_is_a_base_union_other_than_the_current_one() -> None:
    with pytest.raises(InvalidInput, match="base union"):
        ask(U(CITY, [CITY], kind=UnionKind.COUNTY))
    with pytest.raises(Conflict, match="already belongs"):
        ask(LOGISTICS)


def test_one_pending_request_per_member() -> None:
    first = ask()
    with pytest.raises(Conflict, match="already waiting") as refused:
        ask(RIDERS, pending=first)
    assert refused.value.context == {"transfer_id": str(first.transfer_id)}


@pytest.mark.parametrize("reason", ["", "   ", "长" * 501])
def test_a_reason_is_required_and_bounded(reason: str) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        ask(reason=reason)
    assert ask(reason="长" * 500).reason == "长" * 500


def test_the_member_or_a_cadre_over_the_sending_union_may_ask() -> None:
    rules.require_may_ask(member(), MEMBER, LOGISTICS)
    rules.require_may_ask(cadre(LOGISTICS.union_id), MEMBER, LOGISTICS)
    rules.require_may_ask(cadre(CITY), MEMBER, LOGISTICS)
    for outsider in (member(uuid.uuid4()), cadre(FACTORY.union_id), cadre(OTHER_DISTRICT)):
        with pytest.raises(Forbidden):
            rules.require_may_ask(outsider, MEMBER, LOGISTICS)


def test_only_a_cadre_over_the_receiving_union_decides() -> None:
    rules.require_may_decide(cadre(FACTORY.union_id), FACTORY)
    rules.require_may_decide(cadre(OTHER_DISTRICT), FACTORY)
    rules.require_may_decide(Principal(sub="a", role=Role.ADMIN), FACTORY)
    for outsider in (cadre(LOGISTICS.union_id), cadre(DISTRICT), member()):
        with pytest.raises(Forbidden):
            rules.require_may_decide(outsider, FACTORY)


def test_the_sending_side_may_withdraw() -> None:
    t = ask()
    rules.require_may_withdraw(member(), t, LOGISTICS)
    rules.require_may_withdraw(cadre(DISTRICT), t, LOGISTICS)
    for outsider in (cadre(FACTORY.union_id), member(uuid.uuid4())):
        with pytest.raises(Forbidden):
            rules.require_may_withdraw(outsider, t, LOGISTICS)


def test_each_answer_closes_the_request_once() -> None:
    t = ask()
    later = T0 + timedelta(days=2)
    answers = [
        rules.accept(t, "cadre:x", later),
        rules.decline(t, "cadre:x", later, " 不在本单位 "),
        rules.withdraw(t, "member:m", later, None),
        rules.expire(t, later),
    ]
    assert [a.status for a in answers] == [
        TransferStatus.ACCEPTED, TransferStatus.DECLINED, TransferStatus.WITHDRAWN, TransferStatus.EXPIRED,
    ]  # fmt: skip
    assert answers[1].decision_reason == "不在本单位"
    assert answers[3].decided_by == rules.EXPIRED_BY
    for closed in answers:
        assert closed.decided_at == later
        with pytest.raises(Conflict, match="only a pending one"):
            rules.accept(closed, "cadre:x", later)
        with pytest.raises(Conflict):
            rules.expire(closed, later)


def test_a_decline_needs_a_reason() -> None:
    with pytest.raises(InvalidInput):
        rules.decline(ask(), "cadre:x", T0, " ")


def test_acceptance_needs_the_member_still_active_where_the_request_left_from() -> None:
    t = ask()
    rules.require_still_movable(t, MembershipStatus.ACTIVE, LOGISTICS.union_id)
    with pytest.raises(Conflict, match="left"):
        rules.require_still_movable(t, MembershipStatus.LEFT, LOGISTICS.union_id)
    with pytest.raises(Conflict, match="moved"):
        rules.require_still_movable(t, MembershipStatus.ACTIVE, RIDERS.union_id)


def test_every_status_has_a_chinese_label() -> None:
    assert TRANSFER_STATUS_LABELS == {
        TransferStatus.PENDING: "待接收", TransferStatus.ACCEPTED: "已接收", TransferStatus.DECLINED: "已拒绝",
        TransferStatus.WITHDRAWN: "已撤回", TransferStatus.EXPIRED: "已过期",
    }  # fmt: skip
