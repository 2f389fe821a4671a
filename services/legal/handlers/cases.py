"""Commands on legal cases. Each runs in one transaction: the case, its trail, its deadlines and
its outgoing events (through the outbox) are committed together or not at all. Every stage move
goes through the stage table (domain/stages.py), which refuses what it does not allow."""

import uuid
from dataclasses import dataclass, replace
from datetime import date

from services.legal.domain import clocks, stages
from services.legal.domain.counsel import CounselLoad, choose_counsel, require_assignable
from services.legal.domain.green_channel import Dispute, triage
from services.legal.domain.intake import (
    Filing,
    case_number,
    check_idempotency_key,
    filing_fingerprint,
    require_same_filing,
    validate_filing,
)
from services.legal.handlers.common import (
    Deps,
    audit,
    case_to_work,
    emit,
    require_union_scope,
    schedule_deadline,
    snapshot,
    today,
    trace,
    union_path,
)
from services.legal.store import cases as q
from services.legal.store import deadlines as qd
from services.legal.store.cases import CaseRow, CounselRow
from shared import membership_view as qm
from shared.auth import Caller, Role
from shared.contracts.legal import (
    ArbitrationProgressed,
    ArbitrationStep,
    CaseClosed,
    CaseFiled,
    CounselAssigned,
    DeadlineName,
    Disposition,
    IntakeDecided,
    Outcome,
    Stage,
    StageChanged,
)
from shared.db import Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

D = DeadlineName


@dataclass(frozen=True)
class FilingResult:
    case: CaseRow
    replayed: bool  # a retry with the same Idempotency-Key: the case the first request opened


async def file_case(
    deps: Deps, caller: Caller, filing: Filing, idempotency_key: str | None = None
) -> FilingResult:
    """A member files for themself, or a cadre files on a worker's behalf."""
    now = deps.now()
    day = today(now)
    validate_filing(filing, day)
    key = check_idempotency_key(idempotency_key)
    fingerprint = filing_fingerprint(filing)
    if caller.principal.role is Role.MEMBER and not caller.principal.is_member(filing.member_id):
        raise Forbidden("a member files for themself; cadres file on a worker's behalf")
    async with deps.pool.acquire() as conn, conn.transaction():
        if key is not None:
            await q.lock_idempotency_key(conn, key)
            first = await q.filing_by_key(conn, key)
            if first is not None:
                require_same_filing(first[1], fingerprint)
                case = await q.get_case(conn, first[0])
                assert case is not None
                return FilingResult(case, replayed=True)
        filer = await qm.get_member(conn, filing.member_id)
        if filer is None:
            raise NotFound(f"{filing.member_id} is not a union member known to the legal service")
        if caller.principal.role is not Role.MEMBER and not caller.principal.covers_union(
            await union_path(conn, filer.base_union_id)
        ):
            raise Forbidden("the worker's union is outside your scope")
        for other in filing.other_member_ids:
            if await qm.get_member(conn, other) is None:
                raise NotFound(f"{other} is not a union member known to the legal service")
        if not filer.active:
            raise Conflict(f"only active members file through the union; this member is {filer.status}")
        result = triage(
            Dispute(
                filing.kind,
                filing.migrant_worker,
                len(filing.member_ids),
                filing.amount_claimed_fen,
                clocks.arbitration_limit(filing.learned_on),
            ),
            day,
        )
        case = CaseRow(
            case_id=uuid.uuid4(),
            case_no=case_number(day.year, await q.next_case_serial(conn)),
            member_id=filing.member_id,
            member_ids=filing.member_ids,
            union_id=filer.base_union_id,
            kind=filing.kind,
            employer=filing.employer.strip(),
            amount_claimed_fen=filing.amount_claimed_fen,
            learned_on=filing.learned_on,
            migrant_worker=filing.migrant_worker,
            description=filing.description.strip(),
            priority=result.priority,
            priority_reasons=list(result.reasons),
            stage=Stage.INTAKE,
            disposition=None,
            reject_reason=None,
            referral=None,
            outcome=None,
            recovered_fen=0,
            counsel_id=None,
            mediation_accepted_on=None,
            mediated=False,
            arbitration_applied_on=None,
            arbitration_accepted_on=None,
            award_extended=False,
            award_received_on=None,
            filed_by=caller.actor,
            filed_at=now,
            closed_at=None,
        )
        await q.insert_case(conn, case)
        if key is not None:
            await q.record_filing_key(conn, key, case.case_id, fingerprint)
        await audit(
            conn,
            trace(caller),
            "case.filed",
            case,
            kind=case.kind.value,
            case_no=case.case_no,
            workers=len(case.member_ids),
            priority=case.priority.value,
            priority_reasons=case.priority_reasons,
        )
        await emit(
            conn,
            deps,
            trace(caller),
            str(case.member_id),
            CaseFiled(
                case=await snapshot(conn, case),
                collective=len(case.member_ids) > 1,
                priority=case.priority,
                green_channel=result.green_channel,
                filed_at=now,
            ),
        )
        return FilingResult(case, replayed=False)


