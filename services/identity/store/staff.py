"""Staff accounts and their role bindings: explicit SQL over asyncpg. Password tries are counted
in the service's `attempts` (store/attempts.py) under PASSWORD_CHECKED."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.identity.domain.staff import Binding
from shared.contracts.identity import AccountRole
from shared.db import Conn

# The action password (and TOTP) checks are counted under in `attempts`.
PASSWORD_CHECKED = "password_checked"  # noqa: S105 (an action name)


@dataclass(frozen=True)
class AccountRow:
    account_id: uuid.UUID
    username: str
    display_name: str
    password_hash: str
    scope_union_id: uuid.UUID | None
    created_by: str
    created_at: datetime
    password_changed_at: datetime
    status: str  # the account's: active or disabled
    totp_pending: bytes | None
    totp_secret: bytes | None
    totp_enabled_at: datetime | None
    totp_last_step: int | None


@dataclass(frozen=True)
class BindingRow:
    binding_id: uuid.UUID
    account_id: uuid.UUID
    role: AccountRole
    union_id: uuid.UUID | None
    partner_id: str | None
    counsel_id: uuid.UUID | None
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None

    @property
    def binding(self) -> Binding:
        return Binding(self.binding_id, self.role, self.union_id, self.partner_id, self.counsel_id)


def _account(row: asyncpg.Record) -> AccountRow:
    return AccountRow(**dict(row))


_SELECT = "SELECT s.*, a.status FROM staff_accounts s JOIN accounts a USING (account_id)"


def _binding(row: asyncpg.Record) -> BindingRow:
    return BindingRow(**{**dict(row), "role": AccountRole(row["role"])})


# Accounts -----------------------------------------------------------------------------------------


async def insert_account(
    conn: Conn, account_id: uuid.UUID, username: str, display_name: str, password_hash: str,
    scope_union_id: uuid.UUID | None, created_by: str, at: datetime,
) -> bool:  # fmt: skip
    """False when the username is taken (the caller rolls back: the accounts row goes too)."""
    await conn.execute(
        "INSERT INTO accounts (account_id, kind, created_at) VALUES ($1, 'staff', $2)", account_id, at
    )
    inserted = await conn.fetchval(
        """INSERT INTO staff_accounts (account_id, username, display_name, password_hash, scope_union_id,
                                       created_by, created_at, password_changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
           ON CONFLICT (username) DO NOTHING RETURNING true""",
        account_id, username, display_name, password_hash, scope_union_id, created_by, at,
    )  # fmt: skip
    return bool(inserted)


async def get_account(conn: Conn, account_id: uuid.UUID, *, for_update: bool = False) -> AccountRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"{_SELECT} WHERE s.account_id = $1{lock}", account_id)
    return _account(row) if row else None


async def account_by_username(conn: Conn, username: str, *, for_update: bool = False) -> AccountRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"{_SELECT} WHERE s.username = $1{lock}", username)
    return _account(row) if row else None


async def list_accounts(
    conn: Conn, scope_unions: Sequence[uuid.UUID] | None, after: uuid.UUID | None, limit: int
) -> list[AccountRow]:
    """Accounts in account-id order; with `scope_unions`, only those kept inside one of them."""
    rows = await conn.fetch(
        f"""{_SELECT}
           WHERE ($1::uuid[] IS NULL OR s.scope_union_id = ANY($1::uuid[]))
             AND ($2::uuid IS NULL OR s.account_id > $2)
           ORDER BY s.account_id LIMIT $3""",
        list(scope_unions) if scope_unions is not None else None, after, limit,
    )  # fmt: skip
    return [_account(r) for r in rows]


async def disable_account(conn: Conn, account_id: uuid.UUID) -> None:
    """Disabled on the account itself: a refresh of any of its sessions is refused there too."""
    await conn.execute("UPDATE accounts SET status = 'disabled' WHERE account_id = $1", account_id)


async def set_password(conn: Conn, account_id: uuid.UUID, password_hash: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE staff_accounts SET password_hash = $2, password_changed_at = $3 WHERE account_id = $1",
        account_id, password_hash, at,
    )  # fmt: skip


async def set_totp_pending(conn: Conn, account_id: uuid.UUID, sealed_secret: bytes) -> None:
    await conn.execute(
        "UPDATE staff_accounts SET totp_pending = $2 WHERE account_id = $1", account_id, sealed_secret
    )


async def enable_totp(conn: Conn, account_id: uuid.UUID, step: int, at: datetime) -> None:
    await conn.execute(
        """UPDATE staff_accounts SET totp_secret = totp_pending, totp_pending = NULL, totp_enabled_at = $3,
                                     totp_last_step = $2
           WHERE account_id = $1""",
        account_id, step, at,
    )  # fmt: skip


async def set_totp_last_step(conn: Conn, account_id: uuid.UUID, step: int) -> None:
    await conn.execute(
        "UPDATE staff_accounts SET totp_last_step = $2 WHERE account_id = $1", account_id, step
    )


# Bindings -----------------------------------------------------------------------------------------


async def insert_binding(
    conn: Conn, binding_id: uuid.UUID, account_id: uuid.UUID, binding: Binding, granted_by: str, at: datetime
) -> uuid.UUID | None:
    """None when granted; else the id of the live binding with the same role and scope."""
    inserted = await conn.fetchval(
        """INSERT INTO staff_bindings (binding_id, account_id, role, union_id, partner_id, counsel_id,
                                       granted_by, granted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING binding_id""",
        binding_id, account_id, binding.role.value, binding.union_id, binding.partner_id,
        binding.counsel_id, granted_by, at,
    )  # fmt: skip
    if inserted is not None:
        return None
    existing: uuid.UUID = await conn.fetchval(
        """SELECT binding_id FROM staff_bindings
           WHERE account_id = $1 AND role = $2 AND revoked_at IS NULL AND union_id IS NOT DISTINCT FROM $3
             AND partner_id IS NOT DISTINCT FROM $4 AND counsel_id IS NOT DISTINCT FROM $5""",
        account_id, binding.role.value, binding.union_id, binding.partner_id, binding.counsel_id,
    )  # fmt: skip
    return existing


async def bindings_of(conn: Conn, account_id: uuid.UUID, *, live_only: bool = True) -> list[BindingRow]:
    live = " AND revoked_at IS NULL" if live_only else ""
    rows = await conn.fetch(
        f"SELECT * FROM staff_bindings WHERE account_id = $1{live} ORDER BY granted_at, binding_id",
        account_id,
    )
    return [_binding(r) for r in rows]


async def bindings_of_accounts(
    conn: Conn, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[BindingRow]]:
    rows = await conn.fetch(
        """SELECT * FROM staff_bindings WHERE account_id = ANY($1::uuid[]) AND revoked_at IS NULL
           ORDER BY granted_at, binding_id""",
        list(account_ids),
    )
    found: dict[uuid.UUID, list[BindingRow]] = {a: [] for a in account_ids}
    for r in rows:
        found[r["account_id"]].append(_binding(r))
    return found


async def get_binding(
    conn: Conn, account_id: uuid.UUID, binding_id: uuid.UUID, *, for_update: bool = False
) -> BindingRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT * FROM staff_bindings WHERE account_id = $1 AND binding_id = $2{lock}",
        account_id,
        binding_id,
    )
    return _binding(row) if row else None


async def revoke_binding(conn: Conn, binding_id: uuid.UUID, revoked_by: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE staff_bindings SET revoked_by = $2, revoked_at = $3 WHERE binding_id = $1",
        binding_id, revoked_by, at,
    )  # fmt: skip


async def count_live_admins(conn: Conn) -> int:
    """Live admin bindings on enabled accounts (the last one is not revoked or disabled)."""
    return int(
        await conn.fetchval(
            """SELECT count(*) FROM staff_bindings b JOIN accounts a USING (account_id)
               WHERE b.role = 'admin' AND b.revoked_at IS NULL AND a.status = 'active'"""
        )
    )
