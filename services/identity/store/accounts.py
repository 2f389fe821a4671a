"""Accounts: explicit SQL over asyncpg."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import Conn


@dataclass(frozen=True)
class AccountRow:
    account_id: uuid.UUID
    kind: str
    phone_sealed: bytes | None
    person_id: uuid.UUID | None
    realname_status: str
    status: str
    created_at: datetime


_SELECT = (
    "SELECT account_id, kind, phone_sealed, person_id, realname_status, status, created_at FROM accounts"
)


def _account(r: asyncpg.Record) -> AccountRow:
    return AccountRow(
        r["account_id"], r["kind"], r["phone_sealed"], r["person_id"], r["realname_status"], r["status"],
        r["created_at"],
    )  # fmt: skip


async def get_account(conn: Conn, account_id: uuid.UUID, *, for_update: bool = False) -> AccountRow | None:
    row = await conn.fetchrow(
        f"{_SELECT} WHERE account_id = $1{' FOR UPDATE' if for_update else ''}", account_id
    )
    return None if row is None else _account(row)


async def account_by_phone(conn: Conn, phone_hash: bytes) -> AccountRow | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE phone_hash = $1", phone_hash)
    return None if row is None else _account(row)


async def insert_member_account(
    conn: Conn, account_id: uuid.UUID, phone_hash: bytes, phone_sealed: bytes, at: datetime
) -> AccountRow:
    """The member account of a phone number; the existing one if a sign-in raced this one."""
    await conn.execute(
        """INSERT INTO accounts (account_id, kind, phone_hash, phone_sealed, created_at)
           VALUES ($1, 'member', $2, $3, $4) ON CONFLICT (phone_hash) DO NOTHING""",
        account_id, phone_hash, phone_sealed, at,
    )  # fmt: skip
    found = await account_by_phone(conn, phone_hash)
    assert found is not None
    return found


async def set_realname(
    conn: Conn, account_id: uuid.UUID, status: str, at: datetime, *, person_id: uuid.UUID | None = None
) -> None:
    """The account's real-name state; `person_id` is set when verified, cleared otherwise."""
    await conn.execute(
        """UPDATE accounts SET realname_status = $2, realname_at = $3,
                              person_id = CASE WHEN $2 = 'verified' THEN $4::uuid ELSE NULL END
           WHERE account_id = $1""",
        account_id, status, at, person_id,
    )  # fmt: skip


async def account_of_person(conn: Conn, person_id: uuid.UUID) -> AccountRow | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE person_id = $1", person_id)
    return None if row is None else _account(row)
