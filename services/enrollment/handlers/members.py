"""Membership commands: leaving, reinstatement (transfers are requests: handlers/transfers.py;
erasure: handlers/erasure.py).
Each runs in one transaction: member, audit entry and outgoing event (through the outbox) commit
together."""

import uuid
from dataclasses import replace

from services.enrollment.domain.applications import require_base_union
from services.enrollment.domain.membership import leave, left_at, reinstate
from services.enrollment.handlers.common import (
    Deps,
    existing_member,
    existing_union,
    member_in_scope,
    require_scope,
)
from services.enrollment.handlers.transfers import withdraw_on_leaving
from services.enrollment.store import members
from shared import audit
from shared.auth import Caller
from shared.contracts.enrollment import MemberLeft, MemberReinstated
from shared.events import Trace


async def leave_member(deps: Deps, caller: Caller, member_id: uuid.UUID, reason: str) -> members.MemberRow:
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await member_in_scope(conn, caller, member_id, self_allowed=True, lock=True)
        left = replace(member, membership=leave(member.membership, now, reason))
        await withdraw_on_leaving(deps, conn, trace, member_id)
        await members.save_member(conn, left)
        version = await audit.record_and_next_version(
            conn, trace, member_id, "member.left", str(member_id), reason=reason
        )
        payload = MemberLeft(reason=reason.strip(), member=members.snapshot(left))
        await deps.events.emit(conn, trace, member_id, payload, version=version)
        return left


async def reinstate_member(
    deps: Deps, caller: Caller, member_id: uuid.UUID, union_id: uuid.UUID
) -> members.MemberRow:
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await existing_member(conn, member_id, lock=True)
        target = await existing_union(conn, union_id)
        require_scope(caller, target)  # the receiving union decides
        require_base_union(target.kind)
        back = replace(member, membership=reinstate(member.membership, union_id, now))
        await members.save_member(conn, back)
        version = await audit.record_and_next_version(
            conn, trace, member_id, "member.reinstated", str(member_id), union_id=union_id
        )
        reinstated = MemberReinstated(
            application_id=None, left_at=left_at(member.membership), reinstated_at=now,
            member=members.snapshot(back),
        )  # fmt: skip
        await deps.events.emit(conn, trace, member_id, reinstated, version=version)
        return back
