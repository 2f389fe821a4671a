"""The legal work queues, read for a cadre in their union's subtree (the scope of the case list;
supervision letters are the cadres' business as well); an admin names the union."""

import uuid
from datetime import timedelta

from services.legal.domain import queues as rules
from services.legal.handlers.common import Deps, require_union_scope
from services.legal.store import queues as store
from shared.auth import Caller
from shared.events import china_date
from shared.queues import QUEUE_CAP, QueueItem, by_urgency, queue_root


async def deadlines(deps: Deps, caller: Caller, union_id: uuid.UUID | None, days: int) -> list[QueueItem]:
    rules.require_days(days)
    root = queue_root(caller, union_id)
    today = china_date(deps.now())
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        await require_union_scope(conn, caller, root)
        due = await store.next_deadlines_until(conn, root, today + timedelta(days=days), QUEUE_CAP)
    return by_urgency(
        rules.deadline_item(
            case_id=d.case.case_id,
            case_no=d.case.case_no,
            union_id=d.case.union_id,
            kind=d.case.kind,
            stage=d.case.stage,
            name=d.name,
            due_on=d.due_on,
            today=today,
        )
        for d in due
        if rules.within(d.due_on, today, days)
    )


async def supervisions(deps: Deps, caller: Caller, union_id: uuid.UUID | None) -> list[QueueItem]:
    root = queue_root(caller, union_id)
    today = china_date(deps.now())
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        await require_union_scope(conn, caller, root)
        letters = await store.awaiting_reply(conn, root, QUEUE_CAP)
    return by_urgency(
        rules.supervision_item(
            supervision_id=s.supervision_id,
            union_id=s.union_id,
            employer=s.employer,
            reply_due=s.opinion_reply_due,
            today=today,
        )
        for s in letters
        if s.opinion_reply_due is not None
    )
