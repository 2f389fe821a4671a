"""The signing keys table: explicit SQL over asyncpg."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.db import Conn

# Held while the first key is made, so two replicas starting together make one.
FIRST_KEY_LOCK = 7_017_001


@dataclass(frozen=True)
class KeyRow:
    key_id: uuid.UUID
    private_key: bytes  # wrapped
    public_key: bytes
    created_at: datetime
    activates_at: datetime


async def all_keys(conn: Conn) -> list[KeyRow]:
    rows = await conn.fetch(
        """SELECT key_id, private_key, public_key, created_at, activates_at
           FROM signing_keys ORDER BY activates_at"""
    )
    return [
        KeyRow(r["key_id"], r["private_key"], r["public_key"], r["created_at"], r["activates_at"])
        for r in rows
    ]


async def insert_key(conn: Conn, key: KeyRow) -> None:
    await conn.execute(
        """INSERT INTO signing_keys (key_id, private_key, public_key, created_at, activates_at)
           VALUES ($1, $2, $3, $4, $5)""",
        key.key_id, key.private_key, key.public_key, key.created_at, key.activates_at,
    )  # fmt: skip


async def lock_keys(conn: Conn) -> None:
    """Serialise key changes (first key, rotations) across replicas, for this transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", FIRST_KEY_LOCK)
