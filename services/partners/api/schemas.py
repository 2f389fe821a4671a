"""Request and response bodies of the partners API."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.partners.domain.offers import OfferState
from services.partners.domain.topics import PartnerTopics
from services.partners.store.offers import ListedOffer
from services.partners.store.partners import PartnerRow
from shared.contracts.partners import (
    CODE_PATTERN,
    PARTNER_ID_PATTERN,
    REGION_PATTERN,
    OfferCategory,
    offer_key,
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PartnerIn(_In):
    partner_id: Annotated[str, Field(pattern=PARTNER_ID_PATTERN, max_length=32, examples=["meituan-hz"])]
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["美团 · 杭州"])]
    contact: Annotated[str | None, Field(max_length=200)] = None


class StatusIn(_In):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class MerchantIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["知味观 · 湖滨店"])]
    category: OfferCategory
    region: Annotated[str, Field(pattern=REGION_PATTERN, max_length=6, examples=["330102"])]
    address: Annotated[str | None, Field(max_length=300)] = None


class PartnerOut(BaseModel):
    partner_id: str
    name: str
    contact: str | None
    status: str
    created_at: datetime
    offers_topic: str
    rejections_topic: str

    @classmethod
    def of(cls, p: PartnerRow, topics: PartnerTopics) -> "PartnerOut":
        """The row with the names of the partner's two topics."""
        return cls(
            partner_id=p.partner_id, name=p.name, contact=p.contact, status=p.status,
            created_at=p.created_at, offers_topic=topics.offers(p.partner_id),
            rejections_topic=topics.rejections(p.partner_id),
        )  # fmt: skip


class KeyOut(BaseModel):
    key_id: uuid.UUID
    api_key: str = Field(
        description="shown once: keep it secret; send it as `Authorization: Bearer <api_key>`"
    )


class RegisteredOut(BaseModel):
    partner: PartnerOut
    key: KeyOut


class MerchantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    merchant_id: str
    partner_id: str
    name: str
    category: str
    region: str
    address: str | None
    listed: bool


class QueuedOut(BaseModel):
    status: str = Field(default="queued", description="checked and written to your topic; decided shortly")
    offer_id: str
    version: int
    topic: str
    partition: int
    offset: int


class IngressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    origin: str
    offer_id: str | None
    version: int | None
    outcome: str
    reasons: list[str]
    received_at: datetime


class RejectionsOut(BaseModel):
    items: list[IngressOut]
    next_after: int = Field(description="pass as ?after= to read on from here")


class OfferStateOut(BaseModel):
    offer_id: str
    merchant_id: str
    version: int
    withdrawn: bool
    updated_at: datetime
    offer: dict[str, Any]
    history: list[IngressOut]


class OfferListItemOut(BaseModel):
    """One of your offers as a till lists it (nothing about any member)."""

    offer_id: str
    offer_key: str = Field(description="<partner_id>/<offer_id>, as the member's card names it")
    state: OfferState
    title: str | None = Field(description="null once withdrawn: a withdrawal carries no title")
    merchant_id: str
    merchant_name: str
    eligibility: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    per_member_per_day: int | None = Field(description="null: no limit (China time days)")
    per_member_per_month: int | None = Field(description="null: no limit (China time months)")
    stock: int | None = Field(description="redemptions in all; null: no limit")
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, partner_id: str, o: ListedOffer) -> "OfferListItemOut":
        body = o.offer
        return cls(
            offer_id=o.offer_id, offer_key=offer_key(partner_id, o.offer_id), state=o.state,
            title=body.get("title"), merchant_id=o.merchant_id, merchant_name=o.merchant_name,
            eligibility=body.get("eligibility"), valid_from=body.get("valid_from"),
            valid_until=body.get("valid_until"), per_member_per_day=body.get("per_member_per_day"),
            per_member_per_month=body.get("per_member_per_month"), stock=body.get("stock"),
            version=o.version, updated_at=o.updated_at,
        )  # fmt: skip


class OffersOut(BaseModel):
    items: list[OfferListItemOut]
    next_after: str | None = Field(description="pass as ?after= for the next page; null: this was the last")


MerchantId = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]
