"""Commands on legal cases. Each runs in one transaction: the case, its trail, its deadlines and
its outgoing events (through the outbox) are committed together or not at all. Every stage move
goes through the stage table (domain/stages.py), which refuses what it does not allow."""

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from services.legal.domain import clocks, stages, timeline
from services.legal.domain.counsel import CounselLoad, pick_counsel
from services.legal.domain.green_channel import Dispute, Triage, triage
from services.legal.domain.intake import (
    Filing,
    case_number,
    check_idempotency_key,
    filing_fingerprint,
    require_active_filer,
    require_same_filing,
    validate_filing,
)
from services.legal.handlers.common import (
    Deps,
    case_to_work,
    schedule_deadline,
    snapshot,
    union_path,
)
from services.legal.store import cases, counsel, deadlines
from services.legal.store.cases import CaseRow
from services.legal.store.counsel import CounselRow
from shared import audit, membership
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
    MediationEnded,
    MediationOutcome,
    Outcome,
    Stage,
    StageChanged,
)
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.events import Trace, china_date


@dataclass(frozen=True)
class FilingResult:
    case: CaseRow
    replayed: bool  # a retry with the same Idempotency-Key: the case the first request opened


async def _record(
    conn: Conn, trace: Trace, action: str, case: CaseRow, reason: str | None = None, **detail: Any
) -> None:
    """The case's trail entry (subject and record: the case)."""
    subject = deadlines.case_subject(case.case_id)
    await audit.record(conn, trace, action, subject, record_id=case.case_id, reason=reason, **detail)


async def _check_workers(conn: Conn, caller: Caller, filing: Filing) -> membership.MemberRow:
    """The filer and the other workers are members the legal service knows, in the cadre's scope."""
    filer = await membership.get_member(conn, filing.member_id)
    if filer is None:
        raise NotFound(f"{filing.member_id} is not a union member known to the legal service")
    if caller.principal.role is not Role.MEMBER and not caller.principal.covers_union(
        await union_path(conn, filer.base_union_id)
    ):
        raise Forbidden("the worker's union is outside your scope")
    for other in filing.other_member_ids:
        if await membership.get_member(conn, other) is None:
            raise NotFound(f"{other} is not a union member known to the legal service")
    require_active_filer(filer.status)
    return filer


def case_timeline(case: CaseRow) -> dict[str, date | None]:
    """The dates the case recorded, for the rule that a new step does not precede them."""
    return {
        "filed_on": china_date(case.filed_at),
        "mediation_accepted_on": case.mediation_accepted_on,
        "mediation_ended_on": case.mediation_ended_on,
        "arbitration_applied_on": case.arbitration_applied_on,
        "arbitration_accepted_on": case.arbitration_accepted_on,
        "award_received_on": case.award_received_on,
    }


STAGE_STEPS = {
    Stage.MEDIATION: "the acceptance of mediation",
    Stage.ARBITRATION: "the application for arbitration",
    Stage.LITIGATION: "the suit",
}
ARBITRATION_STEPS = {
    ArbitrationStep.ACCEPTED: "the tribunal's acceptance",
    ArbitrationStep.EXTENDED: "the extension of the award deadline",
    ArbitrationStep.AWARDED: "the award",
}


def _new_case(
    filing: Filing, union_id: uuid.UUID, serial: int, result: Triage, caller: Caller, now: datetime
) -> CaseRow:
    return CaseRow(
        case_id=uuid.uuid4(),
        case_no=case_number(china_date(now).year, serial),
        member_id=filing.member_id,
        member_ids=filing.member_ids,
        union_id=union_id,
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
        mediation_outcome=None,
        mediation_ended_on=None,
        arbitration_applied_on=None,
        arbitration_accepted_on=None,
        award_extended=False,
        award_received_on=None,
        filed_by=caller.actor,
        filed_at=now,
        closed_at=None,
    )


