"""Verification: the home visit (入户调查), an override of one criterion with a reason, and the
request to verify the case (decided in handlers/approvals.py). One transaction each."""

import uuid

from services.relief.domain.eligibility import Criterion, Eligibility, make_override
from services.relief.domain.intake import clean_text
from services.relief.domain.lifecycle import Action
from services.relief.domain.visits import VisitForm, validate_visit
from services.relief.handlers.approvals import request_step
from services.relief.handlers.common import (
    Deps,
    audit_case,
    case_to_work,
    eligibility_of,
    moved,
    save,
)
from services.relief.store import cases
from services.relief.store.cases import CaseRow
from shared.auth import Caller
from shared.contracts.relief import ApprovalStep, Tier
from shared.errors import Conflict
from shared.events import Trace, china_date


async def record_visit(deps: Deps, caller: Caller, case_id: uuid.UUID, form: VisitForm) -> CaseRow:
    """The home visit (入户调查): its figures replace the reported ones for the decision."""
    now = deps.now()
    visit = validate_visit(form, china_date(now))
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        visited = moved(case, Action.RECORD_VISIT, household=visit.household, causes=visit.causes)
        visit_id = await cases.insert_visit(
            conn, case_id, "verification", visit.visited_on, caller.actor, visit.household, visit.causes,
            visit.findings, None, now,
        )  # fmt: skip
        saved = await save(conn, visited)
        await audit_case(
            conn,
            Trace.of(caller),
            "visit.recorded",
            saved,
            visit_id=str(visit_id),
            visited_on=visit.visited_on,
        )
        return saved


async def override_criterion(
    deps: Deps, caller: Caller, case_id: uuid.UUID, criterion: Criterion, reason: str, tier: Tier | None
) -> Eligibility:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        moved(case, Action.OVERRIDE_CRITERION)
        current = await eligibility_of(conn, deps, case)
        existing = await cases.get_override(conn, case_id)
        override = make_override(current, existing, criterion, reason, tier, caller.actor, now)
        await cases.insert_override(conn, case_id, override)
        await audit_case(
            conn, Trace.of(caller), "eligibility.overridden", case, override.reason,
            criterion=criterion.value, tier=override.tier.value if override.tier else None,
        )  # fmt: skip
        return await eligibility_of(conn, deps, case)


async def request_verification(deps: Deps, caller: Caller, case_id: uuid.UUID, note: str) -> CaseRow:
    now = deps.now()
    note = clean_text(note, "the note")
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        requested = moved(case, Action.REQUEST_VERIFICATION)
        if not await cases.count_visits(conn, case_id, "verification"):
            raise Conflict("record the home visit (入户调查) first: verification rests on its findings")
        return await request_step(conn, deps, caller, requested, ApprovalStep.VERIFICATION, note, now)
