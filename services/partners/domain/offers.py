"""The rules an offer event from a partner must pass, and how its version meets the stored one.

Pure functions: no I/O. The handlers read the partner, merchant and stored offer, call these, and
write what they decide. Every reason is a sentence a partner's developer can act on.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from shared.contracts.partners import (
    OFFER_MESSAGE_VERSIONS,
    DiscountKind,
    OfferAction,
    OfferDiscount,
    OfferPublished,
    OfferWithdrawn,
    PartnerOfferMessage,
    offer_key,
    region_prefix,
    upcast_offer_message,
)
from shared.inputs import InputRefused, strict_json

# An offer runs for at most a year and a day (a yearly campaign across a leap day) and may be
# announced at most 90 days ahead: longer ones are almost always a date typo.
MAX_VALIDITY = timedelta(days=366)
MAX_ANNOUNCE_AHEAD = timedelta(days=90)
MAX_BYTES = 16_384
LIMITS = ("per_member_per_day", "per_member_per_month", "stock")
REQUIRED_FOR_PUBLISH = ("title", "discount", "category", "region", "valid_from", "valid_until", "eligibility")


class Rejected(Exception):
    """The event is refused; `reasons` say why (one per problem found)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def parse(raw: bytes | None) -> PartnerOfferMessage:
    """Bytes to a schema-valid message, or Rejected with every schema problem listed."""
    if raw is None or not raw.strip():
        raise Rejected(["empty message: expected a JSON object"])
    if len(raw) > MAX_BYTES:
        raise Rejected([f"message is {len(raw)} bytes; at most {MAX_BYTES} are accepted"])
    try:
        # The kit's input policy, as for any body: no NUL or control characters, finite numbers.
        data = strict_json(raw, "message")
    except InputRefused as refused:
        raise Rejected([f"not JSON the union accepts: {refused.detail}"]) from refused
    return validate(data)


def validate(data: Any) -> PartnerOfferMessage:
    """Validate against the message's own schema version (1 when absent), then lift it to the
    latest: version 1 (no limits) is still accepted on both paths, and read as version 2."""
    if not isinstance(data, dict):
        raise Rejected(["expected a JSON object"])
    version = data.get("schema_version", 1)
    contract = OFFER_MESSAGE_VERSIONS.get(version) if type(version) is int else None
    if contract is None:
        known = ", ".join(str(v) for v in OFFER_MESSAGE_VERSIONS)
        raise Rejected([f"schema_version: {version!r} is not supported (known: {known})"])
    try:
        message = contract.model_validate(data)
        if not isinstance(message, PartnerOfferMessage):
            message = PartnerOfferMessage.model_validate(
                upcast_offer_message(message.model_dump(mode="json"))
            )
    except ValidationError as exc:
        raise Rejected([_describe(error) for error in exc.errors(include_url=False)]) from exc
    return message


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "message"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


@dataclass(frozen=True)
class MerchantFacts:
    """What the handler knows of the merchant named in the event."""

    merchant_id: str
    partner_id: str
    region: str
    listed: bool


def check_partner(partner_id: str | None, status: str | None) -> str:
    """Only a registered, active partner's events are taken (`status`: None if not registered);
    returns the partner's id."""
    if partner_id is None or status is None:
        raise Rejected([f"partner {partner_id!r} is not registered"])
    if status != "active":
        raise Rejected([f"partner {partner_id!r} is suspended: its events are not accepted"])
    return partner_id


def check_content(
    message: PartnerOfferMessage, partner_id: str, merchant: MerchantFacts | None, now: datetime
) -> None:
    """Raise Rejected listing every problem `content_problems` finds."""
    problems = content_problems(message, partner_id, merchant, now)
    if problems:
        raise Rejected(problems)


def content_problems(
    message: PartnerOfferMessage, partner_id: str, merchant: MerchantFacts | None, now: datetime
) -> list[str]:
    """Ownership, completeness, dates and region: every problem, none if the event may pass."""
    problems: list[str] = []
    if message.partner_id is not None and message.partner_id != partner_id:
        problems.append(f"partner_id {message.partner_id!r} is not you (you are {partner_id!r})")
    if merchant is None or merchant.partner_id != partner_id:
        # The same answer whether the merchant is unknown or another partner's: never tell
        # one partner who another partner's merchants are.
        problems.append(
            f"merchant {message.merchant_id!r} is not one of your merchants (partner {partner_id!r})"
        )
    elif not merchant.listed:
        problems.append(f"merchant {message.merchant_id!r} is delisted: it takes no offers")
    if message.action is not OfferAction.WITHDRAW:
        problems += _publish_problems(message, merchant, now)
    return problems


def _publish_problems(
    message: PartnerOfferMessage, merchant: MerchantFacts | None, now: datetime
) -> list[str]:
    missing = [name for name in REQUIRED_FOR_PUBLISH if getattr(message, name) is None]
    if missing:
        return [f"{message.action} needs {', '.join(missing)}"]
    assert message.valid_from is not None and message.valid_until is not None and message.region is not None
    problems: list[str] = []
    if message.valid_until <= message.valid_from:
        problems.append("valid_until must be after valid_from")
    elif message.valid_until - message.valid_from > MAX_VALIDITY:
        problems.append(f"an offer runs at most {MAX_VALIDITY.days} days")
    if message.valid_until <= now:
        problems.append(f"the offer already ended at {message.valid_until.isoformat()}")
    if message.valid_from > now + MAX_ANNOUNCE_AHEAD:
        problems.append(f"valid_from is more than {MAX_ANNOUNCE_AHEAD.days} days ahead")
    if merchant is not None and merchant.listed and not region_within(message.region, merchant.region):
        problems.append(f"region {message.region} is outside the merchant's region {merchant.region}")
    return problems


