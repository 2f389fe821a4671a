"""Sessions (refresh families) and their refresh tokens: explicit SQL over asyncpg."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db import Conn


@dataclass(frozen=True)
class SessionRow:
    session_id: uuid.UUID
    account_id: uuid.UUID
    claims: dict[str, Any]
    role: str
    binding_id: uuid.UUID | None
    opened_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class RefreshRow:
    token_hash: bytes
    session_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None


async def insert_session(conn: Conn, s: SessionRow) -> None:
    await conn.execute(
        """INSERT INTO sessions (session_id, account_id, claims, role, binding_id, opened_at, expires_at)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)""",
        s.session_id, s.account_id, json.dumps(s.claims), s.role, s.binding_id, s.opened_at, s.expires_at,
    )  # fmt: skip


async def get_session(conn: Conn, session_id: uuid.UUID, *, for_update: bool = False) -> SessionRow | None:
    row = await conn.fetchrow(
        "SELECT session_id, account_id, claims, role, binding_id, opened_at, expires_at, revoked_at"
        " FROM sessions WHERE session_id = $1" + (" FOR UPDATE" if for_update else ""),
        session_id,
    )
    if row is None:
        return None
    return SessionRow(
        row["session_id"], row["account_id"], json.loads(row["claims"]), row["role"], row["binding_id"],
        row["opened_at"], row["expires_at"], row["revoked_at"],
    )  # fmt: skip


async def revoke(
    conn: Conn,
    at: datetime,
    reason: str,
    *,
    account_id: uuid.UUID | None,
    binding_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """End the live sessions matching every given filter; (session_id, account_id) of each."""
    rows = await conn.fetch(
        """UPDATE sessions SET revoked_at = $1, revoked_reason = $2
           WHERE revoked_at IS NULL
             AND ($3::uuid IS NULL OR account_id = $3)
             AND ($4::uuid IS NULL OR binding_id = $4)
             AND ($5::uuid IS NULL OR session_id = $5)
           RETURNING session_id, account_id""",
        at, reason, account_id, binding_id, session_id,
    )  # fmt: skip
    return [(r["session_id"], r["account_id"]) for r in rows]


async def insert_refresh(conn: Conn, r: RefreshRow) -> None:
    await conn.execute(
        """INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
           VALUES ($1, $2, $3, $4)""",
        r.token_hash, r.session_id, r.issued_at, r.expires_at,
    )  # fmt: skip


async def get_refresh(conn: Conn, token_hash: bytes) -> RefreshRow | None:
    """The token, locked: two refreshes racing with one token see it used once."""
    row = await conn.fetchrow(
        """SELECT token_hash, session_id, issued_at, expires_at, used_at
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE""",
        token_hash,
    )
    if row is None:
        return None
    return RefreshRow(
        row["token_hash"], row["session_id"], row["issued_at"], row["expires_at"], row["used_at"]
    )


async def mark_used(conn: Conn, token_hash: bytes, at: datetime) -> None:
    await conn.execute("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1", token_hash, at)


async def session_of_refresh(conn: Conn, token_hash: bytes) -> uuid.UUID | None:
    """The session a refresh token belongs to, used or not."""
    found = await conn.fetchval("SELECT session_id FROM refresh_tokens WHERE token_hash = $1", token_hash)
    return found if isinstance(found, uuid.UUID) else None


async def is_live(conn: Conn, session_id: uuid.UUID, at: datetime) -> bool:
    """The session is neither revoked nor over, and its account is not disabled."""
    live = await conn.fetchval(
        """SELECT s.revoked_at IS NULL AND s.expires_at > $2 AND a.status = 'active'
           FROM sessions s JOIN accounts a USING (account_id) WHERE s.session_id = $1""",
        session_id, at,
    )  # fmt: skip
    return bool(live)
