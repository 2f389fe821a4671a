"""Membership commands: leaving, reinstatement, erasure (transfers are requests: handlers/transfers.py).
Each runs in one transaction: member, audit entry and outgoing event (through the outbox) commit
together."""

import os
import uuid
from dataclasses import replace
from datetime import datetime

import asyncpg

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
from services.enrollment.store import applications, members, person_keys
from shared import audit
from shared.auth import Caller
from shared.contracts.enrollment import MemberLeft, MemberReinstated, MembershipStatus, PersonErased
from shared.errors import Conflict
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


async def erase_member(deps: Deps, caller: Caller, member_id: uuid.UUID, reason: str) -> None:
    """Erase a former member's personal data (PIPL art. 47), on a cadre's or an admin's decision.
    Only once they have left: while a member, the union needs who they are. Ids, numbers, periods
    and what other services decided stay; every service purges its copies on PersonErased."""
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await member_in_scope(conn, caller, member_id, self_allowed=False, lock=True)
        if member.membership.status is not MembershipStatus.LEFT:
            raise Conflict("only a member who has left may be erased; the member is still active")
        if await applications.pending_application(conn, member_id) is not None:
            # Approving it after the erasure would bring back a nameless member.
            raise Conflict("an application of this person is pending: decide it before the erasure")
        await members.erase_person(conn, member_id, now, os.urandom(32))
        # Every sealed copy of their name, masked ID and employer (topics, replays) goes with it.
        await deps.events.keys.erase(conn, member_id)
        # The entry names the member by id only: the trail outlives the person's data.
        version = await audit.record_and_next_version(
            conn, trace, member_id, "member.erased", str(member_id), reason=reason
        )
        await deps.events.emit(
            conn, trace, member_id, PersonErased(person_id=member_id, erased_at=now), version=version
        )


async def erase_again_after_a_restore(pool: asyncpg.Pool, now: datetime) -> int:
    """A restore to a point before an erasure brings the person's data back, while the topics
    already say they are erased (and consumers purged them): the erasure is applied again, at
    start, before any command. No new event: PersonErased and the key's erasure marker are out."""
    async with pool.acquire() as conn, conn.transaction():
        persons = await members.erased_on_the_topic_only(conn)
        trace = Trace("system:restore", str(uuid.uuid4()))
        for person_id in persons:
            await members.erase_person(conn, person_id, now, os.urandom(32))
            await person_keys.delete_key(conn, person_id)
            await audit.record(conn, trace, "member.erased_again_after_restore", str(person_id))
    return len(persons)
