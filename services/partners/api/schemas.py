"""Request and response bodies of the partners API."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.partners.domain.topics import PartnerTopics
from services.partners.store.partners import PartnerRow
from shared.contracts.partners import CODE_PATTERN, PARTNER_ID_PATTERN, REGION_PATTERN, OfferCategory


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


MerchantId = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]
