"""SQL for persons (会员实名制): one row per natural person, found by the keyed hash of their ID."""

import uuid
from dataclasses import dataclass

from shared.db import Conn


@dataclass(frozen=True)
class PersonRow:
    person_id: uuid.UUID
    national_id_masked: str


async def lock_or_create_person(conn: Conn, national_id_hash: bytes, cipher: bytes, masked: str) -> PersonRow:
    """Find the person by keyed hash, creating them if new; the row stays locked until commit,
    so concurrent submissions for one person are serialised."""
    await conn.execute(
        """INSERT INTO persons (person_id, national_id_hash, national_id_cipher, national_id_masked)
           VALUES ($1, $2, $3, $4) ON CONFLICT (national_id_hash) DO NOTHING""",
        uuid.uuid4(), national_id_hash, cipher, masked,
    )  # fmt: skip
    row = await conn.fetchrow(
        "SELECT person_id, national_id_masked FROM persons WHERE national_id_hash = $1 FOR UPDATE",
        national_id_hash,
    )
    assert row is not None
    return PersonRow(row["person_id"], row["national_id_masked"])


async def lock_person(conn: Conn, person_id: uuid.UUID) -> PersonRow | None:
    row = await conn.fetchrow(
        "SELECT person_id, national_id_masked FROM persons WHERE person_id = $1 FOR UPDATE", person_id
    )
    return PersonRow(row["person_id"], row["national_id_masked"]) if row else None


async def lock_person_with_id(conn: Conn, person_id: uuid.UUID, national_id_hash: bytes) -> PersonRow | None:
    """The person, locked, if the ID's keyed hash is theirs (and they are not erased)."""
    row = await conn.fetchrow(
        """SELECT person_id, national_id_masked FROM persons
           WHERE person_id = $1 AND national_id_hash = $2 AND erased_at IS NULL FOR UPDATE""",
        person_id, national_id_hash,
    )  # fmt: skip
    return PersonRow(row["person_id"], row["national_id_masked"]) if row else None


async def is_erased(conn: Conn, person_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval("SELECT erased_at IS NOT NULL FROM persons WHERE person_id = $1", person_id)
    )
