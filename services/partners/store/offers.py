"""The newest accepted version of each offer."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.partners.domain.offers import StoredOffer
from services.partners.store import Reader
from shared.db import Conn


@dataclass(frozen=True)
class OfferRow:
    offer_id: str
    merchant_id: str
    version: int
    withdrawn: bool
    updated_at: datetime
    offer: dict[str, Any]  # the accepted message, as validated


async def lock_new_offer(conn: Conn, partner_id: str, offer_id: str) -> None:
    """Serialise the first versions of an offer not stored yet (there is no row to lock)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{partner_id}/{offer_id}")


async def stored_offer(conn: Conn, partner_id: str, offer_id: str) -> StoredOffer | None:
    """The offer's row, locked until the transaction ends: versions of one offer are decided
    one at a time even when they arrive on different partitions or replicas."""
    row = await conn.fetchrow(
        """SELECT merchant_id, version, content_hash, withdrawn FROM offers
           WHERE partner_id = $1 AND offer_id = $2 FOR UPDATE""",
        partner_id, offer_id,
    )  # fmt: skip
    return StoredOffer(**dict(row)) if row else None


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
        partner_id, offer_id, merchant_id, version, digest, withdrawn, json.dumps(body),
    )  # fmt: skip


async def get_offer(conn: Reader, partner_id: str, offer_id: str) -> OfferRow | None:
    row = await conn.fetchrow(
        """SELECT offer_id, merchant_id, version, withdrawn, updated_at, body FROM offers
           WHERE partner_id = $1 AND offer_id = $2""",
        partner_id, offer_id,
    )  # fmt: skip
    if row is None:
        return None
    return OfferRow(
        row["offer_id"], row["merchant_id"], row["version"], row["withdrawn"], row["updated_at"],
        json.loads(row["body"]),
    )  # fmt: skip
