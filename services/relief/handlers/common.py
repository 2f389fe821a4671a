"""What every relief handler shares: dependencies, who is acting, scope checks, emitting events."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from services.relief.domain.aid import aid_year
from services.relief.domain.tiers import ReliefPolicy
from services.relief.store import aid as qa
from services.relief.store import sequences
from services.relief.store.cases import CaseRow
from shared import membership_view as qm
from shared.auth import Caller, Principal, Role
from shared.contracts import new_envelope
from shared.contracts.envelope import EventPayload
from shared.contracts.relief import CaseSnapshot
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.outbox import enqueue
from shared.pii import PiiProtector

SOURCE = "relief"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    topic: str
    policy: ReliefPolicy
    pii: PiiProtector
    now: Callable[[], datetime] = field(default=_utcnow)


@dataclass(frozen=True)
class Trace:
    """Who did it and in answer to what: for the trail and for the events' envelopes."""

    actor: str
    correlation_id: str
    causation_id: str | None = None


def trace(caller: Caller) -> Trace:
    return Trace(caller.actor, caller.correlation_id)


def require_worker(caller: Caller, case: CaseRow) -> None:
    """Cadres (grid workers included) of the union following the case or above it, and admins."""
    if caller.principal.role is Role.MEMBER:
        raise Forbidden("only the cadres of the member's union work a relief case")
    if not caller.principal.covers_union(case.union_path):
        raise Forbidden("this case is outside your scope")


async def may_view(conn: Conn, principal: Principal, case: CaseRow) -> bool:
    """The member themself, the cadres working the case, and, while a transfer waits for it,
    the cadres of the receiving union (they decide whether to take it on)."""
    if principal.is_member(case.member_id) or principal.covers_union(case.union_path):
        return True
    if case.pending_transfer_to is not None and principal.role is Role.CADRE:
        target = await qm.get_union(conn, case.pending_transfer_to)
        return principal.covers_union(target.path if target else [case.pending_transfer_to])
    return False


async def union_path(conn: Conn, union_id: uuid.UUID) -> Sequence[uuid.UUID]:
    union = await qm.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} is not known to the relief service")
    return union.path


async def require_union_scope(conn: Conn, caller: Caller, union_id: uuid.UUID) -> None:
    if not caller.principal.covers_union(await union_path(conn, union_id)):
        raise Forbidden("this union is outside your scope")


async def snapshot(conn: Conn, case: CaseRow, now: datetime) -> CaseSnapshot:
    year = aid_year(now)
    return CaseSnapshot(
        case_id=case.case_id,
        member_id=case.member_id,
        status=case.status,
        tier=case.tier,
        union_id=case.union_id,
        aid_year=year,
        aid_paid_fen=await qa.paid_to_member(conn, case.member_id, year),
    )


async def emit(conn: Conn, deps: Deps, trace: Trace, member_id: uuid.UUID, payload: EventPayload) -> None:
    """Queue the event in the outbox, in the caller's transaction, with the member's next version."""
    envelope = new_envelope(
        payload,
        source=SOURCE,
        subject=str(member_id),
        subject_version=await sequences.next_event_version(conn, member_id),
        correlation_id=trace.correlation_id,
        causation_id=trace.causation_id,
    )
    await enqueue(conn, deps.topic, envelope)
