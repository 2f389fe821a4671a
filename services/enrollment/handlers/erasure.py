"""Erasure (删除个人信息, PIPL art. 47), on a cadre's or an admin's decision: of a former member, or
of an applicant who never became one. Ids, numbers, periods and what other services decided
stay; the person's key goes, so every sealed copy of their data (topics, replays) is unreadable,
and every service purges its copies on PersonErased."""

import os
import uuid
from datetime import datetime

import asyncpg

from services.enrollment.domain.erasure import require_erasable_applicant, require_erasable_member
from services.enrollment.handlers.common import Deps, existing_union, member_in_scope, require_scope
from services.enrollment.store import applications, links, members, person_keys, persons
from shared import audit
from shared.auth import Caller
from shared.contracts.enrollment import PersonErased
from shared.db import Conn
from shared.errors import NotFound
from shared.events import Trace


async def _erase(
    deps: Deps, conn: Conn, trace: Trace, person_id: uuid.UUID, action: str, reason: str
) -> None:
    now = deps.now()
    await members.erase_person(conn, person_id, now, os.urandom(32))
    await links.delete(conn, person_id)  # the account stays, linked to no one: it may verify afresh
    await deps.events.keys.erase(conn, person_id)
    # The entry names the person by id only: the trail outlives the person's data.
    version = await audit.record_and_next_version(
        conn, trace, person_id, action, str(person_id), reason=reason
    )
    await deps.events.emit(
        conn, trace, person_id, PersonErased(person_id=person_id, erased_at=now), version=version
    )


async def erase_member(deps: Deps, caller: Caller, member_id: uuid.UUID, reason: str) -> None:
    """A former member: while a member, the union needs who they are."""
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await member_in_scope(conn, caller, member_id, self_allowed=False, lock=True)
        pending = await applications.pending_application(conn, member_id) is not None
        require_erasable_member(member.membership.status, pending)
        await _erase(deps, conn, Trace.of(caller), member_id, "member.erased", reason)


async def erase_applicant(deps: Deps, caller: Caller, application_id: uuid.UUID, reason: str) -> None:
    """An applicant who never became a member (rejected), by one of their applications, for the
    cadres of the union it was filed with."""
    async with deps.pool.acquire() as conn, conn.transaction():
        application = await applications.get_application(conn, application_id, for_update=True)
        if application is None:
            raise NotFound(f"application {application_id} does not exist")
        require_scope(caller, await existing_union(conn, application.base_union_id))
        person_id = application.person_id
        await persons.lock_person(conn, person_id)
        require_erasable_applicant(
            is_member=await members.get_member(conn, person_id) is not None,
            application_pending=await applications.pending_application(conn, person_id) is not None,
            erased=await persons.is_erased(conn, person_id),
        )
        await _erase(deps, conn, Trace.of(caller), person_id, "applicant.erased", reason)


async def erase_again_after_a_restore(pool: asyncpg.Pool, now: datetime) -> int:
    """A restore to a point before an erasure brings the person's data back, while the topics
    already say they are erased (and consumers purged them): the erasure is applied again, at
    start, before any command. No new event: PersonErased and the key's erasure marker are out."""
    async with pool.acquire() as conn, conn.transaction():
        erased = await members.erased_on_the_topic_only(conn)
        trace = Trace("system:restore", str(uuid.uuid4()))
        for person_id in erased:
            await members.erase_person(conn, person_id, now, os.urandom(32))
            await links.delete(conn, person_id)
            await person_keys.delete_key(conn, person_id)
            await audit.record(conn, trace, "member.erased_again_after_restore", str(person_id))
    return len(erased)
