"""Commands on competitions: set up, register, score, publish, object, finalize, award. Each runs
in one transaction: the change, its trail and its outgoing events (through the outbox) are
committed together or not at all."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from services.competitions.domain import rules, scoring
from services.competitions.domain.honours import validate_term
from services.competitions.domain.rules import StageStatus
from services.competitions.domain.scoring import Criterion, EntryInput, EntryResult, Sources, show
from services.competitions.handlers.common import (
    Deps,
    Trace,
    audit,
    china_date,
    competition_or_404,
    emit,
    require_cadre,
    require_organiser,
    trace,
    union_path,
)
from services.competitions.store import competitions as q
from services.competitions.store.competitions import (
    CompetitionRow,
    EntryRow,
    HonourRow,
    ObjectionRow,
    SheetRow,
    StageRow,
)
from shared import membership_view as qm
from shared.auth import Caller, Role
from shared.contracts.competitions import (
    AwardGranted,
    CompetitionKind,
    EntryRegistered,
    EntryWithdrawn,
    HonourGranted,
    HonourKind,
    IdeaAdopted,
    ResultFinalized,
    WithdrawalReason,
)
from shared.contracts.enrollment import MemberSnapshot
from shared.db import Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

# Setting up -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    name: str
    weight: int
    max_points: Decimal


@dataclass(frozen=True)
class StageSpec:
    name: str
    judges: tuple[str, ...]
    chief_judge: str
    blind: bool
    expert_weight: int
    public_weight: int
    spread_gap: Decimal
    objection_days: int


@dataclass(frozen=True)
class NewCompetition:
    name: str
    kind: CompetitionKind
    union_id: uuid.UUID
    criteria: tuple[CriterionSpec, ...]
    stages: tuple[StageSpec, ...]


def _validate_setup(c: NewCompetition) -> None:
    keys = [x.key for x in c.criteria]
    if len(set(keys)) != len(keys):
        raise InvalidInput("criterion keys must be unique")
    for x in c.criteria:
        Criterion(x.key, x.weight, x.max_points)  # validates weight and maximum
    for s in c.stages:
        Sources(s.expert_weight, s.public_weight)
        if len(set(s.judges)) != len(s.judges):
            raise InvalidInput(f"stage {s.name!r}: a judge sits on the panel once")
        if s.chief_judge not in s.judges:
            raise InvalidInput(f"stage {s.name!r}: the chief judge is one of the panel")


async def create_competition(deps: Deps, caller: Caller, c: NewCompetition) -> uuid.UUID:
    _validate_setup(c)
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        path = await union_path(conn, c.union_id)
        if not caller.principal.covers_union(path):
            raise Forbidden("a competition is organised by your union or one below it")
        competition = CompetitionRow(
            uuid.uuid4(), c.name, c.kind, c.union_id, path,
            [
                {"key": x.key, "name": x.name, "weight": x.weight, "max_points": str(x.max_points)}
                for x in c.criteria
            ],
            now,
        )  # fmt: skip
        await q.insert_competition(conn, competition, caller.actor)
        for seq, s in enumerate(c.stages, start=1):
            await q.insert_stage(
                conn,
                StageRow(
                    uuid.uuid4(), competition.competition_id, seq, s.name, list(s.judges),
                    s.chief_judge, s.blind,
                    s.expert_weight, s.public_weight, s.spread_gap, s.objection_days, StageStatus.SCORING,
                    None, None, None, None,
                ),
            )  # fmt: skip
        await audit(
            conn, trace(caller), "competition_created", competition.competition_id,
            f"competition:{competition.competition_id}", name=c.name, kind=c.kind.value, stages=len(c.stages),
        )  # fmt: skip
    return competition.competition_id


# Registration -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEntry:
    member_ids: tuple[uuid.UUID, ...]
    team_name: str | None
    team_union_id: uuid.UUID | None  # a team: the union group it belongs to
    idea_title: str | None


async def register_entry(deps: Deps, caller: Caller, competition_id: uuid.UUID, e: NewEntry) -> EntryRow:
    if not e.member_ids:
        raise InvalidInput("an entry names at least one member (member_ids)")
    if len(set(e.member_ids)) != len(e.member_ids):
        raise InvalidInput("a member is named once in an entry")
    is_team = e.team_name is not None
    if not is_team and len(e.member_ids) != 1:
        raise InvalidInput("an individual entry names one member; a team entry has a team_name")
    if is_team and e.team_union_id is None:
        raise InvalidInput("a team entry names its union group (team_union_id)")
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        competition = await competition_or_404(conn, competition_id)
        if competition.kind is CompetitionKind.TEAM_TITLE and not is_team:
            raise InvalidInput("a team-title competition takes team entries only")
        if competition.kind is CompetitionKind.GOLDEN_IDEAS and not e.idea_title:
            raise InvalidInput("a golden-ideas entry names its idea (idea_title)")
        self_service = caller.principal.role is Role.MEMBER and e.member_ids == (caller.principal.member_id,)
        # The member themself, the organisers, or the cadres of every entrant's own union.
        by_organiser = caller.principal.covers_union(competition.union_path)
        stages = await q.stages_of(conn, competition_id)
        if any(s.status is not StageStatus.SCORING for s in stages):
            raise Conflict("registration is closed: results have been published")
        unions = []
        for member_id in e.member_ids:
            member = await qm.get_member(conn, member_id)
            if member is None:
                raise NotFound(f"member {member_id} is not known to the competitions service")
            if not member.active:
                raise Conflict("only members take part", member_id=str(member_id), status=member.status.value)
            path = await union_path(conn, member.base_union_id)
            if competition.union_id not in path:
                raise Forbidden(
                    "the member's union is outside the organising union", member_id=str(member_id)
                )
            if not (self_service or by_organiser or caller.principal.covers_union(path)):
                raise Forbidden("this member is outside your scope", member_id=str(member_id))
            unions.append(member.base_union_id)
        entry_union = e.team_union_id if is_team and e.team_union_id else unions[0]
        team_path = await union_path(conn, entry_union)
        if competition.union_id not in team_path:
            raise Forbidden("the team's union is outside the organising union")
        if not (self_service or by_organiser or caller.principal.covers_union(team_path)):
            raise Forbidden("the team's union is outside your scope")
        try:
            async with conn.transaction():
                entry = await q.insert_entry(
                    conn,
                    EntryRow(
                        uuid.uuid4(), competition_id, 0, e.team_name, entry_union, e.idea_title, "active",
                        now, list(e.member_ids), unions,
                    ),
                    caller.actor,
                )  # fmt: skip
        except asyncpg.UniqueViolationError as exc:
            raise Conflict("a member enters a competition once") from exc
        await audit(
            conn, trace(caller), "entry_registered", competition_id, f"entry:{entry.entry_id}",
            entry_no=entry.entry_no, members=[str(m) for m in e.member_ids], team=e.team_name,
        )  # fmt: skip
        for member_id in e.member_ids:
            await emit(
                conn, deps, trace(caller), member_id,
                EntryRegistered(
                    member_id=member_id, competition=competition.ref, entry=entry.ref, registered_at=now
                ),
            )  # fmt: skip
    return entry


async def withdraw_leaver(conn: Conn, deps: Deps, trace: Trace, member: MemberSnapshot) -> None:
    """A member who left: their individual entries in unfinished competitions are withdrawn (a
    team entry stays; the leaver gets no result from it)."""
    now = deps.now()
    for entry in await q.active_entries_of_member(conn, member.member_id):
        if entry.team_name is not None:
            continue
        competition = await competition_or_404(conn, entry.competition_id)
        await q.withdraw_entry(conn, entry.entry_id, now)
        await audit(
            conn, trace, "entry_withdrawn", entry.competition_id, f"entry:{entry.entry_id}",
            WithdrawalReason.MEMBER_LEFT.value, member_id=str(member.member_id),
        )  # fmt: skip
        await emit(
            conn, deps, trace, member.member_id,
            EntryWithdrawn(
                member_id=member.member_id, competition=competition.ref, entry=entry.ref,
                reason=WithdrawalReason.MEMBER_LEFT, withdrawn_at=now,
            ),
        )  # fmt: skip


# Scoring ----------------------------------------------------------------------------------------


async def _stage_or_404(conn: Conn, stage_id: uuid.UUID, *, for_update: bool = False) -> StageRow:
    stage = await q.get_stage(conn, stage_id, for_update=for_update)
    if stage is None:
        raise NotFound(f"stage {stage_id} does not exist")
    return stage


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
        stage = await _stage_or_404(conn, stage_id)
        require_cadre(caller)
        rules.require_judge(caller.principal.sub, stage.judges)
        entries = await q.entries_of(conn, stage.competition_id, active_only=True)
        mine = {
            s.entry_id for s in await q.sheets_of_stage(conn, stage_id) if s.judge == caller.principal.sub
        }
    lines = []
    for e in entries:
        if caller.principal.union_id in e.unions:
            # Left off the sheet, not marked: a mark would tell a blind judge which code is
            # their own union's entry. Scoring it is refused all the same.
            continue
        code = rules.blind_code(deps.blind_key, stage_id, e.entry_id)
        hidden = stage.blind and stage.status is StageStatus.SCORING
        lines.append(
            SheetLine(
                code, None if hidden else e.entry_id, None if hidden else e.entry_no,
                None if hidden else e.team_name, e.idea_title, e.entry_id in mine,
            )
        )  # fmt: skip
    return lines


async def _entry_by_code(conn: Conn, deps: Deps, stage: StageRow, code: str) -> EntryRow:
    for e in await q.entries_of(conn, stage.competition_id, active_only=True):
        if rules.blind_code(deps.blind_key, stage.stage_id, e.entry_id) == code:
            return e
    raise NotFound("no entry of this stage has that code")


async def submit_scores(
    deps: Deps,
    caller: Caller,
    stage_id: uuid.UUID,
    entry_id: uuid.UUID | None,
    code: str | None,
    points: dict[str, Decimal],
) -> SheetRow:
    """A judge's sheet for one entry: checked, then locked (a second sheet is refused)."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await _stage_or_404(conn, stage_id)
        require_cadre(caller)
        rules.require_judge(caller.principal.sub, stage.judges)
        rules.require_status(stage.status, StageStatus.SCORING, doing="score")
        competition = await competition_or_404(conn, stage.competition_id)
        if code is not None:
            entry = await _entry_by_code(conn, deps, stage, code)
        elif entry_id is not None:
            if stage.blind:
                raise InvalidInput("this stage is judged blind: score by the entry's code")
            found = await q.get_entry(conn, entry_id)
            if found is None or found.competition_id != stage.competition_id:
                raise NotFound(f"entry {entry_id} is not in this competition")
            entry = found
        else:
            raise InvalidInput("name the entry: entry_id, or code on a blind stage")
        if not entry.active:
            raise Conflict("the entry was withdrawn")
        rules.require_no_conflict(caller.principal.union_id, entry.unions)
        scoring.validate_points(competition.scoring_criteria(), points)
        sheet = SheetRow(uuid.uuid4(), stage_id, entry.entry_id, caller.principal.sub, points, now)
        if not await q.insert_sheet(conn, sheet, caller.principal.union_id):
            raise Conflict(
                "you already scored this entry: a submitted sheet is locked", code="already_scored"
            )
        await audit(
            conn, trace(caller), "sheet_submitted", stage.competition_id, f"entry:{entry.entry_id}",
            stage_id=str(stage_id), points={k: str(v) for k, v in points.items()},
        )  # fmt: skip
    return sheet


