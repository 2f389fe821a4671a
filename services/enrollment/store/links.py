"""SQL for person links (实名认证): which identity account a person is linked to."""

import uuid
from datetime import datetime

import asyncpg

from services.enrollment.domain.links import Link, LinkHow
from shared.db import Conn

_COLUMNS = "person_id, account_id, linked_at, how"


def _link(row: asyncpg.Record | None) -> Link | None:
    if row is None:
        return None
    return Link(row["person_id"], row["account_id"], row["linked_at"], LinkHow(row["how"]))


async def of_person(conn: Conn, person_id: uuid.UUID, *, for_update: bool = False) -> Link | None:
    lock = " FOR UPDATE" if for_update else ""
    return _link(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM person_links WHERE person_id = $1{lock}", person_id)
    )


async def of_account(conn: Conn, account_id: uuid.UUID) -> Link | None:
    return _link(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM person_links WHERE account_id = $1", account_id)
    )


async def insert(conn: Conn, link: Link) -> bool:
    """False when the person or the account got a link meanwhile (a concurrent request)."""
    status = await conn.execute(
        f"INSERT INTO person_links ({_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        link.person_id, link.account_id, link.linked_at, link.how.value,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


async def move(conn: Conn, person_id: uuid.UUID, to_account: uuid.UUID, at: datetime) -> Link | None:
    """The link given to another account; None when that account got a link meanwhile."""
    try:
        row = await conn.fetchrow(
            f"""UPDATE person_links SET account_id = $2, linked_at = $3 WHERE person_id = $1
                RETURNING {_COLUMNS}""",
            person_id, to_account, at,
        )  # fmt: skip
    except asyncpg.UniqueViolationError:
        return None
    return _link(row)


async def delete(conn: Conn, person_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM person_links WHERE person_id = $1", person_id)
