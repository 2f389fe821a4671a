"""The relief work queues, read for a cadre in their union's subtree (the same scope as the case
lists); an admin names the union. Read-only: each item points at the existing commands."""

import uuid
from datetime import timedelta

from services.relief.domain import queues as rules
from services.relief.handlers.common import Deps, require_union_scope
from services.relief.store import cases
from services.relief.store import queues as store
from shared.auth import Caller
from shared.events import china_date
from shared.queues import QUEUE_CAP, QueueItem, by_urgency, queue_root


async def approvals(deps: Deps, caller: Caller, union_id: uuid.UUID | None) -> list[QueueItem]:
    root = queue_root(caller, union_id)
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        await require_union_scope(conn, caller, root)
        pending = await store.pending_steps(conn, root, QUEUE_CAP)
    return by_urgency(
        rules.approval_item(
            case_id=p.case.case_id,
            union_id=p.case.union_id,
            member_name=p.case.member_name,
            step=p.step.step,
            requested_at=p.step.requested_at,
            requested_by=p.step.requested_by,
            actor=caller.actor,
        )
        for p in pending
    )


async def disclosures(deps: Deps, caller: Caller, union_id: uuid.UUID | None) -> list[QueueItem]:
    root = queue_root(caller, union_id)
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        await require_union_scope(conn, caller, root)
        until = now + timedelta(days=rules.DISCLOSURE_SOON_DAYS)
        ending = await store.disclosures_ending(conn, root, until, QUEUE_CAP)
        objections = await store.unanswered_objections(conn, root, QUEUE_CAP)
    items = []
    for d in ending:
        c = d.case
        assert c.disclosure_ends_at is not None  # in disclosure: the window is set
        items.append(
            rules.disclosure_item(
                case_id=c.case_id,
                union_id=c.union_id,
                member_name=c.member_name,
                disclosure_no=c.disclosure_no or "",
                ends_at=c.disclosure_ends_at,
                unanswered=d.unanswered,
                now=now,
            )
        )
    for o in objections:
        c = o.case
        items.append(
            rules.objection_item(
                case_id=c.case_id,
                objection_id=o.objection.objection_id,
                union_id=c.union_id,
                member_name=c.member_name,
                disclosure_no=c.disclosure_no,
                disclosure_ends_at=c.disclosure_ends_at,
                raised_at=o.objection.raised_at,
            )
        )
    return by_urgency(items)


async def reverifications(
    deps: Deps, caller: Caller, union_id: uuid.UUID | None, ahead_days: int
) -> list[QueueItem]:
    root = queue_root(caller, union_id)
    today = china_date(deps.now())
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        await require_union_scope(conn, caller, root)
        due = await cases.due_reviews(conn, root, today + timedelta(days=ahead_days), QUEUE_CAP)
    return by_urgency(
        rules.review_item(
            case_id=c.case_id,
            union_id=c.union_id,
            member_name=c.member_name,
            due_on=c.next_review_due,
            today=today,
        )
        for c in due
        if c.next_review_due is not None
    )


async def programmes(deps: Deps, caller: Caller, union_id: uuid.UUID | None) -> list[QueueItem]:
    """送温暖 lists to approve, 金秋助学 applications to review and objections to answer."""
    root = queue_root(caller, union_id)
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        await require_union_scope(conn, caller, root)
        lists = await store.submitted_lists(conn, root, QUEUE_CAP)
        applications = await store.applications_to_review(conn, root, QUEUE_CAP)
        objections = await store.aid_objections_to_answer(conn, root, QUEUE_CAP)
    items = [
        rules.campaign_list_item(
            list_id=s.list.list_id,
            union_id=s.list.union_id,
            union_name=s.list.union_name,
            campaign_title=s.list.campaign_title,
            campaign_ends_on=s.campaign_ends_on,
            included_count=s.list.included_count,
            total_fen=s.list.total_fen,
            submitted_by=s.list.submitted_by,
            actor=caller.actor,
        )
        for s in lists
    ]
    items += [
        rules.student_aid_item(
            application_id=a.application_id,
            union_id=a.union_id,
            union_name=a.union_name,
            window_title=a.window_title,
            member_name=a.member_name,
            student_name=a.student_name,
            school_type=a.school_type,
            amount_fen=a.amount_fen,
            filed_at=a.filed_at,
            filed_by=a.filed_by,
            actor=caller.actor,
        )
        for a in applications
    ]
    items += [
        rules.student_aid_objection_item(
            objection_id=o.objection.objection_id,
            application_id=o.application.application_id,
            union_id=o.application.union_id,
            window_title=o.application.window_title,
            student_name=o.application.student_name,
            disclosure_ends_at=o.application.disclosure_ends_at,
            raised_at=o.objection.raised_at,
        )
        for o in objections
    ]
    return by_urgency(items)
