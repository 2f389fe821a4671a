"""The partners' statistics in the read model (issue 18): written from partners.OfferRedeemed,
read per partner. No statement reads or returns a member: offer_redeemers is only ever counted."""

from dataclasses import dataclass
from datetime import date

from shared.contracts.partners import OfferRedeemed, offer_key
from shared.db import Conn
from shared.events import china_date


async def insert_redemption(conn: Conn, r: OfferRedeemed) -> None:
    """One row per redemption id and one per (offer, member): a redelivered event changes
    nothing. An erased member's redemption still counts, but they are not among an offer's
    members (erase_member in store/cards.py deletes them there; this skips them after it), so a
    live projector and a rebuild agree in whichever order they read the two events."""
    await conn.execute(
        """INSERT INTO offer_redemption_stats (redemption_id, partner_id, offer_id, offer_key, china_day)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (redemption_id) DO NOTHING""",
        r.redemption_id, r.partner_id, r.offer_id, r.offer_key, china_date(r.redeemed_at),
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO offer_redeemers (partner_id, offer_id, member_key)
           SELECT $1, $2, $3
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $3)
           ON CONFLICT DO NOTHING""",
        r.partner_id, r.offer_id, r.member_id,
    )  # fmt: skip


@dataclass(frozen=True)
class DayCount:
    day: date
    offer_id: str
    redemptions: int


@dataclass(frozen=True)
class OfferTotals:
    offer_id: str
    offer_key: str
    title: str | None
    members: int  # distinct members who ever redeemed it, erased persons not counted


async def per_day(conn: Conn, partner_id: str, first: date, last: date) -> list[DayCount]:
    """Redemptions per China day and offer, days in order (one index range scan)."""
    rows = await conn.fetch(
        """SELECT china_day, offer_id, count(*) AS n FROM offer_redemption_stats
           WHERE partner_id = $1 AND china_day BETWEEN $2 AND $3
           GROUP BY china_day, offer_id ORDER BY china_day, offer_id""",
        partner_id, first, last,
    )  # fmt: skip
    return [DayCount(r["china_day"], r["offer_id"], int(r["n"])) for r in rows]


async def offers_redeemed(conn: Conn, partner_id: str) -> list[OfferTotals]:
    """Every offer of the partner ever redeemed, with its number of distinct members and its
    title when the offer is known here."""
    rows = await conn.fetch(
        """SELECT m.offer_id, m.members, o.title
           FROM (SELECT offer_id, count(*) AS members FROM offer_redeemers
                 WHERE partner_id = $1 GROUP BY offer_id) m
           LEFT JOIN offers o ON o.offer_key = $1 || '/' || m.offer_id
           ORDER BY m.offer_id""",
        partner_id,
    )  # fmt: skip
    return [
        OfferTotals(r["offer_id"], offer_key(partner_id, r["offer_id"]), r["title"], int(r["members"]))
        for r in rows
    ]
