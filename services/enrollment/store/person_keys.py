"""SQL for the persons' data keys (crypto-shredding), held wrapped."""

import uuid

from shared.db import Conn


async def wrapped_key(conn: Conn, person_id: uuid.UUID) -> bytes | None:
    value = await conn.fetchval("SELECT wrapped_key FROM person_keys WHERE person_id = $1", person_id)
    return bytes(value) if value is not None else None


async def insert_key(conn: Conn, person_id: uuid.UUID, wrapped: bytes) -> bool:
    """False when the person has a key already (made by a concurrent command)."""
    status = await conn.execute(
        "INSERT INTO person_keys (person_id, wrapped_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        person_id,
        wrapped,
    )
    return bool(status == "INSERT 0 1")


async def delete_key(conn: Conn, person_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM person_keys WHERE person_id = $1", person_id)
