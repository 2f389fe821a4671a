"""The greeter's use cases, each in one transaction: schedule on joining, welcome when due, read."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
from pydantic import BaseModel, ConfigDict

from shared import audit, membership, timers
from shared.audit import TrailEntry
from shared.auth import Caller
from shared.contracts.enrollment import MemberSnapshot
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.events import Clock, EventWriter, Trace, utcnow
from tests.kit_example import domain, store
from tests.kit_example.contracts import WelcomeDue

WELCOME = "greeter.welcome"


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    events: EventWriter
    delay: timedelta
    now: Clock = field(default=utcnow)


async def member_changed(deps: Deps, conn: Conn, trace: Trace, member: MemberSnapshot) -> None:
    now = deps.now()
    welcomed = await store.get_welcome(conn, member.member_id) is not None
    due_at = domain.welcome_due_at(member, welcomed, now, deps.delay)
    if due_at is None:
        return
    await store.add_welcome(conn, member.member_id, member.base_union_id, now, due_at)
    subject = f"member:{member.member_id}"
    await timers.schedule(
        conn, [timers.Timer(uuid.uuid4(), WELCOME, subject, due_at, {"member_id": str(member.member_id)})]
    )
    await audit.record(conn, trace, "welcome.scheduled", subject, record_id=member.member_id, due_at=due_at)


async def welcome(deps: Deps, conn: Conn, timer: timers.Timer) -> None:
    member_id = uuid.UUID(timer.payload["member_id"])
    row = await store.get_welcome(conn, member_id)
    assert row is not None, "a welcome timer is scheduled with its welcome"
    await store.mark_done(conn, member_id, deps.now())
    trace = Trace("greeter:timer", f"timer:{timer.timer_id}")
    await deps.events.emit(
        conn,
        trace,
        member_id,
        WelcomeDue(member_id=member_id, union_id=row["union_id"], due_at=row["due_at"]),
    )
    await audit.record(conn, trace, "welcome.due", timer.subject, record_id=member_id)


class WelcomeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    member_id: uuid.UUID
    due_at: datetime
    done_at: datetime | None
    trail: list[TrailEntry] = []


async def view_welcome(deps: Deps, caller: Caller, member_id: uuid.UUID) -> WelcomeOut:
    async with deps.pool.acquire() as conn:
        row = await store.get_welcome(conn, member_id)
        if row is None:
            raise NotFound(f"no welcome for member {member_id}")
        union = await membership.get_union(conn, row["union_id"])
        if not caller.principal.is_member(member_id) and not caller.principal.covers_union(
            union.path if union else []
        ):
            raise Forbidden("this member is outside your scope")
        out = WelcomeOut.model_validate(dict(row))
        out.trail = await audit.trail_of_record(conn, member_id)
        return out