async def record_votes(
    deps: Deps, caller: Caller, stage_id: uuid.UUID, entry_id: uuid.UUID, votes: int
) -> None:
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await _stage_or_404(conn, stage_id, for_update=True)
        require_organiser(caller, await competition_or_404(conn, stage.competition_id))
        rules.require_status(stage.status, StageStatus.SCORING, doing="record votes")
        if stage.public_weight == 0:
            raise Conflict("this stage has no public vote")
        entry = await q.get_entry(conn, entry_id)
        if entry is None or entry.competition_id != stage.competition_id:
            raise NotFound(f"entry {entry_id} is not in this competition")
        await q.set_votes(conn, stage_id, entry_id, votes)
        await audit(
            conn, trace(caller), "votes_recorded", stage.competition_id, f"entry:{entry_id}",
            stage_id=str(stage_id), votes=votes,
        )  # fmt: skip


# Results ----------------------------------------------------------------------------------------


async def _rank(
    conn: Conn, deps: Deps, stage: StageRow, competition: CompetitionRow, *, scored_only: bool = False
) -> list[dict[str, Any]]:
    """The ranking of the stage's active entries; `scored_only` for standings while scoring goes on."""
    entries = await q.entries_of(conn, stage.competition_id, active_only=True)
    sheets = await q.sheets_of_stage(conn, stage.stage_id)
    if scored_only:
        scored = {s.entry_id for s in sheets}
        entries = [e for e in entries if e.entry_id in scored]
        if not entries:
            return []
    if not entries:
        raise Conflict("the stage has no entries")
    votes = await q.votes_of_stage(conn, stage.stage_id)
    inputs = [
        EntryInput(
            e.entry_id, e.entry_no, e.registered_at, [s.points for s in sheets if s.entry_id == e.entry_id],
            votes.get(e.entry_id, 0),
        )
        for e in entries
    ]  # fmt: skip
    ranked = scoring.rank_stage(competition.scoring_criteria(), stage.sources, inputs, stage.spread_gap)
    by_id = {e.entry_id: e for e in entries}
    reviewed = await q.reviewed_entries(conn, stage.stage_id)
    return [
        _result_json(
            r,
            by_id[r.entry_id],
            rules.blind_code(deps.blind_key, stage.stage_id, r.entry_id),
            r.entry_id in reviewed,
        )
        for r in ranked
    ]


