"""The per-subject sequence of this service's own events (the envelopes' subject_version)."""

from shared.db import Conn


async def next_event_version(conn: Conn, subject: str) -> int:
    version = await conn.fetchval(
        """INSERT INTO event_sequences (subject, version) VALUES ($1, 1)
           ON CONFLICT (subject) DO UPDATE SET version = event_sequences.version + 1
           RETURNING version""",
        subject,
    )
    return int(version)
