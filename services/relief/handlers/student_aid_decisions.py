"""金秋助学 decisions: review (four eyes), public disclosure and its objections, the durable
timers that close a window and end a disclosure, and payment from a tuition budget (the budget
guard of store/aid.py, once per Idempotency-Key), which publishes ProgrammeAidPaid with the
member's receipts whole."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.relief.domain import student_aid as rules
from services.relief.domain.aid import aid_year, check_idempotency_key
from services.relief.domain.student_aid import AfterDisclosure, ApplicationStatus, Step
from services.relief.handlers.common import Deps, require_union_scope
from services.relief.handlers.student_aid import (
    DISCLOSURE_END,
    WINDOW_CLOSE,
    ApplicationView,
    application_subject,
    view_application,
    window_subject,
)
from services.relief.store import aid, receipts
from services.relief.store import student_aid as store
from services.relief.store.student_aid import ApplicationRow, ObjectionRow
from shared import audit, membership, timers
from shared.auth import Caller, Role
from shared.contracts.relief import AidType
from shared.contracts.relief_programmes import Programme, ProgrammeAidPaid, ProgrammeReceipt
from shared.db import Conn
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Trace
from shared.timers import FireTimer, Timer


async def _to_work(conn: Conn, caller: Caller, application_id: uuid.UUID) -> ApplicationRow:
    """The application, locked, if the caller is a cadre of its union (or above) or an admin."""
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden("只有工会干部可以办理金秋助学")
    a = await store.get_application(conn, application_id, for_update=True)
    if a is None or not caller.principal.covers_union(a.union_path):
        raise NotFound("申请不存在")
    return a


async def _audit(
    conn: Conn, trace: Trace, action: str, a: ApplicationRow, reason: str | None = None, **detail: Any
) -> None:
    await audit.record(
        conn, trace, action, application_subject(a.application_id), record_id=a.application_id, reason=reason,
        **detail,
    )  # fmt: skip


async def review(
    deps: Deps, caller: Caller, application_id: uuid.UUID, approve: bool, reason: str
) -> ApplicationView:
    """Approve: the disclosure starts (its end is a durable timer); decline: with a reason."""
    cleaned = rules.review_reason(approve, reason)
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        a = await _to_work(conn, caller, application_id)
        rules.require_other_reviewer(a.filed_by, caller.actor)
        status = rules.next_status(a.status, Step.APPROVE_REVIEW if approve else Step.DECLINE_REVIEW)
        ends_at = None
        if approve:
            window = await store.get_window(conn, a.window_id)
            assert window is not None
            ends_at = rules.disclosure_end(now, window.disclosure_days)
            await timers.schedule(
                conn,
                [Timer(uuid.uuid4(), DISCLOSURE_END, application_subject(a.application_id), ends_at,
                       {"application_id": str(a.application_id)})],
            )  # fmt: skip
        await store.review(conn, a.application_id, status, cleaned or None, caller.actor, now, ends_at)
        await _audit(
            conn, Trace.of(caller), "student_aid.reviewed", a, cleaned or None, approve=approve,
            status=status.value, disclosure_ends_at=ends_at,
        )  # fmt: skip
        return await view_application(conn, caller, application_id)


async def raise_objection(deps: Deps, caller: Caller, application_id: uuid.UUID, text: str) -> ObjectionRow:
    """Anyone the disclosure is shown to: members of the window's union subtree, its cadres."""
    cleaned = rules.clean(text, "异议内容", limit=2000)
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        a = await store.get_application(conn, application_id, for_update=True)
        if a is None:
            raise NotFound("申请不存在")
        window = await store.get_window(conn, a.window_id)
        assert window is not None
        p = caller.principal
        if p.role is Role.MEMBER and p.member_id is not None:
            member = await membership.get_member(conn, p.member_id)
            union = await membership.get_union(conn, member.base_union_id) if member else None
            if member is None or window.union_id not in (union.path if union else [member.base_union_id]):
                raise NotFound("申请不存在")
        elif not (p.covers_union(a.union_path) or p.covers_union(window.union_path)):
            raise NotFound("申请不存在")
        rules.next_status(a.status, Step.OBJECT)
        rules.require_disclosure_running(now, a.disclosure_ends_at)
        objection = await store.insert_objection(conn, application_id, cleaned, caller.actor, now)
        await _audit(
            conn, Trace.of(caller), "student_aid.objection_raised", a, cleaned,
            objection_id=str(objection.objection_id),
        )  # fmt: skip
        return objection


async def answer_objection(
    deps: Deps, caller: Caller, objection_id: uuid.UUID, upheld: bool, answer: str
) -> ObjectionRow:
    """Upheld: the application is declined. Not upheld after the disclosure ended with nothing
    else waiting: it is approved now (the timer found the objection waiting)."""
    cleaned = rules.clean(answer, "答复", limit=2000)
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        found = await store.get_objection(conn, objection_id)
        if found is None:
            raise NotFound("异议不存在")
        a = await _to_work(conn, caller, found.application_id)
        objection = await store.get_objection(conn, objection_id)  # again, under the application's lock
        assert objection is not None
        rules.require_unanswered(objection.answered_at)
        answered = await store.answer_objection(conn, objection_id, upheld, cleaned, caller.actor, now)
        await _audit(
            conn,
            trace,
            "student_aid.objection_answered",
            a,
            cleaned,
            objection_id=str(objection_id),
            upheld=upheld,
        )
        if upheld:
            if a.status is ApplicationStatus.IN_DISCLOSURE:
                status = rules.next_status(a.status, Step.UPHOLD_OBJECTION)
                await store.set_status(conn, a.application_id, status, now, reason=f"公示异议成立: {cleaned}")
                await _audit(conn, trace, "student_aid.declined", a, cleaned, objection_id=str(objection_id))
        else:
            await _end_disclosure_if_due(conn, trace, a, now)
        return answered