async def decide_intake(
    deps: Deps, caller: Caller, case_id: uuid.UUID, disposition: Disposition, reason: str, referral: str
) -> CaseRow:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        stage = stages.disposition_target(case.stage, disposition, reason, referral)
        rejected = disposition is Disposition.REJECT
        outcome = stages.disposition_outcome(disposition)
        case = replace(
            case,
            stage=stage,
            disposition=disposition,
            outcome=outcome,
            reject_reason=reason.strip() if rejected else None,
            referral=referral.strip() if rejected else None,
            closed_at=now if stage is Stage.CLOSED else None,
        )
        await q.save_case(conn, case)
        if disposition is Disposition.ACCEPT:
            await schedule_deadline(
                conn,
                deps,
                D.ARBITRATION_LIMIT,
                clocks.arbitration_limit(case.learned_on),
                case_id=case.case_id,
            )
        await audit(
            conn,
            trace(caller),
            f"intake.{disposition.value}",
            case,
            reason or None,
            referral=referral or None,
        )
        snap = await snapshot(conn, case)
        await emit(
            conn,
            deps,
            trace(caller),
            str(case.member_id),
            IntakeDecided(case=snap, disposition=disposition, decided_at=now),
        )
        if outcome is not None:
            await emit(
                conn,
                deps,
                trace(caller),
                str(case.member_id),
                CaseClosed(case=snap, outcome=outcome, recovered_fen=0, closed_at=now),
            )
        return case


async def move_stage(
    deps: Deps, caller: Caller, case_id: uuid.UUID, target: Stage, on: date | None
) -> CaseRow:
    """Mediation, arbitration or litigation; `on` is the day the body accepted or the suit was filed."""
    now = deps.now()
    day = on or today(now)
    if day > today(now):
        raise InvalidInput("the date of a stage cannot be in the future")
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        previous = case.stage
        stages.require_stage_move(case.stage, target)
        if day < today(case.filed_at):
            raise InvalidInput("a stage cannot begin before the case was filed")
        late = False
        if target is Stage.MEDIATION:
            case = replace(case, stage=target, mediation_accepted_on=day, mediated=True)
            await schedule_deadline(
                conn, deps, D.MEDIATION_WINDOW, clocks.mediation_window_ends(day), case_id=case.case_id
            )
        elif target is Stage.ARBITRATION:
            late = not clocks.in_time(clocks.arbitration_limit(case.learned_on), day)
            case = replace(case, stage=target, arbitration_applied_on=day)
            await qd.cancel(conn, [D.ARBITRATION_LIMIT, D.MEDIATION_WINDOW], case_id=case.case_id)
        else:  # litigation
            clocks.require_may_sue(
                case.arbitration_accepted_on, case.award_extended, case.award_received_on, day
            )
            if case.award_received_on is not None:
                late = not clocks.in_time(clocks.suit_limit(case.award_received_on), day)
            case = replace(case, stage=target)
            await qd.cancel(conn, [D.SUIT_LIMIT, D.AWARD_DUE], case_id=case.case_id)
        await q.save_case(conn, case)
        await audit(
            conn,
            trace(caller),
            f"stage.{target.value}",
            case,
            on=day,
            from_stage=previous.value,
            after_the_limit=late,
        )
        await emit(
            conn,
            deps,
            trace(caller),
            str(case.member_id),
            StageChanged(case=await snapshot(conn, case), from_stage=previous, changed_at=now),
        )
        return case


async def arbitration_step(
    deps: Deps, caller: Caller, case_id: uuid.UUID, step: ArbitrationStep, on: date | None
) -> CaseRow:
    """The tribunal accepted the case, extended its deadline once, or made its award."""
    day = on or today(deps.now())
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        if case.stage is not Stage.ARBITRATION:
            raise Conflict(
                f"the case is in {case.stage.value}, not in arbitration",
                stage=case.stage.value,
                allowed=stages.allowed(case.stage),
            )
        if step is ArbitrationStep.ACCEPTED:
            if case.arbitration_accepted_on is not None:
                raise Conflict("the tribunal's acceptance is recorded already")
            case = replace(case, arbitration_accepted_on=day)
            due = clocks.award_due(day, extended=False)
        elif case.arbitration_accepted_on is None:
            raise Conflict("record the tribunal's acceptance first")
        elif case.award_received_on is not None:
            raise Conflict("the award was made already")
        elif step is ArbitrationStep.EXTENDED:
            due = clocks.extend_award(case.arbitration_accepted_on, case.award_extended)
            case = replace(case, award_extended=True)
        else:
            case = replace(case, award_received_on=day)
            due = clocks.suit_limit(day)
        await qd.cancel(conn, [D.AWARD_DUE], case_id=case.case_id)
        name = D.SUIT_LIMIT if step is ArbitrationStep.AWARDED else D.AWARD_DUE
        await schedule_deadline(conn, deps, name, due, case_id=case.case_id)
        await q.save_case(conn, case)
        await audit(
            conn, trace(caller), f"arbitration.{step.value}", case, on=day, deadline=name.value, due_on=due
        )
        await emit(
            conn,
            deps,
            trace(caller),
            str(case.member_id),
            ArbitrationProgressed(case=await snapshot(conn, case), step=step, on=day),
        )
        return case


