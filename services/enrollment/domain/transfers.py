"""Transfers (接转) between base unions, as a request the receiving union answers.

A member, or a cadre whose scope covers the member's union, asks; a cadre of the receiving union
accepts or declines; the one side that asked may withdraw; an unanswered request expires after
TRANSFER_WINDOW. The member moves only on acceptance. One exception: when both base unions hang
under the same parent union (two workplaces of one district or one park), that parent's cadres
answer for both sides anyway, so the request is accepted at once (`accepted_at_once`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from shared.auth import Principal, Role
from shared.contracts.enrollment import MembershipStatus, TransferStatus, UnionKind
from shared.errors import Conflict, Forbidden, InvalidInput

# How long the receiving union has to answer before the request lapses (about a month, the
# usual turnaround of a 接转 letter).
TRANSFER_WINDOW = timedelta(days=30)
REASON_MAX_LENGTH = 500
AUTO_ACCEPTED_BY = "rule:same-parent-union"
EXPIRED_BY = "scheduler"
WITHDRAWN_ON_LEAVING = "会员已退会"  # the reason given when leaving takes a pending request back


class Direction(StrEnum):
    """Which side of a union's inbox: requests to it (or below it), or from it."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


class Place(Protocol):
    """A union as the rules see it (the store's UnionRow is one)."""

    @property
    def union_id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> UnionKind: ...
    @property
    def parent_id(self) -> uuid.UUID | None: ...
    @property
    def path(self) -> Sequence[uuid.UUID]: ...


@dataclass(frozen=True)
class Transfer:
    transfer_id: uuid.UUID
    member_id: uuid.UUID
    from_union_id: uuid.UUID
    to_union_id: uuid.UUID
    status: TransferStatus
    reason: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    @property
    def is_pending(self) -> bool:
        return self.status is TransferStatus.PENDING


def clean_reason(reason: str, what: str) -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise InvalidInput(f"a reason is required to {what}")
    if len(cleaned) > REASON_MAX_LENGTH:
        raise InvalidInput(f"the reason is longer than {REASON_MAX_LENGTH} characters")
    return cleaned


def require_may_ask(principal: Principal, member_id: uuid.UUID, sender: Place) -> None:
    """The member themself, or a cadre whose scope covers the union the member leaves."""
    if principal.is_member(member_id) or principal.covers_union(sender.path):
        return
    raise Forbidden("only the member or a cadre of the member's union may ask for a transfer")


def require_may_decide(principal: Principal, receiver: Place) -> None:
    """A cadre whose scope covers the receiving union (an admin too)."""
    if principal.role is Role.MEMBER or not principal.covers_union(receiver.path):
        raise Forbidden("only a cadre of the receiving union may accept or decline this transfer")


def require_may_withdraw(principal: Principal, transfer: Transfer, sender: Place) -> None:
    """The sending side: the member themself or a cadre whose scope covers the sending union."""
    if principal.is_member(transfer.member_id) or principal.covers_union(sender.path):
        return
    raise Forbidden("only the member or a cadre of the sending union may withdraw this transfer")


def accepted_at_once(sender: Place, receiver: Place) -> bool:
    """The auto-accept rule: both base unions have the same parent union."""
    return sender.parent_id is not None and sender.parent_id == receiver.parent_id


def request(
    transfer_id: uuid.UUID,
    *,
    member_id: uuid.UUID,
    status: MembershipStatus,
    sender: Place,
    receiver: Place,
    pending: Transfer | None,
    reason: str,
    requested_by: str,
    at: datetime,
) -> Transfer:
    """A new request: pending, or accepted at once under the same-parent rule."""
    if status is not MembershipStatus.ACTIVE:
        raise Conflict(f"only an active member can transfer; this member is {status}")
    if receiver.kind is not UnionKind.BASE:
        raise InvalidInput(f"members transfer to a base union (基层工会), not a {receiver.kind} union")
    if receiver.union_id == sender.union_id:
        raise Conflict("the member already belongs to that union")
    if pending is not None:
        raise Conflict(
            "a transfer of this member is already waiting for its answer",
            transfer_id=str(pending.transfer_id),
        )
    t = Transfer(
        transfer_id=transfer_id, member_id=member_id, from_union_id=sender.union_id,
        to_union_id=receiver.union_id, status=TransferStatus.PENDING,
        reason=clean_reason(reason, "transfer"), requested_by=requested_by, requested_at=at,
        expires_at=at + TRANSFER_WINDOW,
    )  # fmt: skip
    return accept(t, AUTO_ACCEPTED_BY, at) if accepted_at_once(sender, receiver) else t


def _decide(t: Transfer, status: TransferStatus, by: str, at: datetime, reason: str | None) -> Transfer:
    if not t.is_pending:
        raise Conflict(f"this transfer is {t.status} already; only a pending one can be answered")
    return replace(t, status=status, decided_by=by, decided_at=at, decision_reason=reason)


def accept(t: Transfer, by: str, at: datetime) -> Transfer:
    return _decide(t, TransferStatus.ACCEPTED, by, at, None)


def decline(t: Transfer, by: str, at: datetime, reason: str) -> Transfer:
    return _decide(t, TransferStatus.DECLINED, by, at, clean_reason(reason, "decline a transfer"))


def withdraw(t: Transfer, by: str, at: datetime, reason: str | None) -> Transfer:
    cleaned = clean_reason(reason, "withdraw a transfer") if reason is not None else None
    return _decide(t, TransferStatus.WITHDRAWN, by, at, cleaned)


def expire(t: Transfer, at: datetime) -> Transfer:
    """The window ran out (the timer decides when; a late firing still expires it)."""
    return _decide(t, TransferStatus.EXPIRED, EXPIRED_BY, at, None)


def require_still_movable(t: Transfer, status: MembershipStatus, base_union_id: uuid.UUID) -> None:
    """At acceptance the member must still be active in the union the request left from."""
    if status is not MembershipStatus.ACTIVE:
        raise Conflict(f"the member is {status} now; this transfer can only be declined")
    if base_union_id != t.from_union_id:
        raise Conflict("the member has moved since the request; this transfer can only be declined")
