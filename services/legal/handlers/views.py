"""Reads. A case is seen by its filer, the other workers it covers, and the cadres of its union
subtree; everyone else is refused. Supervision letters are the cadres' business."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from services.legal.domain.clocks import start_of
from services.legal.domain.letters import rectification_rate
from services.legal.domain.reports import mediation_success_rate
from services.legal.handlers.common import Deps, may_view, require_cadre, require_union_scope
from services.legal.store import cases, deadlines, letters, reports
from services.legal.store.cases import CaseRow
from services.legal.store.deadlines import DeadlineRow
from services.legal.store.letters import SupervisionRow
from services.legal.store.personal_data import HOLDINGS
from shared import audit
from shared.auth import Caller, Role
from shared.contracts.legal import DisputeKind, Stage
from shared.contracts.personal_data import PersonalDataSection
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.events import china_date
from shared.personal_data import section as personal_data_section


@dataclass(frozen=True)
class CaseView:
    case: CaseRow
    deadlines: list[DeadlineRow]


async def get_case(deps: Deps, caller: Caller, case_id: uuid.UUID) -> CaseView:
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        case = await cases.get_case(conn, case_id)
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        if not await may_view(conn, caller.principal, case):
            raise Forbidden("a legal case is seen by its workers and the cadres of their union only")
        return CaseView(case, await deadlines.of_case(conn, case_id))


async def case_trail(deps: Deps, caller: Caller, case_id: uuid.UUID) -> list[audit.TrailEntry]:
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        case = await cases.get_case(conn, case_id)
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        if caller.principal.role is Role.MEMBER or not await may_view(conn, caller.principal, case):
            raise Forbidden("the trail is for the cadres working the case")
        return await audit.trail_of_record(conn, case_id)


async def list_cases(
    deps: Deps, caller: Caller, union_id: uuid.UUID, stage: Stage | None, kind: DisputeKind | None, limit: int
) -> list[CaseRow]:
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        await require_union_scope(conn, caller, union_id)
        return await cases.list_cases(conn, union_id, stage, kind, limit)


async def member_cases(deps: Deps, caller: Caller, member_id: uuid.UUID) -> list[CaseRow]:
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        if caller.principal.role is Role.MEMBER and not caller.principal.is_member(member_id):
            raise Forbidden("a member sees their own cases")
        if caller.principal.role is not Role.MEMBER and not caller.principal.is_cadre_or_admin():
            raise Forbidden("a member's cases are seen by the member and the cadres of their union")
        rows = await cases.cases_of_member(conn, member_id)
        return [c for c in rows if await may_view(conn, caller.principal, c)]


async def get_supervision(deps: Deps, caller: Caller, supervision_id: uuid.UUID) -> SupervisionRow:
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        s = await letters.get(conn, supervision_id)
        if s is None:
            raise NotFound(f"supervision {supervision_id} does not exist")
        require_cadre(caller, "supervision letters are the cadres' business")
        await require_union_scope(conn, caller, s.union_id)
        return s


@dataclass(frozen=True)
class Report:
    union_id: uuid.UUID
    period_start: date
    period_end: date
    summary: reports.LegalSummary

    @property
    def mediation_success_rate(self) -> float | None:
        return mediation_success_rate(self.summary.mediations_finished, self.summary.mediations_settled)

    @property
    def rectification_rate(self) -> float | None:
        return rectification_rate(self.summary.opinions_sent, self.summary.rectified)


async def report(deps: Deps, caller: Caller, union_id: uuid.UUID, start: date, end: date) -> Report:
    """Cases filed in [start, end] by kind and stage; closed in it: outcomes and money; overdue now."""
    if end < start:
        raise InvalidInput("the period ends before it starts")
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        await require_union_scope(conn, caller, union_id)
        period_end = start_of(end + timedelta(days=1))
        s = await reports.summary(conn, union_id, start_of(start), period_end, china_date(deps.now()))
        return Report(union_id, start, end, s)


async def personal_data(deps: Deps, caller: Caller, member_id: uuid.UUID) -> PersonalDataSection:
    """What legal holds on the member (个人信息副本), for the member themself."""
    return await personal_data_section(deps.pool, caller, "legal", member_id, HOLDINGS, deps.now())
