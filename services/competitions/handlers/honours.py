"""Honours held by members: granted directly (劳模, chosen by public review) or with an award;
renewed after a passed assessment for at most five years at a time; revoked. Only titles valid on
a date are current on it."""

import uuid
from dataclasses import dataclass, replace
from datetime import date

from services.competitions.domain.honours import Honour, validate_term
from services.competitions.handlers.common import Deps, audit, china_date, emit, trace, union_path
from services.competitions.store import competitions as q
from services.competitions.store.competitions import HonourRow
from shared import membership_view as qm
from shared.auth import Caller
from shared.contracts.competitions import HonourGranted, HonourKind, HonourRenewed, HonourRevoked
from shared.db import Conn
from shared.errors import Conflict, Forbidden, NotFound


async def _member_scope(conn: Conn, caller: Caller, member_id: uuid.UUID, *, read: bool = False) -> None:
    if read and caller.principal.is_member(member_id):
        return
    member = await qm.get_member(conn, member_id)
    if member is None:
        raise NotFound(f"member {member_id} is not known to the competitions service")
    if not caller.principal.covers_union(await union_path(conn, member.base_union_id)):
        raise Forbidden("this member is outside your scope")


@dataclass(frozen=True)
class NewHonour:
    member_id: uuid.UUID
    kind: HonourKind
    title: str
    granted_on: date
    valid_until: date


async def grant_honour(deps: Deps, caller: Caller, h: NewHonour) -> HonourRow:
    validate_term(h.granted_on, h.valid_until)
    async with deps.pool.acquire() as conn, conn.transaction():
        await _member_scope(conn, caller, h.member_id)
        member = await qm.get_member(conn, h.member_id)
        if member is None or not member.active:
            raise Conflict("titles go to members")
        honour = HonourRow(
            uuid.uuid4(), h.member_id, h.kind, h.title, h.granted_on, h.valid_until, None, None, None
        )
        await q.insert_honour(conn, honour, None, caller.actor)
        await audit(
            conn, trace(caller), "honour_granted", None, f"honour:{honour.honour_id}",
            member_id=str(h.member_id), kind=h.kind.value, title=h.title,
            valid_until=h.valid_until.isoformat(),
        )  # fmt: skip
        await emit(
            conn, deps, trace(caller), h.member_id,
            HonourGranted(
                member_id=h.member_id, honour_id=honour.honour_id, kind=h.kind, title=h.title,
                granted_on=h.granted_on, valid_until=h.valid_until,
            ),
        )  # fmt: skip
    return honour


async def _honour_to_change(conn: Conn, caller: Caller, honour_id: uuid.UUID) -> HonourRow:
    honour = await q.get_honour(conn, honour_id, for_update=True)
    if honour is None:
        raise NotFound(f"honour {honour_id} does not exist")
    await _member_scope(conn, caller, honour.member_id)
    return honour


async def renew_honour(
    deps: Deps, caller: Caller, honour_id: uuid.UUID, assessment_passed: bool, valid_until: date, note: str
) -> HonourRow:
    today = china_date(deps.now())
    async with deps.pool.acquire() as conn, conn.transaction():
        honour = await _honour_to_change(conn, caller, honour_id)
        term = Honour(honour.granted_on, honour.valid_until, honour.revoked_on)
        renewed = replace(honour, valid_until=term.renewed(today, assessment_passed, valid_until).valid_until)
        await q.save_honour_term(conn, renewed)
        await audit(
            conn, trace(caller), "honour_renewed", None, f"honour:{honour_id}", note or None,
            assessment_passed=assessment_passed, before=honour.valid_until.isoformat(),
            after=valid_until.isoformat(),
        )  # fmt: skip
        await emit(
            conn, deps, trace(caller), honour.member_id,
            HonourRenewed(
                member_id=honour.member_id, honour_id=honour_id, kind=honour.kind, title=honour.title,
                granted_on=honour.granted_on, valid_until=renewed.valid_until,
            ),
        )  # fmt: skip
    return renewed


async def revoke_honour(deps: Deps, caller: Caller, honour_id: uuid.UUID, reason: str) -> HonourRow:
    today = china_date(deps.now())
    async with deps.pool.acquire() as conn, conn.transaction():
        honour = await _honour_to_change(conn, caller, honour_id)
        term = Honour(honour.granted_on, honour.valid_until, honour.revoked_on).revoked(today)
        revoked = replace(honour, revoked_on=term.revoked_on)
        await q.save_honour_term(conn, revoked)
        await audit(conn, trace(caller), "honour_revoked", None, f"honour:{honour_id}", reason)
        await emit(
            conn, deps, trace(caller), honour.member_id,
            HonourRevoked(
                member_id=honour.member_id, honour_id=honour_id, kind=honour.kind, title=honour.title,
                revoked_on=today,
            ),
        )  # fmt: skip
    return revoked


async def current_honours(
    deps: Deps, caller: Caller, member_id: uuid.UUID, on: date | None
) -> list[HonourRow]:
    async with deps.pool.acquire() as conn:
        await _member_scope(conn, caller, member_id, read=True)
        return await q.current_honours(conn, member_id, on or china_date(deps.now()))


async def honour_trail(deps: Deps, caller: Caller, honour_id: uuid.UUID) -> list[q.TrailEntry]:
    async with deps.pool.acquire() as conn:
        honour = await q.get_honour(conn, honour_id)
        if honour is None:
            raise NotFound(f"honour {honour_id} does not exist")
        await _member_scope(conn, caller, honour.member_id)
        return await q.trail_of_subject(conn, f"honour:{honour_id}")