async def file_case(
    deps: Deps, caller: Caller, filing: Filing, idempotency_key: str | None = None
) -> FilingResult:
    """A member files for themself, or a cadre files on a worker's behalf."""
    now = deps.now()
    validate_filing(filing, china_date(now))
    key = check_idempotency_key(idempotency_key)
    fingerprint = filing_fingerprint(filing)
    if caller.principal.role is Role.MEMBER and not caller.principal.is_member(filing.member_id):
        raise Forbidden("a member files for themself; cadres file on a worker's behalf")
    if caller.principal.role is not Role.MEMBER and not caller.principal.is_cadre_or_admin():
        raise Forbidden("a member files for themself; cadres file on a worker's behalf")
    async with deps.pool.acquire() as conn, conn.transaction():
        if key is not None:
            await cases.lock_idempotency_key(conn, key)
            first = await cases.filing_by_key(conn, key)
            if first is not None:
                require_same_filing(first[1], fingerprint)
                replayed = await cases.get_case(conn, first[0])
                assert replayed is not None
                return FilingResult(replayed, replayed=True)
        filer = await _check_workers(conn, caller, filing)
        limit = clocks.arbitration_limit(filing.learned_on)
        dispute = Dispute(
            filing.kind, filing.migrant_worker, len(filing.member_ids), filing.amount_claimed_fen, limit
        )
        result = triage(dispute, china_date(now))
        case = _new_case(filing, filer.base_union_id, await cases.next_case_serial(conn), result, caller, now)
        await cases.insert_case(conn, case)
        if key is not None:
            await cases.record_filing_key(conn, key, case.case_id, fingerprint)
        trace = Trace.of(caller)
        await _record(
            conn, trace, "case.filed", case, kind=case.kind.value, case_no=case.case_no,
            workers=len(case.member_ids), priority=case.priority.value,
            priority_reasons=case.priority_reasons,
        )  # fmt: skip
        filed = CaseFiled(
            case=await snapshot(conn, case),
            collective=len(case.member_ids) > 1,
            priority=case.priority,
            green_channel=result.green_channel,
            filed_at=now,
        )
        await deps.events.emit(conn, trace, str(case.member_id), filed)
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
        await cases.save_case(conn, case)
        subject = deadlines.case_subject(case.case_id)
        if disposition is Disposition.ACCEPT:
            limit = clocks.arbitration_limit(case.learned_on)
            await schedule_deadline(conn, deps, subject, DeadlineName.ARBITRATION_LIMIT, limit)
        trace = Trace.of(caller)
        await _record(
            conn, trace, f"intake.{disposition.value}", case, reason or None, referral=referral or None
        )
        snap = await snapshot(conn, case)
        member = str(case.member_id)
        await deps.events.emit(
            conn, trace, member, IntakeDecided(case=snap, disposition=disposition, decided_at=now)
        )
        if outcome is not None:
            closed = CaseClosed(case=snap, outcome=outcome, recovered_fen=0, closed_at=now)
            await deps.events.emit(conn, trace, member, closed)
        return case


async def _apply_clocks(conn: Conn, deps: Deps, case: CaseRow, change: clocks.ClockChange) -> None:
    subject = deadlines.case_subject(case.case_id)
    await deadlines.cancel(conn, subject, list(change.cancel))
    if change.schedule is not None:
        await schedule_deadline(conn, deps, subject, *change.schedule)


async def move_stage(
    deps: Deps, caller: Caller, case_id: uuid.UUID, target: Stage, on: date | None
) -> CaseRow:
    """Mediation, arbitration or litigation; `on` is the day the body accepted or the suit was filed."""
    now = deps.now()
    day = on or china_date(now)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        previous = case.stage
        stages.require_stage_move(case.stage, target)
        timeline.require_step_day(
            STAGE_STEPS.get(target, target.value), day, china_date(now), case_timeline(case)
        )
        change = clocks.on_stage(
            target, day, learned_on=case.learned_on, arbitration_accepted_on=case.arbitration_accepted_on,
            award_extended=case.award_extended, award_received_on=case.award_received_on,
        )  # fmt: skip
        ended: timeline.MediationEnd | None = None
        if target is Stage.MEDIATION:
            case = replace(case, stage=target, mediation_accepted_on=day, mediated=True)
        elif target is Stage.ARBITRATION:
            ended = timeline.arbitration_after_mediation(
                case.mediated, case.mediation_outcome, case.mediation_accepted_on, day
            )
            if ended is not None:  # the window passed unrecorded: it is recorded with the move
                case = replace(case, mediation_outcome=ended.outcome, mediation_ended_on=ended.on)
            case = replace(case, stage=target, arbitration_applied_on=day)
        else:
            case = replace(case, stage=target)
        await _apply_clocks(conn, deps, case, change)
        await cases.save_case(conn, case)
        trace = Trace.of(caller)
        await _record(
            conn,
            trace,
            f"stage.{target.value}",
            case,
            on=day,
            from_stage=previous.value,
            after_the_limit=change.late,
        )
        if ended is not None:
            await _mediation_ended(conn, deps, trace, case, ended)
        changed = StageChanged(case=await snapshot(conn, case), from_stage=previous, changed_at=now)
        await deps.events.emit(conn, trace, str(case.member_id), changed)
        return case


async def _mediation_ended(
    conn: Conn, deps: Deps, trace: Trace, case: CaseRow, end: timeline.MediationEnd
) -> None:
    await _record(conn, trace, f"mediation.{end.outcome.value}", case, on=end.on, label=end.outcome.label)
    ended = MediationEnded(case=await snapshot(conn, case), outcome=end.outcome, on=end.on)
    await deps.events.emit(conn, trace, str(case.member_id), ended)


