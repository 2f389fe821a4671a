"""Partner merchants and offers in the card read model: guarded writes and the card's reads.

Writes: a merchant is guarded by its envelope's subject_version, an offer by the partner's
version; a withdrawn offer stays withdrawn. Reads decide at read time (now() of the read
transaction) which offers are live: not withdrawn, merchant listed (under the partner that
published the offer), valid_from <= now < valid_until.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from services.projector.domain.offers import MODEL_WORKER_HONOUR, Branch, MerchantKey
from services.projector.store.cards import card_or_none, card_row_sql
from services.projector.store.generations import LiveSchema
from shared.contracts.partners import (
    MerchantDelisted,
    MerchantListed,
    OfferPublished,
    OfferRedeemed,
    OfferWithdrawn,
    region_prefix,
)
from shared.db import Conn

NEVER = datetime.min.replace(tzinfo=UTC)  # sorts before every valid_until


def _aware(moment: datetime) -> datetime:
    """Partners send times with an offset; a naive one is taken as UTC rather than local time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def upsert_merchant(conn: Conn, version: int, m: MerchantListed) -> None:
    await conn.execute(
        """INSERT INTO merchants (merchant_id, version, partner_id, name, category, region,
               region_prefix, address, listed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (merchant_id) DO UPDATE SET version = EXCLUDED.version,
               partner_id = EXCLUDED.partner_id, name = EXCLUDED.name, category = EXCLUDED.category,
               region = EXCLUDED.region, region_prefix = EXCLUDED.region_prefix,
               address = EXCLUDED.address, listed_at = EXCLUDED.listed_at, delisted_at = NULL,
               updated_at = now()
           WHERE merchants.version < EXCLUDED.version""",
        m.merchant_id, version, m.partner_id, m.name, m.category.value, m.region, region_prefix(m.region),
        m.address, _aware(m.listed_at),
    )  # fmt: skip


async def delist_merchant(conn: Conn, version: int, m: MerchantDelisted) -> None:
    await conn.execute(
        """INSERT INTO merchants (merchant_id, version, partner_id, delisted_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (merchant_id) DO UPDATE SET version = EXCLUDED.version,
               delisted_at = EXCLUDED.delisted_at, updated_at = now()
           WHERE merchants.version < EXCLUDED.version""",
        m.merchant_id, version, m.partner_id, _aware(m.delisted_at),
    )  # fmt: skip


async def upsert_offer(conn: Conn, o: OfferPublished) -> None:
    """The whole offer at the partner's version: applied only over an older version of an offer
    that was never withdrawn."""
    await conn.execute(
        """INSERT INTO offers (offer_key, version, partner_id, merchant_id, offer_id, title, description,
               discount_kind, discount_percent, discount_amount_fen, category, region, region_prefix,
               valid_from, valid_until, eligibility, published_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
           ON CONFLICT (offer_key) DO UPDATE SET version = EXCLUDED.version,
               merchant_id = EXCLUDED.merchant_id, title = EXCLUDED.title,
               description = EXCLUDED.description, discount_kind = EXCLUDED.discount_kind,
               discount_percent = EXCLUDED.discount_percent,
               discount_amount_fen = EXCLUDED.discount_amount_fen, category = EXCLUDED.category,
               region = EXCLUDED.region, region_prefix = EXCLUDED.region_prefix,
               valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until,
               eligibility = EXCLUDED.eligibility, published_at = EXCLUDED.published_at,
               updated_at = now()
           WHERE offers.version < EXCLUDED.version AND offers.withdrawn_at IS NULL""",
        o.offer_key, o.version, o.partner_id, o.merchant_id, o.offer_id, o.title, o.description,
        o.discount.kind.value, o.discount.percent, o.discount.amount_fen, o.category.value, o.region,
        region_prefix(o.region), _aware(o.valid_from), _aware(o.valid_until), o.eligibility.value,
        _aware(o.published_at),
    )  # fmt: skip


async def withdraw_offer(conn: Conn, o: OfferWithdrawn) -> None:
    """Terminal: applies whatever the version (the partners service accepts nothing after a
    withdrawal); the first withdrawal time is kept, the version only grows."""
    await conn.execute(
        """INSERT INTO offers (offer_key, version, partner_id, merchant_id, offer_id, withdrawn_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (offer_key) DO UPDATE SET version = greatest(offers.version, EXCLUDED.version),
               withdrawn_at = coalesce(offers.withdrawn_at, EXCLUDED.withdrawn_at), updated_at = now()""",
        o.offer_key, o.version, o.partner_id, o.merchant_id, o.offer_id, _aware(o.withdrawn_at),
    )  # fmt: skip