def _result_json(r: EntryResult, e: EntryRow, code: str, reviewed: bool) -> dict[str, Any]:
    return {
        "rank": r.rank, "entry_id": str(r.entry_id), "entry_no": r.entry_no, "code": code,
        "team_name": e.team_name, "member_ids": [str(m) for m in e.member_ids],
        "score": str(show(r.score)), "expert_score": str(show(r.expert_score)),
        "public_score": str(show(r.public_score)), "judges": r.judges, "spread": str(show(r.spread)),
        "flagged": r.flagged, "reviewed_by_chief_judge": reviewed,
    }  # fmt: skip


async def publish_results(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> StageRow:
    """成绩公示: the ranking is published, codes decoded, the objection window opens."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await _stage_or_404(conn, stage_id, for_update=True)
        competition = await competition_or_404(conn, stage.competition_id)
        require_organiser(caller, competition)
        rules.require_status(stage.status, StageStatus.SCORING, doing="publish")
        results = await _rank(conn, deps, stage, competition)
        unreviewed = [r["entry_no"] for r in results if r["flagged"] and not r["reviewed_by_chief_judge"]]
        if unreviewed:
            raise Conflict(
                "judges' scores spread wider than the stage's gap: the chief judge reviews them first",
                entries=unreviewed,
            )
        _, ends = rules.objection_window(now, stage.objection_days)
        stage = replace(
            stage, status=StageStatus.PUBLISHED, published_at=now, objection_ends_at=ends, results=results
        )
        await q.save_stage_state(conn, stage)
        await audit(
            conn, trace(caller), "results_published", competition.competition_id, f"stage:{stage_id}",
            objection_ends_at=ends.isoformat(), flagged=[r["entry_no"] for r in results if r["flagged"]],
        )  # fmt: skip
    return stage


async def stage_results(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> StageRow:
    """Published results are public (公示); before that only the organisers see the standings."""
    async with deps.pool.acquire() as conn:
        stage = await _stage_or_404(conn, stage_id)
        competition = await competition_or_404(conn, stage.competition_id)
        if stage.status is StageStatus.SCORING:
            require_organiser(caller, competition)
            return replace(stage, results=await _rank(conn, deps, stage, competition, scored_only=True))
    return stage


async def review_spread(
    deps: Deps, caller: Caller, stage_id: uuid.UUID, entry_id: uuid.UUID, note: str
) -> None:
    """The chief judge looks at a flagged entry (a wide spread between judges) before publication;
    a wrong sheet is put right afterwards only through an objection."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await _stage_or_404(conn, stage_id, for_update=True)
        _require_chief_judge(caller, stage)
        rules.require_status(stage.status, StageStatus.SCORING, doing="review a spread")
        competition = await competition_or_404(conn, stage.competition_id)
        standing = {r["entry_id"]: r for r in await _rank(conn, deps, stage, competition, scored_only=True)}
        result = standing.get(str(entry_id))
        if result is None or not result["flagged"]:
            raise Conflict("the entry is not flagged: its judges' scores are within the gap")
        if not await q.insert_review(conn, stage_id, entry_id, caller.actor, note, now):
            raise Conflict("the chief judge already reviewed this entry")
        await audit(
            conn, trace(caller), "spread_reviewed", competition.competition_id, f"entry:{entry_id}", note,
            stage_id=str(stage_id), spread=result["spread"],
        )  # fmt: skip


def _require_chief_judge(caller: Caller, stage: StageRow) -> None:
    if caller.principal.role is not Role.CADRE or caller.principal.sub != stage.chief_judge:
        raise Forbidden("this is for the stage's chief judge")


async def raise_objection(
    deps: Deps, caller: Caller, stage_id: uuid.UUID, entry_id: uuid.UUID, reason: str
) -> ObjectionRow:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await _stage_or_404(conn, stage_id, for_update=True)
        rules.require_status(stage.status, StageStatus.PUBLISHED, doing="object")
        assert stage.objection_ends_at is not None
        rules.require_window_open(now, stage.objection_ends_at)
        entry = await q.get_entry(conn, entry_id)
        if entry is None or entry.competition_id != stage.competition_id:
            raise NotFound(f"entry {entry_id} is not in this competition")
        p = caller.principal
        if not (p.role is Role.MEMBER and p.member_id in entry.member_ids):
            raise Forbidden("an objection is raised by the entrant")
        objection = ObjectionRow(uuid.uuid4(), stage_id, entry_id, caller.actor, reason, "open", None, now)
        await q.insert_objection(conn, objection)
        await audit(
            conn, trace(caller), "objection_raised", stage.competition_id,
            f"objection:{objection.objection_id}",
            reason, entry_id=str(entry_id), stage_id=str(stage_id),
        )  # fmt: skip
    return objection


@dataclass(frozen=True)
class Correction:
    judge: str
    points: dict[str, Decimal]


async def resolve_objection(
    deps: Deps,
    caller: Caller,
    objection_id: uuid.UUID,
    upheld: bool,
    resolution: str,
    corrections: Sequence[Correction],
) -> ObjectionRow:
    """Only the chief judge resolves; an upheld objection may correct sheets of that entry (old
    and new points go to the trail) and the ranking is computed again."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        objection = await q.get_objection(conn, objection_id)
        if objection is None:
            raise NotFound(f"objection {objection_id} does not exist")
        stage = await _stage_or_404(conn, objection.stage_id, for_update=True)
        _require_chief_judge(caller, stage)
        rules.require_status(stage.status, StageStatus.PUBLISHED, doing="resolve an objection")
        if objection.status != "open":
            raise Conflict("the objection is already resolved", status=objection.status)
        if corrections and not upheld:
            raise InvalidInput("scores are corrected only when the objection is upheld")
        competition = await competition_or_404(conn, stage.competition_id)
        for c in corrections:
            sheet = await q.get_sheet(conn, stage.stage_id, objection.entry_id, c.judge)
            if sheet is None:
                raise NotFound(f"judge {c.judge!r} has no sheet for this entry")
            scoring.validate_points(competition.scoring_criteria(), c.points)
            await q.correct_sheet(conn, sheet.sheet_id, c.points)
            await audit(
                conn, trace(caller), "score_corrected", competition.competition_id,
                f"entry:{objection.entry_id}",
                resolution, judge=c.judge, before={k: str(v) for k, v in sheet.points.items()},
                after={k: str(v) for k, v in c.points.items()}, objection_id=str(objection_id),
            )  # fmt: skip
        status = "upheld" if upheld else "dismissed"
        await q.resolve_objection(conn, objection_id, status, resolution, caller.actor, now)
        if corrections:
            stage = replace(stage, results=await _rank(conn, deps, stage, competition))
            await q.save_stage_state(conn, stage)
        await audit(
            conn, trace(caller), f"objection_{status}", competition.competition_id,
            f"objection:{objection_id}",
            resolution, corrections=len(corrections),
        )  # fmt: skip
    return replace(objection, status=status, resolution=resolution)


async def objections(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> list[ObjectionRow]:
    async with deps.pool.acquire() as conn:
        stage = await _stage_or_404(conn, stage_id)
        competition = await competition_or_404(conn, stage.competition_id)
        on_panel = caller.principal.role is Role.CADRE and caller.principal.sub in stage.judges
        if not on_panel:
            require_organiser(caller, competition)
        return await q.objections_of_stage(conn, stage_id)


async def finalize_results(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> StageRow:
    """After the window, with every objection resolved: final. Entries withdrawn meanwhile drop
    out of the ranking; every active member of a ranked entry gets ResultFinalized."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await _stage_or_404(conn, stage_id, for_update=True)
        competition = await competition_or_404(conn, stage.competition_id)
        require_organiser(caller, competition)
        rules.require_status(stage.status, StageStatus.PUBLISHED, doing="finalize")
        assert stage.objection_ends_at is not None
        still_open = sum(1 for o in await q.objections_of_stage(conn, stage_id) if o.status == "open")
        rules.require_final_allowed(now, stage.objection_ends_at, still_open)
        results = await _rank(conn, deps, stage, competition)
        stage = replace(stage, status=StageStatus.FINAL, finalized_at=now, results=results)
        await q.save_stage_state(conn, stage)
        await audit(conn, trace(caller), "results_finalized", competition.competition_id, f"stage:{stage_id}")
        for r in results:
            entry = await q.get_entry(conn, uuid.UUID(r["entry_id"]))
            assert entry is not None
            for member_id in await _active_members(conn, entry):
                await emit(
                    conn, deps, trace(caller), member_id,
                    ResultFinalized(
                        member_id=member_id, competition=competition.ref, entry=entry.ref, stage_id=stage_id,
                        stage_name=stage.name, rank=r["rank"], of_entries=len(results),
                        score=Decimal(r["score"]),
                        finalized_at=now,
                    ),
                )  # fmt: skip
    return stage


async def _active_members(conn: Conn, entry: EntryRow) -> list[uuid.UUID]:
    active = []
    for member_id in entry.member_ids:
        member = await qm.get_member(conn, member_id)
        if member is not None and member.active:
            active.append(member_id)
    return active


# Awards -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAward:
    stage_id: uuid.UUID
    entry_id: uuid.UUID
    title: str
    honour_kind: HonourKind | None
    honour_valid_until: date | None


async def grant_award(deps: Deps, caller: Caller, competition_id: uuid.UUID, a: NewAward) -> uuid.UUID:
    """From final results only; with `honour_kind`, each member of the entry also gets the title
    (e.g. 技术能手, or 工人先锋号 for a team) for at most five years."""
    if (a.honour_kind is None) != (a.honour_valid_until is None):
        raise InvalidInput("an honour names both its kind and valid_until")
    now = deps.now()
    today = china_date(now)
    if a.honour_valid_until is not None:
        validate_term(today, a.honour_valid_until)
    async with deps.pool.acquire() as conn, conn.transaction():
        competition = await competition_or_404(conn, competition_id)
        require_organiser(caller, competition)
        stage = await _stage_or_404(conn, a.stage_id)
        if stage.competition_id != competition_id:
            raise NotFound("the stage is not in this competition")
        rules.require_status(stage.status, StageStatus.FINAL, doing="grant awards")
        ranked = {r["entry_id"]: r for r in stage.results or []}
        if str(a.entry_id) not in ranked:
            raise Conflict("the entry has no final result in this stage")
        rank = int(ranked[str(a.entry_id)]["rank"])
        entry = await q.get_entry(conn, a.entry_id)
        assert entry is not None
        award_id = uuid.uuid4()
        if not await q.insert_award(
            conn, award_id, entry, stage.stage_id, a.title, rank, a.honour_kind, caller.actor, now
        ):
            raise Conflict("the entry already has this award")
        await audit(
            conn, trace(caller), "award_granted", competition_id, f"entry:{entry.entry_id}", title=a.title,
            rank=rank, honour_kind=a.honour_kind.value if a.honour_kind else None,
        )  # fmt: skip
        for member_id in await _active_members(conn, entry):
            honour_id = None
            if a.honour_kind is not None and a.honour_valid_until is not None:
                honour = HonourRow(
                    uuid.uuid4(), member_id, a.honour_kind, a.title, today, a.honour_valid_until, None,
                    competition_id, entry.team_name,
                )  # fmt: skip
                await q.insert_honour(conn, honour, award_id, caller.actor)
                honour_id = honour.honour_id
                await emit(
                    conn, deps, trace(caller), member_id,
                    HonourGranted(
                        member_id=member_id, honour_id=honour.honour_id, kind=honour.kind, title=honour.title,
                        granted_on=today, valid_until=honour.valid_until, competition=competition.ref,
                        team_name=entry.team_name,
                    ),
                )  # fmt: skip
            await emit(
                conn, deps, trace(caller), member_id,
                AwardGranted(
                    member_id=member_id, competition=competition.ref, entry=entry.ref, award_id=award_id,
                    title=a.title, rank=rank, honour_id=honour_id, granted_at=now,
                ),
            )  # fmt: skip
    return award_id


async def adopt_idea(deps: Deps, caller: Caller, competition_id: uuid.UUID, entry_id: uuid.UUID) -> None:
    """采纳: a golden idea is adopted once it has a final result (the panel reviewed it)."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        competition = await competition_or_404(conn, competition_id)
        require_organiser(caller, competition)
        if competition.kind is not CompetitionKind.GOLDEN_IDEAS:
            raise Conflict("only golden ideas are adopted")
        entry = await q.get_entry(conn, entry_id)
        if entry is None or entry.competition_id != competition_id:
            raise NotFound(f"entry {entry_id} is not in this competition")
        reviewed = any(
            s.status is StageStatus.FINAL and any(r["entry_id"] == str(entry_id) for r in s.results or [])
            for s in await q.stages_of(conn, competition_id)
        )
        if not reviewed:
            raise Conflict("an idea is adopted after the panel's review is final")
        if not await q.adopt_idea(conn, entry_id, caller.actor, now):
            raise Conflict("the idea was adopted already")
        await audit(
            conn, trace(caller), "idea_adopted", competition_id, f"entry:{entry_id}", title=entry.idea_title
        )
        for member_id in await _active_members(conn, entry):
            await emit(
                conn, deps, trace(caller), member_id,
                IdeaAdopted(
                    member_id=member_id, competition=competition.ref, entry=entry.ref,
                    idea_title=entry.idea_title or "", adopted_at=now,
                ),
            )  # fmt: skip


# Reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetitionView:
    competition: CompetitionRow
    stages: list[StageRow]
    entries: list[EntryRow] | None  # organisers only


async def get_competition(deps: Deps, caller: Caller, competition_id: uuid.UUID) -> CompetitionView:
    async with deps.pool.acquire() as conn:
        competition = await competition_or_404(conn, competition_id)
        stages = await q.stages_of(conn, competition_id)
        entries = None
        if caller.principal.covers_union(competition.union_path):
            entries = await q.entries_of(conn, competition_id)
    return CompetitionView(competition, stages, entries)


async def trail(deps: Deps, caller: Caller, competition_id: uuid.UUID) -> list[q.TrailEntry]:
    async with deps.pool.acquire() as conn:
        require_organiser(caller, await competition_or_404(conn, competition_id))
        return await q.trail(conn, competition_id)
