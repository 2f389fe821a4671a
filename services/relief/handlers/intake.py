"""Intake: a hardship report opens a file, or joins the open file of the member or of their
household (一户一档). One transaction: the case, its trail and its event commit together."""

import uuid
from dataclasses import dataclass

import asyncpg

from services.relief.domain.intake import (
    HardshipReport,
    IntakeOutcome,
    household_key,
    intake_channel,
    mask_register_no,
    require_active_member,
    validate_report,
)
from services.relief.handlers.common import Deps, audit_case, may_view, publish
from services.relief.store import cases
from services.relief.store.cases import CaseRow
from shared import membership
from shared.auth import Caller, Role
from shared.contracts.envelope import EventPayload
from shared.contracts.relief import CaseOpened, CaseReopened, CaseSnapshot, CaseStatus
from shared.errors import Forbidden, NotFound
from shared.events import Trace


@dataclass(frozen=True)
class IntakeResult:
    outcome: IntakeOutcome
    case: CaseRow
    visible: bool  # False: the report joined another member's household file the caller may not see


async def open_case(deps: Deps, caller: Caller, report: HardshipReport) -> IntakeResult:
    """Open a file, or join the open file of the member or their household (一户一档)."""
    report = validate_report(report)
    by_member = caller.principal.role is Role.MEMBER
    if by_member and not caller.principal.is_member(report.member_id):
        raise Forbidden("a member applies for themselves; grid workers report for others")
    if not by_member and not caller.principal.is_cadre_or_admin():
        raise Forbidden("a hardship is reported by the member or by the cadres of their union")
    household_hash = deps.pii.lookup_hash(household_key(report.household_register_no))
    try:
        return await _open_or_join(deps, caller, report, household_hash, by_member=by_member)
    except asyncpg.UniqueViolationError:
        # A concurrent report for the same household opened the file first: this one joins it.
        return await _open_or_join(deps, caller, report, household_hash, by_member=by_member)


async def _open_or_join(
    deps: Deps, caller: Caller, report: HardshipReport, household_hash: bytes, *, by_member: bool
) -> IntakeResult:
    now = deps.now()
    trace = Trace.of(caller)
    channel = intake_channel(by_the_member=by_member)
    async with deps.pool.acquire() as conn, conn.transaction():
        # The member's row lock makes concurrent reports about one member queue up.
        member = await membership.get_member(conn, report.member_id, for_update=True)
        if member is None:
            raise NotFound(f"{report.member_id} is not a union member: only members may have a relief case")
        union = await membership.get_union(conn, member.base_union_id)
        path = union.path if union else [member.base_union_id]
        if not by_member and not caller.principal.covers_union(path):
            raise Forbidden("the member's union is outside your scope")
        require_active_member(member.status)

        existing = await cases.open_case_of_member(conn, member.member_id, for_update=True)
        existing = existing or await cases.open_case_of_household(conn, household_hash)
        if existing is not None:
            await cases.insert_report(
                conn, existing.case_id, member.member_id, channel, caller.actor, report.household,
                report.causes, report.note, joined=True, at=now,
            )  # fmt: skip
            await audit_case(
                conn, trace, "report.joined", existing, channel=channel.value,
                reported_for=str(member.member_id), same_member=existing.member_id == member.member_id,
            )  # fmt: skip
            return IntakeResult(
                IntakeOutcome.JOINED, existing, await may_view(conn, caller.principal, existing)
            )

        previous = await cases.last_closed_case(conn, member.member_id)
        case = CaseRow(
            case_id=uuid.uuid4(), member_id=member.member_id, union_id=member.base_union_id,
            household_no_masked=mask_register_no(report.household_register_no), channel=channel,
            status=CaseStatus.REPORTED, suspended_from=None, flag_reason=None, household=report.household,
            causes=report.causes, cause_note=report.note, tier=None, previous_case_id=previous,
            pending_transfer_to=None, opened_at=now, verified_at=None, disclosure_no=None,
            disclosure_starts_at=None, disclosure_ends_at=None, proposed_aid=(), plan_aid=(), plan_summary="",
            approved_at=None, next_review_due=None, exited_at=None, closed_at=None, member_name=member.name,
            union_name=union.name if union else None, union_region=union.region if union else "",
            union_path=tuple(path),
        )  # fmt: skip
        await cases.insert_case(conn, case, household_hash)
        await cases.insert_report(
            conn, case.case_id, member.member_id, channel, caller.actor, report.household, report.causes,
            report.note, joined=False, at=now,
        )  # fmt: skip
        await audit_case(
            conn, trace, "case.reopened" if previous else "case.opened", case, channel=channel.value,
            previous_case_id=str(previous) if previous else None,
        )  # fmt: skip

        def opened(snap: CaseSnapshot) -> EventPayload:
            if previous is not None:
                return CaseReopened(case=snap, channel=channel, previous_case_id=previous, opened_at=now)
            return CaseOpened(case=snap, channel=channel, opened_at=now)

        await publish(conn, deps, trace, case, now, opened)
        return IntakeResult(IntakeOutcome.OPENED, case, True)
