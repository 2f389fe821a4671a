"""SQL for the competitions work queue: stages still scoring that a caller oversees."""

import uuid

from services.competitions.domain.rules import StageStatus
from shared.db import Conn


async def scoring_stages(
    conn: Conn, union_id: uuid.UUID, chief_judge: str | None, limit: int
) -> list[uuid.UUID]:
    """Stages still scoring of competitions organised in the subtree, or chaired by `chief_judge`."""
    rows = await conn.fetch(
        """SELECT s.stage_id FROM stages s
           JOIN competitions c USING (competition_id) JOIN unions u ON u.union_id = c.union_id
           WHERE s.status = $1 AND (u.path @> ARRAY[$2::uuid] OR s.chief_judge = $3)
             AND EXISTS (SELECT FROM score_sheets sh WHERE sh.stage_id = s.stage_id)
           ORDER BY s.stage_id LIMIT $4""",
        StageStatus.SCORING.value, union_id, chief_judge, limit,
    )  # fmt: skip
    return [r["stage_id"] for r in rows]
