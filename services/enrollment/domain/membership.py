"""A membership as a list of periods in base unions; its status is derived, never typed in.

Joining opens a period, a transfer closes one and opens the next, leaving closes the last,
reinstatement opens a new one: the gap between leaving and returning stays visible.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from shared.contracts.enrollment import MembershipStatus, PeriodEnd
from shared.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class Period:
    union_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: PeriodEnd | None = None
    end_note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Gap:
    left_at: datetime
    returned_at: datetime | None


@dataclass(frozen=True)
class Membership:
    member_id: uuid.UUID
    periods: tuple[Period, ...]

    @property
    def status(self) -> MembershipStatus:
        return derive_status(self.periods)

    @property
    def base_union_id(self) -> uuid.UUID:
        return self.periods[-1].union_id

    @property
    def member_since(self) -> date:
        return self.periods[0].started_at.date()

    @property
    def gaps(self) -> list[Gap]:
        gaps: list[Gap] = []
        for i, period in enumerate(self.periods):
            if period.end_reason is PeriodEnd.LEFT and period.ended_at is not None:
                nxt = self.periods[i + 1].started_at if i + 1 < len(self.periods) else None
                gaps.append(Gap(left_at=period.ended_at, returned_at=nxt))
        return gaps


def derive_status(periods: tuple[Period, ...]) -> MembershipStatus:
    if not periods:
        raise ValueError("a membership has at least one period")
    return MembershipStatus.ACTIVE if periods[-1].is_open else MembershipStatus.LEFT


def _require_reason(reason: str, what: str) -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise InvalidInput(f"a reason is required to {what}")
    return cleaned


def _close_last(m: Membership, at: datetime, why: PeriodEnd, note: str) -> tuple[Period, ...]:
    last = m.periods[-1]
    if at < last.started_at:
        raise InvalidInput("a period cannot end before it started")
    return (*m.periods[:-1], replace(last, ended_at=at, end_reason=why, end_note=note))


def enroll(member_id: uuid.UUID, union_id: uuid.UUID, at: datetime) -> Membership:
    return Membership(member_id=member_id, periods=(Period(union_id=union_id, started_at=at),))


def transfer(m: Membership, to_union_id: uuid.UUID, at: datetime, reason: str) -> Membership:
    if m.status is not MembershipStatus.ACTIVE:
        raise Conflict(f"only an active member can transfer; this member is {m.status}")
    if to_union_id == m.base_union_id:
        raise Conflict("the member already belongs to that union")
    note = _require_reason(reason, "transfer")
    closed = _close_last(m, at, PeriodEnd.TRANSFERRED, note)
    return replace(m, periods=(*closed, Period(union_id=to_union_id, started_at=at)))


def leave(m: Membership, at: datetime, reason: str) -> Membership:
    if m.status is not MembershipStatus.ACTIVE:
        raise Conflict(f"only an active member can leave; this member is {m.status}")
    return replace(m, periods=_close_last(m, at, PeriodEnd.LEFT, _require_reason(reason, "leave")))


def left_at(m: Membership) -> datetime:
    """When a member who is out left (the end of their last period)."""
    last = m.periods[-1]
    if last.ended_at is None:
        raise Conflict("the member is already active")
    return last.ended_at


def reinstate(m: Membership, union_id: uuid.UUID, at: datetime) -> Membership:
    if m.status is MembershipStatus.ACTIVE:
        raise Conflict("the member is already active")
    return replace(m, periods=(*m.periods, Period(union_id=union_id, started_at=at)))