async def close_case(
    deps: Deps, caller: Caller, case_id: uuid.UUID, outcome: Outcome, recovered_fen: int, note: str
) -> CaseRow:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        stages.require_closing(case.stage, outcome, recovered_fen)
        previous = case.stage
        case = replace(case, stage=Stage.CLOSED, outcome=outcome, recovered_fen=recovered_fen, closed_at=now)
        await q.save_case(conn, case)
        await qd.cancel_all_for_case(conn, case.case_id)
        await audit(
            conn,
            trace(caller),
            "case.closed",
            case,
            note or None,
            outcome=outcome.value,
            recovered_fen=recovered_fen,
            from_stage=previous.value,
        )
        await emit(
            conn,
            deps,
            trace(caller),
            str(case.member_id),
            CaseClosed(
                case=await snapshot(conn, case), outcome=outcome, recovered_fen=recovered_fen, closed_at=now
            ),
        )
        return case


def _load(c: CounselRow) -> CounselLoad:
    return CounselLoad(
        c.counsel_id, c.name, c.capacity, c.open_cases, tuple(c.represented_employers), c.active
    )


async def assign_counsel(
    deps: Deps, caller: Caller, case_id: uuid.UUID, counsel_id: uuid.UUID | None, reason: str
) -> tuple[CaseRow, CounselRow]:
    """Assign counsel (balanced by load, after the conflict check), or hand the case over to
    the counsel named, who passes the same checks. Every assignment is recorded."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        if case.stage in (Stage.INTAKE, Stage.CLOSED):
            raise Conflict(
                f"counsel is assigned to an accepted, open case (this one is in {case.stage.value})",
                stage=case.stage.value,
                allowed=stages.allowed(case.stage),
            )
        roster = [_load(c) for c in await q.roster_for(conn, list(await union_path(conn, case.union_id)))]
        previous = case.counsel_id
        if counsel_id is None:
            chosen = choose_counsel(roster, case.employer, exclude=[previous] if previous else [])
        else:
            named = next((c for c in roster if c.counsel_id == counsel_id), None)
            if named is None:
                raise NotFound(f"counsel {counsel_id} is not on the roster of this case's unions")
            if named.counsel_id == previous:
                raise Conflict("this counsel already has the case")
            require_assignable(named, case.employer)
            chosen = named
        if previous is not None and not reason.strip():
            raise InvalidInput("a handover needs a reason")
        case = replace(case, counsel_id=chosen.counsel_id)
        await q.save_case(conn, case)
        await q.record_assignment(
            conn, case.case_id, chosen.counsel_id, previous, reason.strip() or "assigned", caller.actor, now
        )
        action = "counsel.handover" if previous else "counsel.assigned"
        await audit(
            conn,
            trace(caller),
            action,
            case,
            reason or None,
            counsel_id=chosen.counsel_id,
            previous_counsel_id=previous,
            load=f"{chosen.open_cases}/{chosen.capacity}",
        )
        await emit(
            conn,
            deps,
            trace(caller),
            str(case.member_id),
            CounselAssigned(
                case=await snapshot(conn, case),
                counsel_id=chosen.counsel_id,
                previous_counsel_id=previous,
                assigned_at=now,
            ),
        )
        counsel = await q.get_counsel(conn, chosen.counsel_id)
        assert counsel is not None
        return case, counsel


async def register_counsel(
    deps: Deps, caller: Caller, union_id: uuid.UUID, name: str, role: str, capacity: int, employers: list[str]
) -> CounselRow:
    async with deps.pool.acquire() as conn, conn.transaction():
        await require_union_scope(conn, caller, union_id)
        if caller.principal.role is Role.MEMBER:
            raise Forbidden("cadres keep the legal-aid roster")
        counsel_id = uuid.uuid4()
        await q.insert_counsel(
            conn,
            counsel_id,
            name.strip(),
            role,
            union_id,
            capacity,
            [e.strip() for e in employers if e.strip()],
        )
        await q.audit(
            conn,
            caller.actor,
            "counsel.registered",
            None,
            f"counsel:{counsel_id}",
            caller.correlation_id,
            None,
            name=name,
            capacity=capacity,
            employers=employers,
        )
        counsel = await q.get_counsel(conn, counsel_id)
        assert counsel is not None
        return counsel


async def case_for_view(conn: Conn, case_id: uuid.UUID) -> CaseRow:
    case = await q.get_case(conn, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case
