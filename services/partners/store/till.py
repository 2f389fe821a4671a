"""Codes shown at the till and the redemptions made with them (explicit SQL)."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.partners.domain.till import ERASED_MASK, CodeFacts, CodeKind, OfferFacts, Usage
from services.partners.store import Reader
from shared.contracts.partners import offer_key
from shared.db import Conn


@dataclass(frozen=True)
class CodeRow:
    digest: str
    kind: CodeKind
    member_id: uuid.UUID
    member_masked: str
    offer_keys: tuple[str, ...]
    expires_at: datetime
    redeemed: bool

    @property
    def facts(self) -> CodeFacts:
        return CodeFacts(self.kind, self.offer_keys, self.expires_at, self.redeemed)


@dataclass(frozen=True)
class RedemptionRow:
    seq: int
    redemption_id: uuid.UUID
    idempotency_key: str
    code_digest: str
    member_id: uuid.UUID | None  # None once the member is erased
    member_masked: str
    merchant_id: str
    offer_id: str
    offer_key: str
    redeemed_at: datetime


_REDEMPTION = """seq, redemption_id, idempotency_key, code_digest, member_id, member_masked, merchant_id,
    offer_id, offer_key, redeemed_at"""


async def save_code(
    conn: Reader,
    digest: str,
    kind: CodeKind,
    member_id: uuid.UUID,
    member_masked: str,
    offer_keys: list[str],
    issued_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO till_codes (digest, kind, member_id, member_masked, offer_keys, issued_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        digest, kind.value, member_id, member_masked, offer_keys, issued_at, expires_at,
    )  # fmt: skip


async def get_code(conn: Reader, digest: str, *, lock: bool = False) -> CodeRow | None:
    """The code's row; `lock`: FOR UPDATE, so one redemption at a time decides it."""
    row = await conn.fetchrow(
        "SELECT digest, kind, member_id, member_masked, offer_keys, expires_at, redeemed_at IS NOT NULL"
        " AS redeemed FROM till_codes WHERE digest = $1" + (" FOR UPDATE" if lock else ""),
        digest,
    )
    if row is None:
        return None
    return CodeRow(
        row["digest"], CodeKind(row["kind"]), row["member_id"], row["member_masked"],
        tuple(row["offer_keys"]), row["expires_at"], row["redeemed"],
    )  # fmt: skip


async def mark_redeemed(conn: Conn, digest: str, at: datetime) -> None:
    await conn.execute("UPDATE till_codes SET redeemed_at = $2 WHERE digest = $1", digest, at)


async def offer_facts(
    conn: Reader, partner_id: str, offer_id: str, *, lock: bool = False
) -> tuple[OfferFacts, str] | None:
    """The partner's offer (and its merchant id) as accepted; `lock`: its row FOR UPDATE, so the
    redemptions of one offer are counted and added one at a time (limits and stock hold)."""
    row = await conn.fetchrow(
        """SELECT o.merchant_id, o.withdrawn, o.body, m.listed FROM offers o
           JOIN merchants m USING (merchant_id)
           WHERE o.partner_id = $1 AND o.offer_id = $2"""
        + (" FOR UPDATE OF o" if lock else ""),
        partner_id, offer_id,
    )  # fmt: skip
    if row is None:
        return None
    body: dict[str, Any] = json.loads(row["body"])

    def when(name: str) -> datetime | None:
        value = body.get(name)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    facts = OfferFacts(
        offer_key=offer_key(partner_id, offer_id),
        withdrawn=row["withdrawn"],
        merchant_listed=row["listed"],
        valid_from=when("valid_from"),
        valid_until=when("valid_until"),
        eligibility=body.get("eligibility"),
        # Offers accepted under version 1 of the message have no limits.
        per_member_per_day=body.get("per_member_per_day"),
        per_member_per_month=body.get("per_member_per_month"),
        stock=body.get("stock"),
    )
    return facts, row["merchant_id"]


async def usage(
    conn: Reader, partner_id: str, offer_id: str, member_id: uuid.UUID, day: date, month: date
) -> Usage:
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE member_id = $3 AND china_day = $4) AS today,
                  count(*) FILTER (WHERE member_id = $3 AND china_month = $5) AS this_month,
                  count(*) AS total
           FROM redemptions WHERE partner_id = $1 AND offer_id = $2""",
        partner_id, offer_id, member_id, day, month,
    )  # fmt: skip
    assert row is not None
    return Usage(int(row["today"]), int(row["this_month"]), int(row["total"]))


async def lock_idempotency_key(conn: Conn, partner_id: str, key: str) -> None:
    """Two requests with one key are answered one after the other (the second gets the first's)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"redeem:{partner_id}:{key}")


async def by_idempotency_key(conn: Reader, partner_id: str, key: str) -> RedemptionRow | None:
    row = await conn.fetchrow(
        f"SELECT {_REDEMPTION} FROM redemptions WHERE partner_id = $1 AND idempotency_key = $2",
        partner_id, key,
    )  # fmt: skip
    return RedemptionRow(**dict(row)) if row else None


async def save_redemption(
    conn: Conn, partner_id: str, key: str, code: CodeRow, merchant_id: str, offer_id: str,
    redemption_id: uuid.UUID, at: datetime, day: date, month: date,
) -> RedemptionRow:  # fmt: skip
    row = await conn.fetchrow(
        f"""INSERT INTO redemptions (redemption_id, partner_id, idempotency_key, code_digest, member_id,
               member_masked, merchant_id, offer_id, offer_key, redeemed_at, china_day, china_month)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           RETURNING {_REDEMPTION}""",
        redemption_id, partner_id, key, code.digest, code.member_id, code.member_masked, merchant_id,
        offer_id, offer_key(partner_id, offer_id), at, day, month,
    )  # fmt: skip
    assert row is not None
    return RedemptionRow(**dict(row))


async def partner_redemptions(conn: Reader, partner_id: str, after: int, limit: int) -> list[RedemptionRow]:
    rows = await conn.fetch(
        f"""SELECT {_REDEMPTION} FROM redemptions WHERE partner_id = $1 AND seq > $2
            ORDER BY seq LIMIT $3""",
        partner_id, after, limit,
    )  # fmt: skip
    return [RedemptionRow(**dict(r)) for r in rows]


async def erase_member(conn: Conn, member_id: uuid.UUID) -> tuple[int, int]:
    """The member's codes go; their redemptions stay (stock, the partner's list) with neither
    member id nor masked name. Codes first: a redemption in flight holds its code's row, so the
    erasure waits for it and then anonymises it too. Returns (codes deleted, redemptions kept)."""
    codes = await conn.execute("DELETE FROM till_codes WHERE member_id = $1", member_id)
    kept = await conn.execute(
        "UPDATE redemptions SET member_id = NULL, member_masked = $2 WHERE member_id = $1",
        member_id, ERASED_MASK,
    )  # fmt: skip
    return int(codes.split()[-1]), int(kept.split()[-1])


async def purge_expired_codes(conn: Reader, before: datetime, batch: int = 5000) -> int:
    """Delete codes that expired before `before`, used or not, in batches (short transactions,
    on till_codes_expiry); returns how many went."""
    purged = 0
    while True:
        done = await conn.execute(
            """DELETE FROM till_codes WHERE digest IN (
                   SELECT digest FROM till_codes WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)""",
            before, batch,
        )  # fmt: skip
        count = int(done.split()[-1])
        purged += count
        if count < batch:
            return purged
