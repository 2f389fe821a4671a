"""Events of relief's programmes (送温暖 campaigns, 金秋助学 student aid). Topic: relief.events.v1.

A payment to a member is keyed by the member id under the member's relief sequence (the one
their case events use), and carries the member's programme receipts whole, newest first: the
card shows them from the newest event alone, and the state topic keeps them past retention.
No hardship detail travels: no income, no student's name or ID, no household facts. A consoled
employer (困难企业) is keyed by `employer:{employer_id}`.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventPayload, event_contract


class Programme(StrEnum):
    CONSOLATION = "consolation"  # 送温暖: a seasonal consolation campaign
    STUDENT_AID = "student_aid"  # 金秋助学: autumn aid for a member's child admitted to school


# What every reader sees for each programme.
PROGRAMME_LABELS: dict[str, str] = {Programme.CONSOLATION: "送温暖", Programme.STUDENT_AID: "金秋助学"}


class RecipientGroup(StrEnum):
    """Who a campaign consoles: households by relief tier, or a group; and employers."""

    DEEP = "deep"  # 深度困难 household in the relief register
    RELATIVE = "relative"  # 相对困难
    ACCIDENT = "accident"  # 意外致困
    MODEL_WORKER = "model_worker"  # 困难劳模: a model worker with a case in the register
    FRONT_LINE = "front_line"  # 一线职工: flexible workers (riders, drivers), migrant workers
    EMPLOYER = "employer"  # 困难企业: an employer in difficulty, from the employer register


RECIPIENT_GROUP_LABELS: dict[str, str] = {
    RecipientGroup.DEEP: "深度困难职工",
    RecipientGroup.RELATIVE: "相对困难职工",
    RecipientGroup.ACCIDENT: "意外致困职工",
    RecipientGroup.MODEL_WORKER: "困难劳模",
    RecipientGroup.FRONT_LINE: "一线职工",
    RecipientGroup.EMPLOYER: "困难企业",
}


class SchoolType(StrEnum):
    UNDERGRADUATE = "undergraduate"  # 本科
    JUNIOR_COLLEGE = "junior_college"  # 高职(专科)
    SECONDARY_VOCATIONAL = "secondary_vocational"  # 中职(技工学校、职业高中)
    POSTGRADUATE = "postgraduate"  # 研究生


SCHOOL_TYPE_LABELS: dict[str, str] = {
    SchoolType.UNDERGRADUATE: "本科",
    SchoolType.JUNIOR_COLLEGE: "高职(专科)",
    SchoolType.SECONDARY_VOCATIONAL: "中职",
    SchoolType.POSTGRADUATE: "研究生",
}


class CampaignStatus(StrEnum):
    OPEN = "open"  # lists are drawn up, signed off and paid
    CLOSED = "closed"  # its period ended (the durable timer): nothing more is paid


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProgrammeReceipt(_Frozen):
    """One payment to a member by a programme: what the card shows."""

    payment_id: uuid.UUID
    programme: Programme
    source_id: uuid.UUID  # the campaign, or the student-aid window
    title: str = Field(min_length=1, max_length=100)  # "2027年春节送温暖", "2027年金秋助学"
    amount_fen: int = Field(gt=0)
    paid_at: datetime
    paying_union_id: uuid.UUID


MAX_RECEIPTS = 50  # the newest ones: about a decade of campaigns and student aid


@event_contract("relief.ProgrammeAidPaid", 1)
class ProgrammeAidPaid(EventPayload):
    """A programme paid a member (keyed by the member id). `group` is the campaign group or the
    school type, for statistics; `receipts` are all the member's receipts, newest first."""

    state_parts: ClassVar[tuple[str, ...]] = ("receipts",)

    member_id: uuid.UUID
    base_union_id: uuid.UUID
    group: RecipientGroup | SchoolType
    payment: ProgrammeReceipt
    receipts: list[ProgrammeReceipt] = Field(min_length=1, max_length=MAX_RECEIPTS)


@event_contract("relief.EmployerConsoled", 1)
class EmployerConsoled(EventPayload):
    """A campaign consoled an employer in difficulty (keyed by `employer:{employer_id}`)."""

    employer_id: uuid.UUID
    campaign_id: uuid.UUID
    title: str = Field(min_length=1, max_length=100)
    union_id: uuid.UUID  # the union whose list paid it
    amount_fen: int = Field(gt=0)
    paid_at: datetime


class CampaignSnapshot(_Frozen):
    campaign_id: uuid.UUID
    title: str = Field(min_length=1, max_length=100)
    union_id: uuid.UUID  # the launching union: its subtree takes part
    starts_on: date
    ends_on: date
    total_fen: int = Field(ge=0)
    # Fen per recipient for each group the campaign consoles.
    amounts_fen: dict[RecipientGroup, int]
    status: CampaignStatus


@event_contract("relief.CampaignLaunched", 1)
class CampaignLaunched(EventPayload):
    """Keyed by `campaign:{campaign_id}`; the campaign as launched."""

    state_parts: ClassVar[tuple[str, ...]] = ("campaign",)
    campaign: CampaignSnapshot
    launched_at: datetime


@event_contract("relief.CampaignClosed", 1)
class CampaignClosed(EventPayload):
    """The campaign's period ended (the durable timer): no list may be paid any more."""

    state_parts: ClassVar[tuple[str, ...]] = ("campaign",)
    campaign: CampaignSnapshot
    closed_at: datetime


def campaign_subject(campaign_id: uuid.UUID) -> str:
    return f"campaign:{campaign_id}"


def employer_subject(employer_id: uuid.UUID) -> str:
    return f"employer:{employer_id}"
