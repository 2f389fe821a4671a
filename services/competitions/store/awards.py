"""Awards granted from final results: explicit SQL over asyncpg."""

import uuid
from datetime import datetime

from services.competitions.store.entries import EntryRow
from shared.contracts.competitions import HonourKind
from shared.db import Conn


async def insert_award(
    conn: Conn,
    award_id: uuid.UUID,
    entry: EntryRow,
    stage_id: uuid.UUID,
    title: str,
    rank: int | None,
    honour_kind: HonourKind | None,
    by: str,
    at: datetime,
) -> bool:
    status = await conn.execute(
        """INSERT INTO awards (award_id, competition_id, entry_id, stage_id, title, rank, honour_kind,
               granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT ON CONSTRAINT one_award_title_per_entry DO NOTHING""",
        award_id, entry.competition_id, entry.entry_id, stage_id, title, rank,
        honour_kind.value if honour_kind else None, by, at,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")