async def end_mediation(
    deps: Deps, caller: Caller, case_id: uuid.UUID, outcome: MediationOutcome, on: date | None
) -> CaseRow:
    """How mediation ended: an agreement (达成协议), failed (调解不成), the window passed (期满未结).
    The mediation window stops running; the case stays in mediation until it moves or closes."""
    now = deps.now()
    today = china_date(now)
    day = on or today
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        end = timeline.mediation_end(
            case.stage, case.mediation_outcome, case.mediation_accepted_on, outcome, day
        )
        timeline.require_step_day("the end of mediation", day, today, case_timeline(case))
        case = replace(case, mediation_outcome=end.outcome, mediation_ended_on=end.on)
        await deadlines.cancel(conn, deadlines.case_subject(case.case_id), [DeadlineName.MEDIATION_WINDOW])
        await cases.save_case(conn, case)
        await _mediation_ended(conn, deps, Trace.of(caller), case, end)
        return case


async def window_passed(deps: Deps, conn: Conn, trace: Trace, case: CaseRow) -> CaseRow:
    """The mediation window's missed notice fired on a case still in mediation, its end not
    recorded: it is recorded as passed (期满未结), in the notice's transaction."""
    if (
        case.stage is not Stage.MEDIATION
        or case.mediation_outcome is not None
        or case.mediation_accepted_on is None
    ):
        return case
    end = timeline.window_passed(case.mediation_accepted_on, china_date(deps.now()))
    case = replace(case, mediation_outcome=end.outcome, mediation_ended_on=end.on)
    await cases.save_case(conn, case)
    await _mediation_ended(conn, deps, trace, case, end)
    return case


async def arbitration_step(
    deps: Deps, caller: Caller, case_id: uuid.UUID, step: ArbitrationStep, on: date | None
) -> CaseRow:
    """The tribunal accepted the case, extended its deadline once, or made its award."""
    today = china_date(deps.now())
    day = on or today
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        stages.require_in_arbitration(case.stage)
        timeline.require_step_day(ARBITRATION_STEPS[step], day, today, case_timeline(case))
        change = clocks.on_arbitration_step(
            step, day, accepted_on=case.arbitration_accepted_on, extended=case.award_extended,
            award_received_on=case.award_received_on,
        )  # fmt: skip
        if step is ArbitrationStep.ACCEPTED:
            case = replace(case, arbitration_accepted_on=day)
        elif step is ArbitrationStep.EXTENDED:
            case = replace(case, award_extended=True)
        else:
            case = replace(case, award_received_on=day)
        await _apply_clocks(conn, deps, case, change)
        await cases.save_case(conn, case)
        assert change.schedule is not None
        name, due = change.schedule
        trace = Trace.of(caller)
        await _record(conn, trace, f"arbitration.{step.value}", case, on=day, deadline=name.value, due_on=due)
        progressed = ArbitrationProgressed(case=await snapshot(conn, case), step=step, on=day)
        await deps.events.emit(conn, trace, str(case.member_id), progressed)
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
        await cases.save_case(conn, case)
        await deadlines.cancel_all(conn, deadlines.case_subject(case.case_id))
        trace = Trace.of(caller)
        await _record(
            conn, trace, "case.closed", case, note or None,
            outcome=outcome.value, recovered_fen=recovered_fen, from_stage=previous.value,
        )  # fmt: skip
        closed = CaseClosed(
            case=await snapshot(conn, case), outcome=outcome, recovered_fen=recovered_fen, closed_at=now
        )
        await deps.events.emit(conn, trace, str(case.member_id), closed)
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
        stages.require_open_for_counsel(case.stage)
        roster = [
            _load(c) for c in await counsel.roster_for(conn, list(await union_path(conn, case.union_id)))
        ]
        previous = case.counsel_id
        chosen = pick_counsel(roster, case.employer, previous=previous, named=counsel_id, reason=reason)
        case = replace(case, counsel_id=chosen.counsel_id)
        await cases.save_case(conn, case)
        await counsel.record_assignment(
            conn, case.case_id, chosen.counsel_id, previous, reason.strip() or "assigned", caller.actor, now
        )
        trace = Trace.of(caller)
        await _record(
            conn, trace, "counsel.handover" if previous else "counsel.assigned", case, reason or None,
            counsel_id=chosen.counsel_id, previous_counsel_id=previous,
            load=f"{chosen.open_cases}/{chosen.capacity}",
        )  # fmt: skip
        assigned = CounselAssigned(
            case=await snapshot(conn, case),
            counsel_id=chosen.counsel_id,
            previous_counsel_id=previous,
            assigned_at=now,
        )
        await deps.events.emit(conn, trace, str(case.member_id), assigned)
        row = await counsel.get_counsel(conn, chosen.counsel_id)
        assert row is not None
        return case, row
