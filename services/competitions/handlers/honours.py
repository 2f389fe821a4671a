"""Honours held by members: granted directly (劳模, chosen by public review) or with an award;
renewed after a passed assessment for at most five years at a time; revoked. Each command runs
in one transaction with its trail and event (through the outbox)."""

import uuid
from dataclasses import dataclass, replace
from datetime import date

from services.competitions.domain.honours import Honour, validate_term
from services.competitions.handlers.common import Deps, union_path
from services.competitions.store import honours
from services.competitions.store.honours import HonourRow
from shared import audit, membership
from shared.auth import Caller
from shared.contracts.competitions import HonourGranted, HonourKind, HonourRenewed, HonourRevoked
from shared.db import Conn
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Trace, china_date


async def member_scope(conn: Conn, caller: Caller, member_id: uuid.UUID, *, read: bool = False) -> None:
    """Cadres above the member's union and admins; for reading, the member themself too."""
    if read and caller.principal.is_member(member_id):
        return
    member = await membership.get_member(conn, member_id)
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
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        await member_scope(conn, caller, h.member_id)
        member = await membership.get_member(conn, h.member_id)
        if member is None or not member.active:
            raise Conflict("titles go to members")
        honour = HonourRow(
            uuid.uuid4(), h.member_id, h.kind, h.title, h.granted_on, h.valid_until, None, None, None
        )
        await honours.insert_honour(conn, honour, None, caller.actor)
        await audit.record(
            conn, trace, "honour_granted", f"honour:{honour.honour_id}", member_id=str(h.member_id),
            kind=h.kind.value, title=h.title, valid_until=h.valid_until.isoformat(),
        )  # fmt: skip
        await deps.events.emit(
            conn, trace, h.member_id,
            HonourGranted(
                member_id=h.member_id, honour_id=honour.honour_id, kind=h.kind, title=h.title,
                granted_on=h.granted_on, valid_until=h.valid_until,
            ),
        )  # fmt: skip
    return honour


async def honour_or_404(conn: Conn, honour_id: uuid.UUID, *, for_update: bool = False) -> HonourRow:
    honour = await honours.get_honour(conn, honour_id, for_update=for_update)
    if honour is None:
        raise NotFound(f"honour {honour_id} does not exist")
    return honour


async def _honour_to_change(conn: Conn, caller: Caller, honour_id: uuid.UUID) -> HonourRow:
    honour = await honour_or_404(conn, honour_id, for_update=True)
    await member_scope(conn, caller, honour.member_id)
    return honour


async def renew_honour(
    deps: Deps, caller: Caller, honour_id: uuid.UUID, assessment_passed: bool, valid_until: date, note: str
) -> HonourRow:
    today = china_date(deps.now())
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        honour = await _honour_to_change(conn, caller, honour_id)
        term = Honour(honour.granted_on, honour.valid_until, honour.revoked_on)
        renewed = replace(honour, valid_until=term.renewed(today, assessment_passed, valid_until).valid_until)
        await honours.save_honour_term(conn, renewed)
        await audit.record(
            conn, trace, "honour_renewed", f"honour:{honour_id}", reason=note or None,
            assessment_passed=assessment_passed, before=honour.valid_until.isoformat(),
            after=valid_until.isoformat(),
        )  # fmt: skip
        await deps.events.emit(
            conn, trace, honour.member_id,
            HonourRenewed(
                member_id=honour.member_id, honour_id=honour_id, kind=honour.kind, title=honour.title,
                granted_on=honour.granted_on, valid_until=renewed.valid_until,
            ),
        )  # fmt: skip
    return renewed


async def revoke_honour(deps: Deps, caller: Caller, honour_id: uuid.UUID, reason: str) -> HonourRow:
    today = china_date(deps.now())
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        honour = await _honour_to_change(conn, caller, honour_id)
        term = Honour(honour.granted_on, honour.valid_until, honour.revoked_on).revoked(today)
        revoked = replace(honour, revoked_on=term.revoked_on)
        await honours.save_honour_term(conn, revoked)
        await audit.record(conn, trace, "honour_revoked", f"honour:{honour_id}", reason=reason)
        await deps.events.emit(
            conn, trace, honour.member_id,
            HonourRevoked(
                member_id=honour.member_id, honour_id=honour_id, kind=honour.kind, title=honour.title,
                revoked_on=today,
            ),
        )  # fmt: skip
    return revoked
