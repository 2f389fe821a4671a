"""The merchants the union put under each partner (their events' versions are in event_versions)."""

from dataclasses import dataclass

from services.partners.domain.offers import MerchantFacts
from services.partners.store import Reader
from shared.db import Conn


@dataclass(frozen=True)
class MerchantRow:
    merchant_id: str
    partner_id: str
    name: str
    category: str
    region: str
    address: str | None
    listed: bool


_COLUMNS = "merchant_id, partner_id, name, category, region, address, listed"


async def lock_merchant(conn: Conn, merchant_id: str) -> MerchantRow | None:
    """The merchant's row, locked until the transaction ends (a listing or delisting at a time)."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM merchants WHERE merchant_id = $1 FOR UPDATE", merchant_id
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
        """INSERT INTO merchants (merchant_id, partner_id, name, category, region, address, listed)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (merchant_id) DO UPDATE SET name = EXCLUDED.name, category = EXCLUDED.category,
               region = EXCLUDED.region, address = EXCLUDED.address, listed = EXCLUDED.listed,
               updated_at = now()""",
        m.merchant_id, m.partner_id, m.name, m.category, m.region, m.address, m.listed,
    )  # fmt: skip


async def delist_merchant(conn: Conn, merchant_id: str) -> None:
    await conn.execute(
        "UPDATE merchants SET listed = false, updated_at = now() WHERE merchant_id = $1", merchant_id
    )


async def list_merchants(conn: Reader, partner_id: str) -> list[MerchantRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM merchants WHERE partner_id = $1 ORDER BY merchant_id", partner_id
    )
    return [MerchantRow(**dict(r)) for r in rows]
