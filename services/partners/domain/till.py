"""The merchant's check at the till: card codes and vouchers, and whether one may redeem an offer.

Pure rules, no I/O. A card code (the dynamic QR's payload) is random, carries nothing about the
member, lives 60 s and lists the offers its member could use when it was issued, except the
hardship-only ones: those are redeemed with a voucher the member opens on purpose for one offer
(10 min), so scanning a card never tells a partner who is in the hardship register. A code
redeems once. A partner learns yes or no, never why.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.partners.domain.offers import OfferState, offer_state
from shared.contracts.partners import Eligibility
from shared.events import CHINA

CARD_CODE_TTL = timedelta(seconds=60)
VOUCHER_TTL = timedelta(minutes=10)
# An expired code's row, used or not, is purged this long after it expired. Nothing needs it
# then: an unknown code is refused like an expired one, a code redeems once by the redemption's
# own UNIQUE code_digest, and a retried Idempotency-Key is answered from the redemption. Kept a
# while only so a till's late scan is logged as "expired" rather than "unknown_code".
EXPIRED_CODE_KEPT = timedelta(minutes=10)
CODE_BYTES = 24  # 192 random bits, 32 URL-safe characters
CODE_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"

OK_MESSAGE = "可以使用"
REFUSED_MESSAGE = "不可使用"
# The masked name of an erased member's redemption: it says nothing, not even that they erased.
ERASED_MASK = "**"


class CodeKind(StrEnum):
    CARD = "card"  # the card's rotating QR: every non-hardship offer the member may use
    VOUCHER = "voucher"  # one offer, opened on purpose by the member (hardship offers too)


def new_code() -> str:
    """A fresh code: random only, no personal data, unguessable."""
    return secrets.token_urlsafe(CODE_BYTES)


def code_digest(code: str) -> str:
    """Only the digest is stored: a leaked table holds no usable codes."""
    return hashlib.sha256(code.encode()).hexdigest()


def card_code_offers(eligible: Iterable[tuple[str, str]]) -> list[str]:
    """The offer keys a card code may redeem, from (offer_key, eligibility) the member may use
    now: all but the hardship-only ones (those need a voucher)."""
    return [key for key, group in eligible if group != Eligibility.HARDSHIP_HOUSEHOLDS.value]


def expires_at(kind: CodeKind, issued_at: datetime, card_ttl: timedelta = CARD_CODE_TTL) -> datetime:
    return issued_at + (card_ttl if kind is CodeKind.CARD else VOUCHER_TTL)


def purge_before(now: datetime) -> datetime:
    """Codes that expired before this moment are purged."""
    return now - EXPIRED_CODE_KEPT


def china_day(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def china_month(at: datetime) -> date:
    return china_day(at).replace(day=1)


@dataclass(frozen=True)
class CodeFacts:
    kind: CodeKind
    offer_keys: tuple[str, ...]
    expires_at: datetime
    redeemed: bool  # used for a redemption already


@dataclass(frozen=True)
class OfferFacts:
    """The partner's offer as the partners service holds it (None of a limit: no limit)."""

    offer_key: str
    withdrawn: bool
    merchant_listed: bool
    valid_from: datetime | None
    valid_until: datetime | None
    eligibility: str | None
    per_member_per_day: int | None
    per_member_per_month: int | None
    stock: int | None


@dataclass(frozen=True)
class Usage:
    """Redemptions of the offer so far: by this member today and this month (China time), and
    by everyone."""

    member_today: int
    member_this_month: int
    total: int


class Refusal(StrEnum):
    """Why a code may not redeem an offer: for the logs only, never told to the partner."""

    UNKNOWN_CODE = "unknown_code"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN_OFFER = "unknown_offer"
    NOT_LIVE = "not_live"
    NOT_FOR_CODE = "not_for_code"
    HARDSHIP_NEEDS_VOUCHER = "hardship_needs_voucher"
    DAY_LIMIT = "day_limit"
    MONTH_LIMIT = "month_limit"
    OUT_OF_STOCK = "out_of_stock"


def refusal(
    code: CodeFacts | None, offer: OfferFacts | None, usage: Usage | None, now: datetime
) -> Refusal | None:
    """None if the code may redeem the offer now; else the first reason it may not."""
    if code is None:
        return Refusal.UNKNOWN_CODE
    if now >= code.expires_at:
        return Refusal.EXPIRED
    if code.redeemed:
        return Refusal.USED
    if offer is None:
        return Refusal.UNKNOWN_OFFER
    state = offer_state(offer.withdrawn, offer.merchant_listed, offer.valid_from, offer.valid_until, now)
    if state is not OfferState.LIVE:
        return Refusal.NOT_LIVE
    if offer.offer_key not in code.offer_keys:
        return Refusal.NOT_FOR_CODE
    if offer.eligibility == Eligibility.HARDSHIP_HOUSEHOLDS.value and code.kind is not CodeKind.VOUCHER:
        return Refusal.HARDSHIP_NEEDS_VOUCHER
    if usage is not None:
        return limit_refusal(offer, usage)
    return None


def limit_refusal(offer: OfferFacts, usage: Usage) -> Refusal | None:
    """Whether one more redemption stays within the offer's limits."""
    if offer.per_member_per_day is not None and usage.member_today >= offer.per_member_per_day:
        return Refusal.DAY_LIMIT
    if offer.per_member_per_month is not None and usage.member_this_month >= offer.per_member_per_month:
        return Refusal.MONTH_LIMIT
    if offer.stock is not None and usage.total >= offer.stock:
        return Refusal.OUT_OF_STOCK
    return None