def region_within(region: str, outer: str) -> bool:
    return region_prefix(region).startswith(region_prefix(outer))


def offer_discount(message: PartnerOfferMessage) -> OfferDiscount:
    discount = message.discount
    assert discount is not None
    if discount.kind is DiscountKind.PERCENT:
        return OfferDiscount(kind=discount.kind, percent=discount.percent)
    assert discount.amount_yuan is not None
    return OfferDiscount(kind=discount.kind, amount_fen=int(discount.amount_yuan * 100))


def offer_event(
    partner_id: str, message: PartnerOfferMessage, now: datetime
) -> OfferPublished | OfferWithdrawn:
    """The event an accepted message becomes, for the member cards (checked: complete)."""
    key = offer_key(partner_id, message.offer_id)
    if message.action is OfferAction.WITHDRAW:
        return OfferWithdrawn(
            offer_key=key, partner_id=partner_id, merchant_id=message.merchant_id,
            offer_id=message.offer_id, version=message.version, withdrawn_at=now,
        )  # fmt: skip
    assert message.title and message.category and message.region and message.eligibility
    assert message.valid_from and message.valid_until
    return OfferPublished(
        offer_key=key, partner_id=partner_id, merchant_id=message.merchant_id,
        offer_id=message.offer_id, version=message.version, title=message.title,
        description=message.description, discount=offer_discount(message), category=message.category,
        region=message.region, valid_from=message.valid_from, valid_until=message.valid_until,
        eligibility=message.eligibility, published_at=now,
        per_member_per_day=message.per_member_per_day, per_member_per_month=message.per_member_per_month,
        stock=message.stock,
    )  # fmt: skip


def content_hash(message: PartnerOfferMessage) -> str:
    """Same hash for the same offer content at the same version, however it was spelled (and
    whichever schema version: a version-1 offer hashes as it did before version 2 existed)."""
    canonical = message.model_dump(mode="json", exclude={"partner_id", "action"})
    for limit in LIMITS:
        if canonical[limit] is None:
            del canonical[limit]
    if not any(limit in canonical for limit in LIMITS):
        canonical["schema_version"] = 1  # no limits: the content version 1 had, hashed as then
    if message.discount is not None:  # 15, 15.0 and "15.00" are one discount
        canonical["discount"] = {
            k: str(Decimal(v).normalize()) if k != "kind" and v is not None else v
            for k, v in canonical["discount"].items()
        }
    for name in ("valid_from", "valid_until"):  # one instant, whatever offset it was written in
        value = getattr(message, name)
        if value is not None:
            canonical[name] = value.timestamp()
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # a newer version: stored and published
    DUPLICATE = "duplicate"  # the same version and content again: nothing to do
    STALE = "stale"  # older than the stored version: ignored, the partner is told
    REJECTED = "rejected"  # refused: dead-lettered, the partner is told why


@dataclass(frozen=True)
class StoredOffer:
    merchant_id: str
    version: int
    content_hash: str
    withdrawn: bool


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str | None = None


def decide(message: PartnerOfferMessage, digest: str, stored: StoredOffer | None) -> Decision:
    """How a content-valid event meets the stored offer: idempotent on (partner, offer id,
    version), never letting an older version overwrite a newer one, withdrawal final."""
    if stored is None:
        return Decision(Outcome.ACCEPTED)
    if stored.merchant_id != message.merchant_id:
        return Decision(
            Outcome.REJECTED,
            f"offer {message.offer_id!r} belongs to merchant {stored.merchant_id!r}; "
            "an offer cannot move to another merchant (publish a new offer id)",
        )
    if message.version < stored.version:
        return Decision(
            Outcome.STALE,
            f"version {message.version} is older than the accepted version {stored.version}: ignored",
        )
    if message.version == stored.version:
        if digest == stored.content_hash:
            return Decision(Outcome.DUPLICATE)
        return Decision(
            Outcome.REJECTED,
            f"version {message.version} was already accepted with other content: send a higher version",
        )
    if stored.withdrawn:
        if message.action is OfferAction.WITHDRAW:
            return Decision(Outcome.DUPLICATE)  # withdrawn already: nothing changes
        return Decision(
            Outcome.REJECTED,
            f"offer {message.offer_id!r} was withdrawn at version {stored.version}; "
            "a withdrawn offer stays withdrawn (publish a new offer id)",
        )
    return Decision(Outcome.ACCEPTED)


class OfferState(StrEnum):
    """Where an accepted offer stands now; only a live one can be redeemed at a till.
    The store's listing computes the same in SQL (store/offers.py: _STATE) to filter and page."""

    LIVE = "live"  # published, merchant listed, valid_from <= now < valid_until
    UPCOMING = "upcoming"  # not started yet
    ENDED = "ended"  # past valid_until
    WITHDRAWN = "withdrawn"  # withdrawn by the partner (final)
    DELISTED = "delisted"  # its merchant left the programme


def offer_state(
    withdrawn: bool,
    merchant_listed: bool,
    valid_from: datetime | None,
    valid_until: datetime | None,
    now: datetime,
) -> OfferState:
    """The first that holds: withdrawn, merchant delisted, ended, upcoming, else live. An offer
    without dates (only a withdrawal was ever accepted) is never live."""
    if withdrawn:
        return OfferState.WITHDRAWN
    if not merchant_listed:
        return OfferState.DELISTED
    if valid_from is None or valid_until is None or valid_until <= now:
        return OfferState.ENDED
    if now < valid_from:
        return OfferState.UPCOMING
    return OfferState.LIVE
