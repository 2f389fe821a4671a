"""What the competitions handlers share: their dependencies, loading a record or answering 404,
and the access checks."""

import uuid
from dataclasses import dataclass

import asyncpg

from services.competitions.store import competitions, entries
from services.competitions.store.competitions import CompetitionRow, StageRow
from services.competitions.store.entries import EntryRow
from shared import membership
from shared.auth import Caller, Role
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.events import Clock, EventWriter, utcnow


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    events: EventWriter
    blind_key: bytes  # keys the encrypted entry numbers judges see
    now: Clock = utcnow


async def union_path(conn: Conn, union_id: uuid.UUID) -> list[uuid.UUID]:
    union = await membership.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} is not known to the competitions service")
    return union.path


async def competition_or_404(conn: Conn, competition_id: uuid.UUID) -> CompetitionRow:
    competition = await competitions.get_competition(conn, competition_id)
    if competition is None:
        raise NotFound(f"competition {competition_id} does not exist")
    return competition


async def stage_or_404(conn: Conn, stage_id: uuid.UUID, *, for_update: bool = False) -> StageRow:
    stage = await competitions.get_stage(conn, stage_id, for_update=for_update)
    if stage is None:
        raise NotFound(f"stage {stage_id} does not exist")
    return stage


async def entry_of_competition(conn: Conn, competition_id: uuid.UUID, entry_id: uuid.UUID) -> EntryRow:
    entry = await entries.get_entry(conn, entry_id)
    if entry is None or entry.competition_id != competition_id:
        raise NotFound(f"entry {entry_id} is not in this competition")
    return entry


async def active_members(conn: Conn, entry: EntryRow) -> list[uuid.UUID]:
    """The entry's members who are members still (a leaver gets no result, award or honour)."""
    active = []
    for member_id in entry.member_ids:
        member = await membership.get_member(conn, member_id)
        if member is not None and member.active:
            active.append(member_id)
    return active


def require_organiser(caller: Caller, competition: CompetitionRow) -> None:
    """Cadres of the organising union or above it, and admins."""
    if not caller.principal.covers_union(competition.union_path):
        raise Forbidden("this competition is outside your scope")


def require_cadre(caller: Caller) -> None:
    if caller.principal.role is not Role.CADRE:
        raise Forbidden("judges are cadres named on the stage's panel")


def require_chief_judge(caller: Caller, stage: StageRow) -> None:
    if caller.principal.role is not Role.CADRE or caller.principal.sub != stage.chief_judge:
        raise Forbidden("this is for the stage's chief judge")
