"""Reads. Hardship details go to the cadres working a case only; the member sees their own
case's status and the aid paid to them; the public disclosure list is masked."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from services.relief.domain.aid import aid_year, check_year
from services.relief.domain.disclosure import public_name
from services.relief.domain.eligibility import Eligibility, Override
from services.relief.handlers.common import (
    Deps,
    eligibility_of,
    existing_case,
    may_view,
    require_union_scope,
    require_worker,
)
from services.relief.store import aid, cases, reports
from services.relief.store.aid import DisbursementRow
from services.relief.store.cases import CaseRow, ObjectionRow, StepRow, VisitRow
from services.relief.store.personal_data import HOLDINGS
from shared import audit, membership
from shared.audit import TrailEntry
from shared.auth import Caller
from shared.contracts.personal_data import PersonalDataSection
from shared.contracts.relief import AidType, CaseStatus, Tier
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.events import CHINA, china_date
from shared.personal_data import section as personal_data_section


@dataclass(frozen=True)
class CaseRecord:
    """The hardship details: for the cadres working the case, nobody else."""

    visits: list[VisitRow]
    steps: list[StepRow]
    objections: list[ObjectionRow]
    override: Override | None


@dataclass(frozen=True)
class CaseView:
    case: CaseRow
    aid_year: int
    aid_paid_fen: int
    pending_step: StepRow | None
    disbursements: list[DisbursementRow]
    record: CaseRecord | None


async def _view(conn: Conn, deps: Deps, caller: Caller, case: CaseRow) -> CaseView:
    year = aid_year(deps.now())
    is_worker = caller.principal.is_cadre_or_admin()  # never "not a member": counsel is no worker
    record = None
    if is_worker:
        record = CaseRecord(
            visits=await cases.visits(conn, case.case_id),
            steps=await cases.steps(conn, case.case_id),
            objections=await cases.objections(conn, case.case_id),
            override=await cases.get_override(conn, case.case_id),
        )
    return CaseView(
        case=case,
        aid_year=year,
        aid_paid_fen=await aid.paid_to_member(conn, case.member_id, year),
        pending_step=await cases.pending_step(conn, case.case_id),
        disbursements=await aid.disbursements_of_case(conn, case.case_id),
        record=record,
    )


async def get_case(deps: Deps, caller: Caller, case_id: uuid.UUID) -> CaseView:
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        case = await existing_case(conn, case_id)
        if not await may_view(conn, caller.principal, case):
            raise Forbidden("hardship cases are seen by the member and the cadres working them only")
        return await _view(conn, deps, caller, case)


@dataclass(frozen=True)
class MemberCases:
    member_id: uuid.UUID
    membership_status: str
    base_union_id: uuid.UUID
    cases: list[CaseView]


async def member_cases(deps: Deps, caller: Caller, member_id: uuid.UUID) -> MemberCases:
    """A member's files, newest last: for the member, or the cadres of the member's union."""
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        member = await membership.get_member(conn, member_id)
        if member is None:
            if caller.principal.is_member(member_id):
                raise NotFound("the relief service does not know your membership yet")
            raise NotFound(f"{member_id} is not a union member known to the relief service")
        if not caller.principal.is_member(member_id):
            union = await membership.get_union(conn, member.base_union_id)
            if not caller.principal.covers_union(union.path if union else [member.base_union_id]):
                raise Forbidden("this member is outside your scope")
        views = [
            await _view(conn, deps, caller, c)
            for c in await cases.cases_of_member(conn, member_id)
            if await may_view(conn, caller.principal, c)
        ]
        return MemberCases(member_id, member.status.value, member.base_union_id, views)


async def list_cases(
    deps: Deps,
    caller: Caller,
    union_id: uuid.UUID,
    status: CaseStatus | None,
    flagged: bool | None,
    limit: int,
) -> list[CaseRow]:
    async with deps.pool.acquire() as conn:
        await require_union_scope(conn, caller, union_id)
        return await cases.list_cases(conn, union_id, status, flagged, limit)


async def case_trail(deps: Deps, caller: Caller, case_id: uuid.UUID) -> list[TrailEntry]:
    async with deps.pool.acquire() as conn:
        require_worker(caller, await existing_case(conn, case_id))
        return await audit.trail_of_record(conn, case_id)


async def eligibility(deps: Deps, caller: Caller, case_id: uuid.UUID) -> Eligibility:
    async with deps.pool.acquire() as conn:
        case = await existing_case(conn, case_id)
        require_worker(caller, case)
        return await eligibility_of(conn, deps, case)


@dataclass(frozen=True)
class PublicNotice:
    """One line of the public disclosure (公示): masked name, no ID, no figures."""

    disclosure_no: str
    name_masked: str
    union_name: str | None
    tier: Tier | None
    aid_types: tuple[AidType, ...]
    starts_at: datetime
    ends_at: datetime


async def disclosures(deps: Deps, union_id: uuid.UUID) -> list[PublicNotice]:
    """Cases in their disclosure window in a union's subtree; any signed-in caller may read it."""
    async with deps.pool.acquire() as conn:
        if await membership.get_union(conn, union_id) is None:
            raise NotFound(f"union {union_id} is not known to the relief service")
        rows = await cases.open_disclosures(conn, union_id, deps.now())
    return [
        PublicNotice(
            r.disclosure_no,
            public_name(r.member_name),
            r.union_name,
            r.tier,
            r.proposed_aid,
            r.starts_at,
            r.ends_at,
        )
        for r in rows
    ]


async def due_reviews(
    deps: Deps, caller: Caller, union_id: uuid.UUID, on: date | None, limit: int
) -> list[CaseRow]:
    """Files in the register due for their yearly re-verification on or before `on` (today)."""
    day = on or china_date(deps.now())
    async with deps.pool.acquire() as conn:
        await require_union_scope(conn, caller, union_id)
        return await cases.due_reviews(conn, union_id, day, limit)


async def summary(deps: Deps, caller: Caller, union_id: uuid.UUID, year: int) -> reports.Summary:
    check_year(year)
    start = datetime(year, 1, 1, tzinfo=CHINA)
    end = datetime(year + 1, 1, 1, tzinfo=CHINA)
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        await require_union_scope(conn, caller, union_id)
        return await reports.summary(conn, union_id, year, start, end)


async def personal_data(deps: Deps, caller: Caller, member_id: uuid.UUID) -> PersonalDataSection:
    """What relief holds on the member (个人信息副本), for the member themself."""
    return await personal_data_section(deps.pool, caller, "relief", member_id, HOLDINGS, deps.now())
