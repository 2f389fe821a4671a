"""The newest accepted version of each offer."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.partners.domain.offers import OfferState, StoredOffer
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


@dataclass(frozen=True)
class ListedOffer:
    """One of a partner's offers as its till lists it: what it is, where, when, how often."""

    offer_id: str
    merchant_id: str
    merchant_name: str
    version: int
    state: OfferState
    updated_at: datetime
    offer: dict[str, Any]  # the accepted message (a withdrawal carries no title nor dates)


# domain.offers.offer_state in SQL, so the listing can filter by state and page in the database.
_STATE = """CASE WHEN o.withdrawn THEN 'withdrawn'
         WHEN NOT m.listed THEN 'delisted'
         WHEN o.body->>'valid_from' IS NULL OR o.body->>'valid_until' IS NULL
              OR (o.body->>'valid_until')::timestamptz <= $2 THEN 'ended'
         WHEN $2 < (o.body->>'valid_from')::timestamptz THEN 'upcoming'
         ELSE 'live' END"""


async def list_offers(
    conn: Reader, partner_id: str, now: datetime, state: OfferState | None, after: str | None, limit: int
) -> list[ListedOffer]:
    """The partner's offers in `state` (None: all) as of `now`, by offer id, after `after`."""
    rows = await conn.fetch(
        f"""SELECT * FROM (
                SELECT o.offer_id, o.merchant_id, m.name AS merchant_name, o.version, o.updated_at, o.body,
                       {_STATE} AS state
                FROM offers o JOIN merchants m USING (merchant_id)
                WHERE o.partner_id = $1 AND o.offer_id > $3
            ) listed
            WHERE $4::text IS NULL OR state = $4
            ORDER BY offer_id LIMIT $5""",
        partner_id, now, after or "", None if state is None else state.value, limit,
    )  # fmt: skip
    return [_listed(r) for r in rows]


def _listed(r: asyncpg.Record) -> ListedOffer:
    return ListedOffer(
        r["offer_id"], r["merchant_id"], r["merchant_name"], r["version"], OfferState(r["state"]),
        r["updated_at"], json.loads(r["body"]),
    )  # fmt: skip
