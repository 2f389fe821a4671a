"""Database access of the partners service: partners, keys, merchants, offers, the ingress log."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.partners.domain.offers import MerchantFacts, Outcome, StoredOffer
from shared.db import Conn

# Reads that need no transaction may run on the pool itself.
Reader = Conn | asyncpg.Pool


@dataclass(frozen=True)
class PartnerRow:
    partner_id: str
    name: str
    contact: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class MerchantRow:
    merchant_id: str
    partner_id: str
    name: str
    category: str
    region: str
    address: str | None
    listed: bool
    version: int


@dataclass(frozen=True)
class LogRow:
    id: int
    source: str
    origin: str
    offer_id: str | None
    version: int | None
    outcome: str
    reasons: list[str]
    received_at: datetime


async def insert_partner(conn: Conn, partner_id: str, name: str, contact: str | None) -> bool:
    row = await conn.fetchrow(
        """INSERT INTO partners (partner_id, name, contact) VALUES ($1, $2, $3)
           ON CONFLICT (partner_id) DO NOTHING RETURNING partner_id""",
        partner_id,
        name,
        contact,
    )
    return row is not None


async def get_partner(conn: Reader, partner_id: str) -> PartnerRow | None:
    row = await conn.fetchrow(
        "SELECT partner_id, name, contact, status, created_at FROM partners WHERE partner_id = $1", partner_id
    )
    return PartnerRow(**dict(row)) if row else None


async def list_partners(conn: Reader) -> list[PartnerRow]:
    rows = await conn.fetch("SELECT partner_id, name, contact, status, created_at FROM partners ORDER BY 1")
    return [PartnerRow(**dict(r)) for r in rows]


async def set_partner_status(conn: Conn, partner_id: str, status: str) -> None:
    await conn.execute("UPDATE partners SET status = $2 WHERE partner_id = $1", partner_id, status)


async def insert_key(conn: Conn, partner_id: str, digest: str) -> uuid.UUID:
    key_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO partner_keys (key_id, partner_id, digest) VALUES ($1, $2, $3)",
        key_id,
        partner_id,
        digest,
    )
    return key_id


async def revoke_key(conn: Conn, partner_id: str, key_id: uuid.UUID) -> bool:
    status = await conn.execute(
        """UPDATE partner_keys SET revoked_at = now()
           WHERE key_id = $1 AND partner_id = $2 AND revoked_at IS NULL""",
        key_id,
        partner_id,
    )
    return bool(status == "UPDATE 1")


async def partner_by_key(conn: Reader, digest: str) -> PartnerRow | None:
    row = await conn.fetchrow(
        """SELECT p.partner_id, p.name, p.contact, p.status, p.created_at
           FROM partner_keys k JOIN partners p USING (partner_id)
           WHERE k.digest = $1 AND k.revoked_at IS NULL""",
        digest,
    )
    return PartnerRow(**dict(row)) if row else None


_MERCHANT_COLUMNS = "merchant_id, partner_id, name, category, region, address, listed, version"


async def get_merchant(conn: Conn, merchant_id: str, *, for_update: bool = False) -> MerchantRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_MERCHANT_COLUMNS} FROM merchants WHERE merchant_id = $1{lock}", merchant_id
    )
    return MerchantRow(**dict(row)) if row else None


async def merchant_facts(conn: Conn, merchant_id: str) -> MerchantFacts | None:
    # FOR SHARE: a delisting waits for offers being accepted for the merchant, and vice versa.
    row = await conn.fetchrow(
        "SELECT merchant_id, partner_id, region, listed FROM merchants WHERE merchant_id = $1 FOR SHARE",
        merchant_id,
    )
    return MerchantFacts(**dict(row)) if row else None


async def upsert_merchant(conn: Conn, m: MerchantRow) -> None:
    await conn.execute(
        """INSERT INTO merchants (merchant_id, partner_id, name, category, region, address, listed, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (merchant_id) DO UPDATE SET name = EXCLUDED.name, category = EXCLUDED.category,
               region = EXCLUDED.region, address = EXCLUDED.address, listed = EXCLUDED.listed,
               version = EXCLUDED.version, updated_at = now()""",
        m.merchant_id,
        m.partner_id,
        m.name,
        m.category,
        m.region,
        m.address,
        m.listed,
        m.version,
    )


async def list_merchants(conn: Reader, partner_id: str) -> list[MerchantRow]:
    rows = await conn.fetch(
        f"SELECT {_MERCHANT_COLUMNS} FROM merchants WHERE partner_id = $1 ORDER BY merchant_id", partner_id
    )
    return [MerchantRow(**dict(r)) for r in rows]


async def stored_offer(conn: Conn, partner_id: str, offer_id: str) -> StoredOffer | None:
    """The offer's row, locked until the transaction ends: versions of one offer are decided
    one at a time even when they arrive on different partitions or replicas."""
    row = await conn.fetchrow(
        """SELECT merchant_id, version, content_hash, withdrawn FROM offers
           WHERE partner_id = $1 AND offer_id = $2 FOR UPDATE""",
        partner_id,
        offer_id,
    )
    return StoredOffer(**dict(row)) if row else None


async def lock_new_offer(conn: Conn, partner_id: str, offer_id: str) -> None:
    """Serialise the first versions of an offer not stored yet (there is no row to lock)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{partner_id}/{offer_id}")


async def save_offer(
    conn: Conn,
    partner_id: str,
    offer_id: str,
    merchant_id: str,
    version: int,
    digest: str,
    withdrawn: bool,
    body: dict[str, Any],
) -> None:
    await conn.execute(
        """INSERT INTO offers (partner_id, offer_id, merchant_id, version, content_hash, withdrawn, body)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
           ON CONFLICT (partner_id, offer_id) DO UPDATE SET version = EXCLUDED.version,
               content_hash = EXCLUDED.content_hash, withdrawn = EXCLUDED.withdrawn, body = EXCLUDED.body,
               updated_at = now()""",
        partner_id,
        offer_id,
        merchant_id,
        version,
        digest,
        withdrawn,
        json.dumps(body),
    )


async def offer_state(conn: Reader, partner_id: str, offer_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """SELECT offer_id, merchant_id, version, withdrawn, body, updated_at FROM offers
           WHERE partner_id = $1 AND offer_id = $2""",
        partner_id,
        offer_id,
    )
    if row is None:
        return None
    return {**dict(row), "body": json.loads(row["body"])}


async def log_ingress(
    conn: Conn,
    *,
    partner_id: str | None,
    source: str,
    origin: str,
    offer_id: str | None,
    version: int | None,
    outcome: Outcome,
    reasons: list[str],
    received_at: datetime,
) -> int:
    value = await conn.fetchval(
        """INSERT INTO ingress_log
               (partner_id, source, origin, offer_id, version, outcome, reasons, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        partner_id,
        source,
        origin,
        offer_id,
        version,
        outcome.value,
        reasons,
        received_at,
    )
    return int(value)


_LOG_COLUMNS = "id, source, origin, offer_id, version, outcome, reasons, received_at"


async def rejections(conn: Reader, partner_id: str, after: int, limit: int) -> list[LogRow]:
    rows = await conn.fetch(
        f"""SELECT {_LOG_COLUMNS} FROM ingress_log
            WHERE partner_id = $1 AND outcome IN ('rejected', 'stale') AND id > $2
            ORDER BY id LIMIT $3""",
        partner_id,
        after,
        limit,
    )
    return [LogRow(**dict(r)) for r in rows]


async def offer_history(conn: Reader, partner_id: str, offer_id: str, limit: int = 50) -> list[LogRow]:
    rows = await conn.fetch(
        f"""SELECT {_LOG_COLUMNS} FROM ingress_log WHERE partner_id = $1 AND offer_id = $2
            ORDER BY id DESC LIMIT $3""",
        partner_id,
        offer_id,
        limit,
    )
    return [LogRow(**dict(r)) for r in rows]


async def audit(
    conn: Conn, actor: str, action: str, subject: str, correlation_id: str, **detail: Any
) -> None:
    await conn.execute(
        """INSERT INTO trail (actor, action, subject, correlation_id, detail)
           VALUES ($1, $2, $3, $4, $5::jsonb)""",
        actor,
        action,
        subject,
        correlation_id,
        json.dumps(detail, default=str),
    )