async def _end_disclosure_if_due(conn: Conn, trace: Trace, a: ApplicationRow, now: datetime) -> None:
    unanswered = await store.unanswered_objections(conn, a.application_id)
    decision = rules.after_disclosure(a.status, now, a.disclosure_ends_at, unanswered)
    if decision is AfterDisclosure.APPROVE:
        status = rules.next_status(a.status, Step.END_DISCLOSURE)
        await store.set_status(conn, a.application_id, status, now)
        await _audit(conn, trace, "student_aid.approved", a, status=status.value)
    elif (
        decision is AfterDisclosure.WAIT and a.disclosure_ends_at is not None and now >= a.disclosure_ends_at
    ):
        await _audit(conn, trace, "student_aid.disclosure_waiting", a, unanswered_objections=unanswered)


# The durable timers ---------------------------------------------------------------------------


def student_aid_timers(deps: Deps) -> dict[str, FireTimer]:
    """What firing each of 金秋助学's timer kinds means (run in the transaction marking it fired)."""

    async def close_window(conn: Conn, timer: Timer) -> None:
        window_id = uuid.UUID(timer.payload["window_id"])
        if await store.close_window(conn, window_id, deps.now()):
            await audit.record(
                conn, Trace(actor="scheduler", correlation_id=timer.subject), "student_aid.window_closed",
                window_subject(window_id), record_id=window_id,
            )  # fmt: skip

    async def end_disclosure(conn: Conn, timer: Timer) -> None:
        application_id = uuid.UUID(timer.payload["application_id"])
        a = await store.get_application(conn, application_id, for_update=True)
        if a is not None:
            trace = Trace(actor="scheduler", correlation_id=timer.subject)
            await _end_disclosure_if_due(conn, trace, a, deps.now())

    return {WINDOW_CLOSE: close_window, DISCLOSURE_END: end_disclosure}


# Payment --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paid:
    application: ApplicationView
    replayed: bool  # the same request came before: its result, nothing new was paid


async def pay(
    deps: Deps, caller: Caller, application_id: uuid.UUID, key: str | None, budget_union_id: uuid.UUID | None
) -> Paid:
    checked_key = check_idempotency_key(key)
    fingerprint = rules.payment_fingerprint(application_id, budget_union_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        # Requests with one key queue here, so a retry racing its original sees its result.
        await aid.lock_idempotency_key(conn, checked_key)
        first = await store.application_by_key(conn, checked_key)
        if first is not None:
            assert first.request_hash is not None
            rules.same_request(first.request_hash, fingerprint)
            return Paid(await view_application(conn, caller, first.application_id), replayed=True)
        await _pay(conn, deps, caller, application_id, checked_key, budget_union_id, fingerprint)
        return Paid(await view_application(conn, caller, application_id), replayed=False)


async def _pay(
    conn: Conn,
    deps: Deps,
    caller: Caller,
    application_id: uuid.UUID,
    key: str,
    budget_union_id: uuid.UUID | None,
    fingerprint: bytes,
) -> None:
    now = deps.now()
    a = await _to_work(conn, caller, application_id)
    if a.status is ApplicationStatus.PAID:
        raise Conflict("该申请已发放", paid_at=a.paid_at.isoformat() if a.paid_at else None)
    rules.next_status(a.status, Step.PAY)
    paying = budget_union_id or a.union_id
    rules.require_budget_union(paying, a.union_path)
    await require_union_scope(conn, caller, paying)
    year = aid_year(now)
    drawn = await aid.draw(conn, paying, year, AidType.TUITION, a.amount_fen)
    if drawn is None:
        current = await aid.get_budget(conn, paying, year, AidType.TUITION)
        if current is None:
            raise Conflict(f"该工会未设定 {year} 年助学 (tuition) 预算", remaining_fen=0)
        raise Conflict(
            f"超出助学预算: 剩余 {current.remaining_fen / 100:.2f} 元, 本次 {a.amount_fen / 100:.2f} 元",
            remaining_fen=current.remaining_fen,
            total_fen=current.total_fen,
        )
    payment_id = uuid.uuid4()
    await store.mark_paid(conn, a.application_id, payment_id, paying, caller.actor, now, key, fingerprint)
    receipt = ProgrammeReceipt(
        payment_id=payment_id, programme=Programme.STUDENT_AID, source_id=a.window_id, title=a.window_title,
        amount_fen=a.amount_fen, paid_at=now, paying_union_id=paying,
    )  # fmt: skip
    await receipts.insert_receipt(conn, a.member_id, receipt)
    trace = Trace.of(caller)
    await _audit(
        conn, trace, "student_aid.paid", a, payment_id=str(payment_id), amount_fen=a.amount_fen, year=year,
        budget_union_id=str(paying), budget_remaining_fen=drawn.remaining_fen,
    )  # fmt: skip
    member = await membership.get_member(conn, a.member_id)
    await deps.events.emit(
        conn, trace, a.member_id,
        ProgrammeAidPaid(
            member_id=a.member_id, base_union_id=member.base_union_id if member else a.union_id,
            group=a.school_type, payment=receipt, receipts=await receipts.receipts_of(conn, a.member_id),
        ),
    )  # fmt: skip
