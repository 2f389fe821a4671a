"""The competitions work queue: entries whose judges' scores spread wider than the stage's gap,
for the stage's chief judge (who reviews them) and the organisers in whose subtree the
competition is (who see the standings already: handlers/views.py `stage_results`)."""

import uuid

from services.competitions.domain import queues as rules
from services.competitions.handlers.common import Deps, competition_or_404, stage_or_404, union_path
from services.competitions.handlers.scoring import rank
from services.competitions.store import queues as store
from shared.auth import Caller, Role
from shared.errors import Forbidden
from shared.queues import QUEUE_CAP, QueueItem, by_urgency, queue_root


async def spread(deps: Deps, caller: Caller, union_id: uuid.UUID | None) -> list[QueueItem]:
    root = queue_root(caller, union_id)
    principal = caller.principal
    judge = principal.sub if principal.role is Role.CADRE else None
    items = []
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        if not principal.covers_union(await union_path(conn, root)):
            raise Forbidden("该工会不在你的管辖范围内")
        for stage_id in await store.scoring_stages(conn, root, judge, QUEUE_CAP):
            stage = await stage_or_404(conn, stage_id)
            competition = await competition_or_404(conn, stage.competition_id)
            in_scope = principal.covers_union(competition.union_path) and root in competition.union_path
            is_chief = judge is not None and judge == stage.chief_judge
            if not (in_scope or is_chief):
                continue
            for result in await rank(conn, deps, stage, competition, scored_only=True):
                if rules.awaits_review(result):
                    items.append(
                        rules.spread_item(
                            competition_name=competition.name,
                            stage_id=stage_id,
                            stage_name=stage.name,
                            union_id=competition.union_id,
                            result=result,
                            spread_gap=stage.spread_gap,
                            is_chief_judge=is_chief,
                        )
                    )
    return by_urgency(items)
