"""Partner merchant discounts (会员普惠): what partners send us, and what the partners service publishes.

Two contracts live here:

- `PartnerOfferMessage`: the message a partner (a merchant or the platform serving it) writes to
  its own topic `partners.<partner_id>.offers.v1` or POSTs to the partners service. It is
  untrusted input: the partners service validates it (schema, ranges, dates, ownership, version
  order) and never trusts a partner id in the body: the partner is who authenticated.
- Events of the partners service on `partners.events.v1` (our versioned envelope): merchants
  listed and delisted, offers published and withdrawn. Offer events are keyed by the offer key
  (`<partner_id>/<offer_id>`) and carry the partner's version, so a reader keeps the newest.
  Partners never learn anything about members: eligibility is decided on the card side.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from shared.contracts.envelope import EventPayload, event_contract, upcaster
from shared.regions import REGION_PATTERN as REGION_PATTERN
from shared.regions import check_region as check_region
from shared.regions import region_ancestors as region_ancestors
from shared.regions import region_prefix as region_prefix

PARTNER_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_AMOUNT_YUAN = Decimal("10000")

PartnerId = Annotated[str, StringConstraints(pattern=PARTNER_ID_PATTERN, max_length=32)]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN, max_length=64)]


class OfferCategory(StrEnum):
    DINING = "dining"  # 餐饮
    GROCERIES = "groceries"  # 商超
    HEALTH = "health"  # 医疗健康
    EDUCATION = "education"  # 教育培训
    TRAVEL = "travel"  # 旅游
    CULTURE_LEISURE = "culture_leisure"  # 文体休闲
    TELECOM = "telecom"  # 通信
    TRANSPORT = "transport"  # 交通出行
    HOME_SERVICES = "home_services"  # 家政服务
    FINANCE = "finance"  # 金融
    OTHER = "other"


class Eligibility(StrEnum):
    ALL_MEMBERS = "all_members"
    MODEL_WORKERS = "model_workers"  # 劳模: a current model-worker honour
    HARDSHIP_HOUSEHOLDS = "hardship_households"  # 困难职工: in the relief register; never told to partners


class OfferAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    WITHDRAW = "withdraw"


class DiscountKind(StrEnum):
    PERCENT = "percent"  # percent off the price, 0 < percent <= 100
    AMOUNT = "amount"  # a fixed amount off, in yuan


class Discount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DiscountKind
    percent: Decimal | None = None  # for kind=percent
    amount_yuan: Decimal | None = None  # for kind=amount

    @field_validator("percent")
    @classmethod
    def _percent_range(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not (Decimal(0) < value <= Decimal(100)):
            raise ValueError("percent must be more than 0 and at most 100")
        if value is not None and value.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("percent has at most two decimal places")
        return value

    @field_validator("amount_yuan")
    @classmethod
    def _amount_range(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not (Decimal(0) < value <= MAX_AMOUNT_YUAN):
            raise ValueError(f"amount_yuan must be more than 0 and at most {MAX_AMOUNT_YUAN}")
        if value is not None and value.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("amount_yuan has at most two decimal places (fen)")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "Discount":
        if self.kind is DiscountKind.PERCENT and (self.percent is None or self.amount_yuan is not None):
            raise ValueError("a percent discount gives percent and no amount_yuan")
        if self.kind is DiscountKind.AMOUNT and (self.amount_yuan is None or self.percent is not None):
            raise ValueError("an amount discount gives amount_yuan and no percent")
        return self


class PartnerOfferMessageV1(BaseModel):
    """Version 1 of a partner's offer message (no limits): still accepted on both ingress paths,
    lifted to version 2 by `upcast_offer_message` before anything else reads it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    schema_version: Literal[1] = 1
    partner_id: PartnerId | None = None  # optional; if given it must be the authenticated partner
    action: OfferAction
    merchant_id: Code
    offer_id: Code
    version: int = Field(ge=1, le=2**31 - 1)
    title: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    discount: Discount | None = None
    category: OfferCategory | None = None
    region: str | None = None  # a GB/T 2260 code, checked by _region
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    eligibility: Eligibility | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)


MAX_LIMIT = 2**31 - 1


