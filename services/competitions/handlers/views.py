"""Reads: a competition with its stages (and, for organisers, its entries), a judge's sheet,
a stage's results, its objections, a member's current honours, and the trails."""

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from services.competitions.domain.entries import team_only
from services.competitions.domain.rules import StageStatus, blind_code, require_judge
from services.competitions.handlers.common import (
    Deps,
    competition_or_404,
    require_cadre,
    require_organiser,
    stage_or_404,
    union_path,
)
from services.competitions.handlers.honours import honour_or_404, member_scope
from services.competitions.handlers.scoring import rank
from services.competitions.store import competitions, entries, honours, objections, scoring
from services.competitions.store.competitions import StageRow
from services.competitions.store.entries import EntryRow
from services.competitions.store.honours import HonourRow
from services.competitions.store.objections import ObjectionRow
from services.competitions.store.personal_data import HOLDINGS
from shared import audit, membership
from shared.audit import TrailEntry
from shared.auth import Caller, Role
from shared.contracts.competitions import COMPETITION_KIND_LABELS, CompetitionKind
from shared.contracts.personal_data import PersonalDataSection
from shared.errors import Forbidden
from shared.events import china_date
from shared.personal_data import section as personal_data_section


@dataclass(frozen=True)
class CompetitionView:
    competition_id: uuid.UUID
    name: str
    kind: CompetitionKind
    union_id: uuid.UUID
    criteria: list[dict[str, Any]]
    stages: list[StageRow]
    entries: list[EntryRow] | None  # organisers only


async def get_competition(deps: Deps, caller: Caller, competition_id: uuid.UUID) -> CompetitionView:
    async with deps.pool.acquire() as conn:
        c = await competition_or_404(conn, competition_id)
        stages = await competitions.stages_of(conn, competition_id)
        listed = None
        if caller.principal.covers_union(c.union_path):
            listed = await entries.entries_of(conn, competition_id)
    return CompetitionView(c.competition_id, c.name, c.kind, c.union_id, c.criteria, stages, listed)


@dataclass(frozen=True)
class OpenCompetition:
    competition_id: uuid.UUID
    title: str
    kind: CompetitionKind
    kind_label: str
    union_id: uuid.UUID
    union_name: str
    registration_closes_on: date | None  # the model has no registration window: always None
    team: bool  # team entries only (a team-title competition)


async def open_competitions(deps: Deps, caller: Caller) -> list[OpenCompetition]:
    """Competitions taking entries now that the caller may enter or register people for: a
    member's those organised at or above their base union (none unless an active member); a
    cadre's those at or above their union and below it; an admin's all."""
    principal = caller.principal
    async with deps.pool.acquire() as conn:
        if principal.role is Role.MEMBER and principal.member_id is not None:
            member = await membership.get_member(conn, principal.member_id)
            if member is None or not member.active:
                return []  # only members take part (and enrollment's event may be on its way)
            rows = await competitions.open_competitions(
                conn, await union_path(conn, member.base_union_id), None
            )
        elif principal.role is Role.CADRE and principal.union_id is not None:
            rows = await competitions.open_competitions(
                conn, await union_path(conn, principal.union_id), principal.union_id
            )
        elif principal.role is Role.ADMIN:
            rows = await competitions.open_competitions(conn, None, None)
        else:
            raise Forbidden("open competitions are listed for members and union staff")
    return [_open(r) for r in rows]


def _open(r: dict[str, Any]) -> OpenCompetition:
    kind = CompetitionKind(r["kind"])
    return OpenCompetition(
        r["competition_id"], r["name"], kind, COMPETITION_KIND_LABELS[kind], r["union_id"], r["union_name"],
        None, team_only(kind),
    )  # fmt: skip


@dataclass(frozen=True)
class SheetLine:
    """What a judge sees of an entry: on a blind stage only its encrypted number."""

    code: str
    entry_id: uuid.UUID | None
    entry_no: int | None
    team_name: str | None
    idea_title: str | None
    scored: bool


async def judge_sheet(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> list[SheetLine]:
    async with deps.pool.acquire() as conn:
        stage = await stage_or_404(conn, stage_id)
        require_cadre(caller)
        require_judge(caller.principal.sub, stage.judges)
        active = await entries.entries_of(conn, stage.competition_id, active_only=True)
        mine = {
            s.entry_id
            for s in await scoring.sheets_of_stage(conn, stage_id)
            if s.judge == caller.principal.sub
        }
    hidden = stage.blind and stage.status is StageStatus.SCORING
    lines = []
    for e in active:
        if caller.principal.union_id in e.unions:
            # Left off the sheet, not marked: a mark would tell a blind judge which code is
            # their own union's entry. Scoring it is refused all the same.
            continue
        lines.append(
            SheetLine(
                blind_code(deps.blind_key, stage_id, e.entry_id), None if hidden else e.entry_id,
                None if hidden else e.entry_no, None if hidden else e.team_name, e.idea_title,
                e.entry_id in mine,
            )
        )  # fmt: skip
    return lines


async def stage_results(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> StageRow:
    """Published results are public (公示); before that only the organisers see the standings."""
    async with deps.pool.acquire() as conn:
        stage = await stage_or_404(conn, stage_id)
        competition = await competition_or_404(conn, stage.competition_id)
        if stage.status is StageStatus.SCORING:
            require_organiser(caller, competition)
            return replace(stage, results=await rank(conn, deps, stage, competition, scored_only=True))
    return stage


async def stage_objections(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> list[ObjectionRow]:
    """For the stage's panel and the organisers."""
    async with deps.pool.acquire() as conn:
        stage = await stage_or_404(conn, stage_id)
        competition = await competition_or_404(conn, stage.competition_id)
        on_panel = caller.principal.role is Role.CADRE and caller.principal.sub in stage.judges
        if not on_panel:
            require_organiser(caller, competition)
        return await objections.objections_of_stage(conn, stage_id)


async def competition_trail(deps: Deps, caller: Caller, competition_id: uuid.UUID) -> list[TrailEntry]:
    async with deps.pool.acquire() as conn:
        require_organiser(caller, await competition_or_404(conn, competition_id))
        return await audit.trail_of_record(conn, competition_id)


async def current_honours(
    deps: Deps, caller: Caller, member_id: uuid.UUID, on: date | None
) -> list[HonourRow]:
    async with deps.pool.acquire() as conn:
        await member_scope(conn, caller, member_id, read=True)
        return await honours.current_honours(conn, member_id, on or china_date(deps.now()))


async def honour_trail(deps: Deps, caller: Caller, honour_id: uuid.UUID) -> list[TrailEntry]:
    async with deps.pool.acquire() as conn:
        honour = await honour_or_404(conn, honour_id)
        await member_scope(conn, caller, honour.member_id)
        return await audit.trail_of_subject(conn, f"honour:{honour_id}")


async def personal_data(deps: Deps, caller: Caller, member_id: uuid.UUID) -> PersonalDataSection:
    """What competitions holds on the member (个人信息副本), for the member themself."""
    return await personal_data_section(deps.pool, caller, "competitions", member_id, HOLDINGS, deps.now())
