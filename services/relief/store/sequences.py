"""The per-subject sequence of this service's own events (the envelopes' subject_version)."""

import uuid

from shared.db import Conn


async def next_event_version(conn: Conn, member_id: uuid.UUID) -> int:
    version = await conn.fetchval(
        """INSERT INTO event_sequences (member_id, version) VALUES ($1, 1)
           ON CONFLICT (member_id) DO UPDATE SET version = event_sequences.version + 1
           RETURNING version""",
        member_id,
    )
    return int(version)
