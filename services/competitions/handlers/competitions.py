"""Setting a competition up with its stages. One transaction: the competition, its stages and
the trail are committed together or not at all."""

import uuid

from services.competitions.domain.rules import StageStatus
from services.competitions.domain.setup import NewCompetition, validate_setup
from services.competitions.handlers.common import Deps, union_path
from services.competitions.store import competitions
from services.competitions.store.competitions import CompetitionRow, StageRow
from shared import audit
from shared.auth import Caller
from shared.errors import Forbidden
from shared.events import Trace


async def create_competition(deps: Deps, caller: Caller, c: NewCompetition) -> uuid.UUID:
    validate_setup(c)
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
        await competitions.insert_competition(conn, competition, caller.actor)
        for seq, s in enumerate(c.stages, start=1):
            await competitions.insert_stage(
                conn,
                StageRow(
                    uuid.uuid4(), competition.competition_id, seq, s.name, list(s.judges), s.chief_judge,
                    s.blind, s.expert_weight, s.public_weight, s.spread_gap, s.objection_days,
                    StageStatus.SCORING, None, None, None, None,
                ),
            )  # fmt: skip
        await audit.record(
            conn, Trace.of(caller), "competition_created", f"competition:{competition.competition_id}",
            record_id=competition.competition_id, name=c.name, kind=c.kind.value, stages=len(c.stages),
        )  # fmt: skip
    return competition.competition_id
