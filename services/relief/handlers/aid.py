"""Budgets and disbursements. A disbursement never overdraws its budget, even under concurrent
requests (a conditional UPDATE in SQL), is paid once however often it is retried (its
Idempotency-Key), and some aid at most once per member per year (a unique index)."""

import uuid
from dataclasses import dataclass

import asyncpg

from services.relief.domain import lifecycle
from services.relief.domain.aid import (
    ONCE_PER_YEAR,
    aid_year,
    check_amount,
    check_budget_total,
    check_idempotency_key,
    check_year,
    request_fingerprint,
    require_budget_in_path,
    require_in_plan,
    require_same_request,
)
from services.relief.domain.intake import clean_text
from services.relief.domain.lifecycle import Action
from services.relief.handlers.common import (
    Deps,
    existing_case,
    publish,
    require_union_scope,
    require_worker,
)
from services.relief.store import aid, cases
from services.relief.store.aid import BudgetRow, DisbursementRow
from shared import audit
from shared.auth import Caller
from shared.contracts.relief import AidDisbursed, AidType, BudgetSet, CaseStatus, budget_subject
from shared.db import Conn
from shared.errors import Conflict
from shared.events import Trace, utcnow

ONCE_PER_YEAR_INDEX = "once_per_member_per_year"


async def set_budget(
    deps: Deps, caller: Caller, union_id: uuid.UUID, year: int, aid_type: AidType, total_fen: int
) -> BudgetRow:
    """Set a union's yearly budget for one aid type (a cadre of that union or above, or an admin)."""
    check_year(year)
    async with deps.pool.acquire() as conn, conn.transaction():
        await require_union_scope(conn, caller, union_id)
        current = await aid.get_budget(conn, union_id, year, aid_type, for_update=True)
        check_budget_total(total_fen, current.budget.spent_fen if current else 0)
        try:
            budget = await aid.set_budget_total(conn, union_id, year, aid_type, total_fen, caller.actor)
        except asyncpg.CheckViolationError as exc:  # spent grew between the check and the write
            raise Conflict("the budget cannot be set below what is already spent") from exc
        await audit.record(
            conn, Trace.of(caller), "budget.set", f"budget:{union_id}/{year}/{aid_type}", total_fen=total_fen,
            previous_total_fen=current.budget.total_fen if current else None,
        )  # fmt: skip
        # Published for the federation's statistics (paid against budget: services/reports).
        await deps.events.emit(
            conn, Trace.of(caller), budget_subject(union_id, year, aid_type),
            BudgetSet(union_id=union_id, year=year, aid_type=aid_type, total_fen=total_fen, set_at=utcnow()),
        )  # fmt: skip
        return budget


async def list_budgets(deps: Deps, caller: Caller, union_id: uuid.UUID, year: int) -> list[BudgetRow]:
    check_year(year)
    async with deps.pool.acquire() as conn:
        await require_union_scope(conn, caller, union_id)
        return await aid.budgets_of(conn, union_id, year)


@dataclass(frozen=True)
class DisbursementForm:
    aid_type: AidType
    amount_fen: int
    note: str
    budget_union_id: uuid.UUID | None  # None: the budget of the union following the case


@dataclass(frozen=True)
class DisbursementResult:
    disbursement: DisbursementRow
    replayed: bool  # True: the same request came before; this is its result, nothing new was paid


async def disburse(
    deps: Deps, caller: Caller, case_id: uuid.UUID, idempotency_key: str | None, form: DisbursementForm
) -> DisbursementResult:
    key = check_idempotency_key(idempotency_key)
    check_amount(form.amount_fen)
    note = clean_text(form.note, "the note", limit=500)
    fingerprint = request_fingerprint(
        case_id, form.aid_type, form.amount_fen, form.budget_union_id or uuid.UUID(int=0), note
    )
    async with deps.pool.acquire() as conn:
        try:
            async with conn.transaction():
                # Requests with one key queue here, so a retry racing its original sees its result.
                await aid.lock_idempotency_key(conn, key)
                first = await aid.disbursement_by_key(conn, key)
                if first is None:
                    paid = await _pay(conn, deps, caller, case_id, key, form, note, fingerprint)
                    return DisbursementResult(paid, replayed=False)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == ONCE_PER_YEAR_INDEX:
                raise Conflict(
                    f"{form.aid_type} aid is paid at most once per member per year, and this member "
                    f"already had it in {aid_year(deps.now())}"
                ) from exc
            raise
        assert first is not None
        require_same_request(first.request_hash, fingerprint)
        require_worker(caller, await existing_case(conn, first.case_id))
        return DisbursementResult(first, replayed=True)


async def _pay(
    conn: Conn,
    deps: Deps,
    caller: Caller,
    case_id: uuid.UUID,
    key: str,
    form: DisbursementForm,
    note: str,
    fingerprint: bytes,
) -> DisbursementRow:
    now = deps.now()
    year = aid_year(now)
    # No lock on the case yet: the budget row is the first lock taken, so concurrent payments
    # from one budget queue on it and the conditional UPDATE alone keeps them within the total.
    case = await existing_case(conn, case_id)
    require_worker(caller, case)
    lifecycle.next_status(case.status, Action.DISBURSE)
    require_in_plan(form.aid_type, case.plan_aid)
    budget_union_id = form.budget_union_id or case.union_id
    require_budget_in_path(budget_union_id, case.union_path)
    await require_union_scope(conn, caller, budget_union_id)

    drawn = await aid.draw(conn, budget_union_id, year, form.aid_type, form.amount_fen)
    if drawn is None:
        current = await aid.get_budget(conn, budget_union_id, year, form.aid_type)
        if current is None:
            raise Conflict(f"no {year} {form.aid_type} budget is set for that union")
        raise Conflict(
            current.budget.refusal(form.amount_fen),
            remaining_fen=current.budget.remaining_fen,
            total_fen=current.budget.total_fen,
        )
    paid = DisbursementRow(
        disbursement_id=uuid.uuid4(), case_id=case_id, member_id=case.member_id, union_id=case.union_id,
        budget_union_id=budget_union_id, aid_type=form.aid_type, year=year, amount_fen=form.amount_fen,
        note=note, paid_by=caller.actor, paid_at=now, request_hash=fingerprint,
    )  # fmt: skip
    await aid.insert_disbursement(conn, paid, key)
    # Now lock the case, re-checking it is still in the register (an exit may have been approved).
    if not await cases.touch_if_status(conn, case_id, CaseStatus.IN_REGISTER):
        changed = await existing_case(conn, case_id)
        raise lifecycle.IllegalTransition(changed.status, Action.DISBURSE)
    trace = Trace.of(caller)
    await audit.record(
        conn, trace, "aid.disbursed", f"case:{case_id}", record_id=case_id, reason=note or None,
        disbursement_id=str(paid.disbursement_id), aid_type=form.aid_type.value, amount_fen=form.amount_fen,
        year=year, budget_union_id=str(budget_union_id), budget_remaining_fen=drawn.budget.remaining_fen,
        once_per_year=form.aid_type in ONCE_PER_YEAR,
    )  # fmt: skip
    await publish(
        conn, deps, trace, case, now,
        lambda s: AidDisbursed(
            case=s, disbursement_id=paid.disbursement_id, aid_type=form.aid_type,
            amount_fen=form.amount_fen, year=year, paid_at=now,
        ),
    )  # fmt: skip
    return paid