async def insert_redemption(conn: Conn, r: OfferRedeemed) -> None:
    """One row per redemption id: a redelivered event changes nothing, and nothing is written
    for an erased member (their card and its history are gone)."""
    await conn.execute(
        """INSERT INTO redemptions (redemption_id, member_id, partner_id, merchant_id, offer_id,
               offer_key, redeemed_at)
           SELECT $1, $2, $3, $4, $5, $6, $7
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $2)
           ON CONFLICT (redemption_id) DO NOTHING""",
        r.redemption_id, r.member_id, r.partner_id, r.merchant_id, r.offer_id, r.offer_key,
        _aware(r.redeemed_at),
    )  # fmt: skip


# What the card's offers depend on, with the card row the access check needs: the card's status,
# its union's region, a current model-worker honour today, and (only when the member themself
# reads, $2) the relief case's status. One statement, fixed text.
CARD_CONTEXT = """,
       EXISTS (SELECT 1 FROM {s}.honours h
               WHERE h.member_id = c.member_id AND h.kind = $3 AND h.revoked_on IS NULL
                 AND h.granted_on <= current_date AND h.valid_until >= current_date) AS model_worker,
       CASE WHEN $2 THEN (SELECT r.status FROM {s}.relief_cases r WHERE r.member_id = k.id) END
           AS relief_status"""


CARD_WITH_CONTEXT = card_row_sql(CARD_CONTEXT)


async def card_context(
    conn: Conn, live: LiveSchema, member_id: uuid.UUID, *, own: bool
) -> dict[str, Any] | None:
    """The card row (None without a card) with "model_worker" and "relief_status"."""
    return card_or_none(await live.fetchrow(conn, CARD_WITH_CONTEXT, member_id, own, MODEL_WORKER_HONOUR))


# The card's offers: one LATERAL range scan per branch (in card order), on offers_live_by_region
# or, with a category, offers_live_by_region_category; each scan is already in (valid_until,
# offer_key) order and stops after a page, so the outer sort sees at most (branches x page) rows.
# {category} is fixed text (empty, or the category condition), never caller input.
CARD_OFFERS = """
SELECT x.*, b.ord
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])
         WITH ORDINALITY AS b(region, eligibility, after_until, after_key, ord)
CROSS JOIN LATERAL (
    SELECT o.offer_key, o.title, o.description, o.discount_kind, o.discount_percent,
           o.discount_amount_fen, o.category, o.region, o.valid_from, o.valid_until, o.eligibility,
           m.merchant_id, m.name AS merchant_name, m.category AS merchant_category,
           m.region AS merchant_region
    FROM {s}.offers o
    JOIN {s}.merchants m ON m.merchant_id = o.merchant_id
    WHERE o.region = b.region AND o.eligibility = b.eligibility AND o.withdrawn_at IS NULL {category}
      AND o.valid_until > now() AND (o.valid_until, o.offer_key) > (b.after_until, b.after_key)
      AND o.valid_from <= now() AND m.delisted_at IS NULL
    ORDER BY o.valid_until, o.offer_key
    LIMIT $5
) x
ORDER BY b.ord, x.valid_until, x.offer_key
LIMIT $5
"""


def card_offers_sql(with_category: bool) -> str:
    return CARD_OFFERS.format(category="AND o.category = $6" if with_category else "", s="{s}")


CARD_OFFERS_SQL = {False: card_offers_sql(False), True: card_offers_sql(True)}


async def live_offers(
    conn: Conn, live: LiveSchema, plan: list[Branch], category: str | None, limit: int
) -> list[dict[str, Any]]:
    """Live offers for the branches of a read plan, in card order, at most limit."""
    if not plan:
        return []
    rows = await live.fetch(
        conn,
        CARD_OFFERS_SQL[category is not None],
        [b.region for b in plan],
        [b.eligibility.value for b in plan],
        [b.after_until or NEVER for b in plan],
        [b.after_key or "" for b in plan],
        limit,
        *([category] if category is not None else []),
    )
    return [dict(r) for r in rows]


LIVE_OFFER_COUNT = """(SELECT count(*) FROM offers o
     WHERE o.merchant_id = m.merchant_id AND o.withdrawn_at IS NULL
       AND o.valid_until > now() AND o.valid_from <= now())"""


async def directory(
    conn: Conn,
    lo: str,
    hi: str,
    category: str | None,
    after: MerchantKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Listed merchants whose region code lies in [lo, hi], by name then merchant_id, each with
    its number of live offers. The WHERE clause is assembled from fixed text only."""
    where = ["m.delisted_at IS NULL", "m.region BETWEEN $1 AND $2"]
    args: list[Any] = [lo, hi]
    if category is not None:
        args.append(category)
        where.append(f"m.category = ${len(args)}")
    if after is not None:
        args.extend([after.name, after.merchant_id])
        where.append(f"(m.name, m.merchant_id) > (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows = await conn.fetch(
        f"""SELECT m.merchant_id, m.name, m.category, m.region, m.address,
                   {LIVE_OFFER_COUNT} AS live_offers
            FROM merchants m WHERE {" AND ".join(where)}
            ORDER BY m.name, m.merchant_id LIMIT ${len(args)}""",
        *args,
    )
    return [dict(r) for r in rows]