class PartnerOfferMessage(PartnerOfferMessageV1):
    """One offer event as a partner sends it (JSON), version 2. create/update carry the whole
    offer; withdraw carries merchant_id, offer_id and version only. Dates are ISO 8601 with an
    offset. The limits are optional: none means no limit."""

    schema_version: Literal[2] = 2  # type: ignore[assignment]
    per_member_per_day: int | None = Field(default=None, ge=1, le=MAX_LIMIT)  # China time days
    per_member_per_month: int | None = Field(default=None, ge=1, le=MAX_LIMIT)  # China time months
    stock: int | None = Field(default=None, ge=0, le=MAX_LIMIT)  # redemptions in all

    @model_validator(mode="after")
    def _day_within_month(self) -> "PartnerOfferMessage":
        day, month = self.per_member_per_day, self.per_member_per_month
        if day is not None and month is not None and day > month:
            raise ValueError("per_member_per_day cannot exceed per_member_per_month")
        return self


OFFER_MESSAGE_VERSIONS: dict[int, type[PartnerOfferMessageV1]] = {
    1: PartnerOfferMessageV1,
    2: PartnerOfferMessage,
}


def upcast_offer_message(data: dict[str, Any]) -> dict[str, Any]:
    """A validated version-1 message (its JSON form) as version 2: version 1 had no limits."""
    return {**data, "schema_version": 2, "per_member_per_day": None, "per_member_per_month": None,
            "stock": None}  # fmt: skip


# --- events of the partners service (topic partners.events.v1) --------------------------------


class OfferDiscount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DiscountKind
    percent: Decimal | None = None
    amount_fen: int | None = Field(default=None, ge=1)


@event_contract("partners.MerchantListed", 1)
class MerchantListed(EventPayload):
    """A merchant the union chose (by tender) was put under a partner; repeated on every change."""

    merchant_id: str
    partner_id: str
    name: str
    category: OfferCategory
    region: str
    address: str | None = None
    listed_at: datetime


@event_contract("partners.MerchantDelisted", 1)
class MerchantDelisted(EventPayload):
    """The merchant left the programme: its offers are no longer shown."""

    merchant_id: str
    partner_id: str
    delisted_at: datetime


@event_contract("partners.OfferPublished", 1)
class OfferPublishedV1(EventPayload):
    """Version 1: the offer without limits (before redemption at the till)."""

    offer_key: str  # "<partner_id>/<offer_id>", the event's subject
    partner_id: str
    merchant_id: str
    offer_id: str
    version: int = Field(ge=1)
    title: str
    description: str | None = None
    discount: OfferDiscount
    category: OfferCategory
    region: str
    valid_from: datetime
    valid_until: datetime
    eligibility: Eligibility
    published_at: datetime


@event_contract("partners.OfferPublished", 2)
class OfferPublished(OfferPublishedV1):
    """The offer's whole state at the partner's `version` (create and update alike), with its
    redemption limits (None: no limit); stock counts redemptions of the offer in all."""

    per_member_per_day: int | None = Field(default=None, ge=1)
    per_member_per_month: int | None = Field(default=None, ge=1)
    stock: int | None = Field(default=None, ge=0)


@upcaster("partners.OfferPublished", from_version=1)
def offer_published_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # Offers published before version 2 had no limits.
    return {**payload, "per_member_per_day": None, "per_member_per_month": None, "stock": None}


@event_contract("partners.OfferWithdrawn", 1)
class OfferWithdrawn(EventPayload):
    """The partner withdrew the offer at `version`; an offer id once withdrawn stays withdrawn."""

    offer_key: str
    partner_id: str
    merchant_id: str
    offer_id: str
    version: int = Field(ge=1)
    withdrawn_at: datetime


@event_contract("partners.OfferRedeemed", 1)
class OfferRedeemed(EventPayload):
    """A member redeemed an offer at a partner's till (keyed by the member: their card's usage
    history reads it in order). The partner only ever saw a masked name."""

    redemption_id: uuid.UUID
    partner_id: str
    merchant_id: str
    offer_id: str
    offer_key: str
    member_id: uuid.UUID
    redeemed_at: datetime


def offer_key(partner_id: str, offer_id: str) -> str:
    return f"{partner_id}/{offer_id}"
