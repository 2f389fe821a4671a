"""Awards from final results (with the honours that come with them) and the adoption of golden
ideas. Each runs in one transaction with its trail and events (through the outbox)."""

import uuid
from dataclasses import dataclass
from datetime import date

from services.competitions.domain.results import award_rank, check_honour, require_adoptable
from services.competitions.handlers.common import (
    Deps,
    active_members,
    competition_or_404,
    entry_of_competition,
    require_organiser,
    stage_or_404,
)
from services.competitions.store import awards, competitions, entries, honours
from services.competitions.store.honours import HonourRow
from shared import audit
from shared.auth import Caller
from shared.contracts.competitions import AwardGranted, CompetitionRef, HonourGranted, HonourKind, IdeaAdopted
from shared.db import Conn
from shared.errors import Conflict, NotFound
from shared.events import Trace, china_date


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
    now = deps.now()
    today = china_date(now)
    check_honour(a.honour_kind, a.honour_valid_until, today)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        competition = await competition_or_404(conn, competition_id)
        require_organiser(caller, competition)
        stage = await stage_or_404(conn, a.stage_id)
        if stage.competition_id != competition_id:
            raise NotFound("the stage is not in this competition")
        rank = award_rank(stage.status, stage.results, a.entry_id)
        entry = await entry_of_competition(conn, competition_id, a.entry_id)
        award_id = uuid.uuid4()
        if not await awards.insert_award(
            conn, award_id, entry, stage.stage_id, a.title, rank, a.honour_kind, caller.actor, now
        ):
            raise Conflict("the entry already has this award")
        await audit.record(
            conn, trace, "award_granted", f"entry:{entry.entry_id}", record_id=competition_id, title=a.title,
            rank=rank, honour_kind=a.honour_kind.value if a.honour_kind else None,
        )  # fmt: skip
        for member_id in await active_members(conn, entry):
            honour = _honour_with(a, member_id, today, competition_id, entry.team_name)
            if honour is not None:
                await _grant_honour(conn, deps, trace, honour, award_id, competition.ref)
            await deps.events.emit(
                conn, trace, member_id,
                AwardGranted(
                    member_id=member_id, competition=competition.ref, entry=entry.ref, award_id=award_id,
                    title=a.title, rank=rank, honour_id=honour.honour_id if honour else None, granted_at=now,
                ),
            )  # fmt: skip
    return award_id


def _honour_with(
    a: NewAward, member_id: uuid.UUID, today: date, competition_id: uuid.UUID, team_name: str | None
) -> HonourRow | None:
    """The title that comes with the award, if any, for one member of the entry."""
    if a.honour_kind is None or a.honour_valid_until is None:
        return None
    return HonourRow(
        uuid.uuid4(), member_id, a.honour_kind, a.title, today, a.honour_valid_until, None, competition_id,
        team_name,
    )  # fmt: skip


async def _grant_honour(
    conn: Conn, deps: Deps, trace: Trace, honour: HonourRow, award_id: uuid.UUID, competition: CompetitionRef
) -> None:
    await honours.insert_honour(conn, honour, award_id, trace.actor)
    await deps.events.emit(
        conn, trace, honour.member_id,
        HonourGranted(
            member_id=honour.member_id, honour_id=honour.honour_id, kind=honour.kind, title=honour.title,
            granted_on=honour.granted_on, valid_until=honour.valid_until, competition=competition,
            team_name=honour.team_name,
        ),
    )  # fmt: skip


async def adopt_idea(deps: Deps, caller: Caller, competition_id: uuid.UUID, entry_id: uuid.UUID) -> None:
    """采纳: a golden idea is adopted once it has a final result (the panel reviewed it)."""
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        competition = await competition_or_404(conn, competition_id)
        require_organiser(caller, competition)
        entry = await entry_of_competition(conn, competition_id, entry_id)
        stages = await competitions.stages_of(conn, competition_id)
        require_adoptable(competition.kind, [(s.status, s.results) for s in stages], entry_id)
        if not await entries.adopt_idea(conn, entry_id, caller.actor, now):
            raise Conflict("the idea was adopted already")
        await audit.record(
            conn, trace, "idea_adopted", f"entry:{entry_id}", record_id=competition_id, title=entry.idea_title
        )
        for member_id in await active_members(conn, entry):
            await deps.events.emit(
                conn, trace, member_id,
                IdeaAdopted(
                    member_id=member_id, competition=competition.ref, entry=entry.ref,
                    idea_title=entry.idea_title or "", adopted_at=now,
                ),
            )  # fmt: skip
