"""One-time codes: explicit SQL over asyncpg."""

import uuid
from datetime import datetime

from services.identity.domain.codes import StoredCode
from shared.db import Conn


async def replace_code(
    conn: Conn, code_id: uuid.UUID, phone_hash: bytes, purpose: str, code_hash: bytes, at: datetime,
    expires_at: datetime,
) -> None:  # fmt: skip
    """The new code of a number; an earlier one still waiting no longer counts."""
    await conn.execute(
        "UPDATE codes SET status = 'replaced' WHERE phone_hash = $1 AND purpose = $2 AND status = 'pending'",
        phone_hash, purpose,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO codes (code_id, phone_hash, purpose, code_hash, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        code_id, phone_hash, purpose, code_hash, at, expires_at,
    )  # fmt: skip


async def waiting_code(conn: Conn, phone_hash: bytes, purpose: str) -> StoredCode | None:
    row = await conn.fetchrow(
        """SELECT code_id, code_hash, expires_at, failures FROM codes
           WHERE phone_hash = $1 AND purpose = $2 AND status = 'pending'
           ORDER BY created_at DESC LIMIT 1 FOR UPDATE""",
        phone_hash, purpose,
    )  # fmt: skip
    if row is None:
        return None
    return StoredCode(row["code_id"], row["code_hash"], row["expires_at"], row["failures"])


async def count_failure(conn: Conn, code_id: uuid.UUID, *, dead: bool) -> None:
    await conn.execute(
        """UPDATE codes SET failures = failures + 1,
                            status = CASE WHEN $2 THEN 'dead' ELSE status END
           WHERE code_id = $1""",
        code_id, dead,
    )  # fmt: skip


async def close_code(conn: Conn, code_id: uuid.UUID, status: str) -> None:
    await conn.execute("UPDATE codes SET status = $2 WHERE code_id = $1", code_id, status)


async def forget_closed(conn: Conn, before: datetime) -> int:
    """Codes no longer of use (used, dead, replaced, expired) made before `before`."""
    done = await conn.execute("DELETE FROM codes WHERE created_at < $1", before)
    return int(done.split()[-1])
