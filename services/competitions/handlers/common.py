"""What every competitions handler shares: dependencies, who is acting, scope checks, emitting
events, the trail."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import asyncpg

from services.competitions.store import competitions as q
from services.competitions.store import sequences
from services.competitions.store.competitions import CompetitionRow
from shared import membership_view as qm
from shared.auth import Caller, Role
from shared.contracts import new_envelope
from shared.contracts.envelope import EventPayload
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.outbox import enqueue

SOURCE = "competitions"
CHINA = timezone(timedelta(hours=8))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def china_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    topic: str
    blind_key: bytes  # keys the encrypted entry numbers judges see
    now: Callable[[], datetime] = field(default=_utcnow)


@dataclass(frozen=True)
class Trace:
    """Who did it and in answer to what: for the trail and for the events' envelopes."""

    actor: str
    correlation_id: str
    causation_id: str | None = None


def trace(caller: Caller) -> Trace:
    return Trace(caller.actor, caller.correlation_id)


async def union_path(conn: Conn, union_id: uuid.UUID) -> list[uuid.UUID]:
    union = await qm.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} is not known to the competitions service")
    return union.path


def require_organiser(caller: Caller, competition: CompetitionRow) -> None:
    """Cadres of the organising union or above it, and admins."""
    if not caller.principal.covers_union(competition.union_path):
        raise Forbidden("this competition is outside your scope")


def require_cadre(caller: Caller) -> None:
    if caller.principal.role is not Role.CADRE:
        raise Forbidden("judges are cadres named on the stage's panel")


async def competition_or_404(conn: Conn, competition_id: uuid.UUID) -> CompetitionRow:
    competition = await q.get_competition(conn, competition_id)
    if competition is None:
        raise NotFound(f"competition {competition_id} does not exist")
    return competition


async def audit(
    conn: Conn,
    trace: Trace,
    action: str,
    competition_id: uuid.UUID | None,
    subject: str,
    reason: str | None = None,
    **detail: Any,
) -> None:
    await q.audit(conn, trace.actor, action, competition_id, subject, trace.correlation_id, reason, **detail)


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
