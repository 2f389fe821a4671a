"""Partners and their API keys (only a digest of each key is kept)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.partners.store import Reader
from shared.db import Conn


@dataclass(frozen=True)
class PartnerRow:
    partner_id: str
    name: str
    contact: str | None
    status: str
    created_at: datetime


_COLUMNS = "partner_id, name, contact, status, created_at"


async def insert_partner(conn: Conn, partner_id: str, name: str, contact: str | None) -> bool:
    row = await conn.fetchrow(
        """INSERT INTO partners (partner_id, name, contact) VALUES ($1, $2, $3)
           ON CONFLICT (partner_id) DO NOTHING RETURNING partner_id""",
        partner_id, name, contact,
    )  # fmt: skip
    return row is not None


async def get_partner(conn: Reader, partner_id: str) -> PartnerRow | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM partners WHERE partner_id = $1", partner_id)
    return PartnerRow(**dict(row)) if row else None


async def list_partners(conn: Reader) -> list[PartnerRow]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM partners ORDER BY partner_id")
    return [PartnerRow(**dict(r)) for r in rows]


async def set_partner_status(conn: Conn, partner_id: str, status: str) -> None:
    await conn.execute("UPDATE partners SET status = $2 WHERE partner_id = $1", partner_id, status)


async def insert_key(conn: Conn, partner_id: str, digest: str) -> uuid.UUID:
    key_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO partner_keys (key_id, partner_id, digest) VALUES ($1, $2, $3)",
        key_id, partner_id, digest,
    )  # fmt: skip
    return key_id


async def revoke_key(conn: Conn, partner_id: str, key_id: uuid.UUID) -> bool:
    status = await conn.execute(
        """UPDATE partner_keys SET revoked_at = now()
           WHERE key_id = $1 AND partner_id = $2 AND revoked_at IS NULL""",
        key_id, partner_id,
    )  # fmt: skip
    return bool(status == "UPDATE 1")


async def partner_by_key(conn: Reader, digest: str) -> PartnerRow | None:
    row = await conn.fetchrow(
        """SELECT p.partner_id, p.name, p.contact, p.status, p.created_at
           FROM partner_keys k JOIN partners p USING (partner_id)
           WHERE k.digest = $1 AND k.revoked_at IS NULL""",
        digest,
    )
    return PartnerRow(**dict(row)) if row else None
