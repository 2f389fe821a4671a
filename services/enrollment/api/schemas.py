"""Request and response bodies of the enrollment API. Responses never carry an ID in clear."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.enrollment.domain.applications import RECEIVED_MESSAGE, ApplicationStatus, SubmissionOutcome
from services.enrollment.domain.links import LinkHow, LinkOutcome
from services.enrollment.domain.transfers import Transfer
from services.enrollment.handlers.exports import MemberExport
from services.enrollment.store.applications import ApplicationRow
from services.enrollment.store.members import MemberRow
from shared.audit import TrailEntry
from shared.contracts.enrollment import (
    TRANSFER_STATUS_LABELS,
    ApplicationChannel,
    EmploymentType,
    MembershipStatus,
    PeriodEnd,
    TransferStatus,
    UnionKind,
)
from shared.contracts.personal_data import SectionInExport
from shared.pii import mask_phone
from shared.regions import check_region


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterUnionIn(_In):
    name: str = Field(min_length=1, max_length=200)
    kind: UnionKind
    parent_id: uuid.UUID | None = None
    region: str | None = Field(
        default=None,
        max_length=12,
        examples=["330100"],
        description="GB/T 2260 division code (行政区划代码); a child union inherits its parent's if omitted",
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)


class ApplicationIn(_In):
    name: str = Field(min_length=1, max_length=50, examples=["张三"])
    national_id: str = Field(min_length=1, max_length=32, examples=["11010519491231002X"])
    phone: str = Field(min_length=1, max_length=20, examples=["13800138000"])
    employer: str = Field(default="", max_length=200)
    employment_type: EmploymentType
    base_union_id: uuid.UUID
    channel: ApplicationChannel | None = Field(
        default=None, description="how the application came in; default: cadre for a cadre, else online"
    )


class PersonLinkIn(_In):
    account_id: uuid.UUID = Field(description="the identity account to link")
    name: str = Field(min_length=1, max_length=50, examples=["张三"])
    national_id: str = Field(min_length=1, max_length=32, examples=["11010519491231002X"])
    phone: str = Field(min_length=1, max_length=20, examples=["13800138000"])


class LinkTransferIn(_In):
    from_account_id: uuid.UUID = Field(description="the account that holds the link now")
    to_account_id: uuid.UUID = Field(description="the account a cadre found to be the person's")


class RejectIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class TransferIn(_In):
    to_union_id: uuid.UUID = Field(description="the receiving base union")
    reason: str = Field(min_length=1, max_length=500, examples=["换工作成为骑手"])


class DeclineTransferIn(_In):
    reason: str = Field(min_length=1, max_length=500, examples=["该职工不在本单位工作"])


class WithdrawTransferIn(_In):
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class LeaveIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class ErasureIn(_In):
    # Why the data may go (the member asked, the retention period ended): kept in the audit
    # trail, so it must name no one.
    reason: str = Field(min_length=1, max_length=500)


class ReinstateIn(_In):
    union_id: uuid.UUID


class PersonLinkOut(BaseModel):
    """A link's answer: never the person's ID, name or phone."""

    model_config = ConfigDict(from_attributes=True)

    person_id: uuid.UUID
    member_id: uuid.UUID | None = Field(description="the person's member id when they are a member")
    outcome: LinkOutcome


class HeldLinkOut(BaseModel):
    """The account the person is linked to, as their export shows it."""

    model_config = ConfigDict(from_attributes=True)

    account_id: uuid.UUID
    linked_at: datetime
    how: LinkHow


class UnionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    union_id: uuid.UUID
    name: str
    kind: UnionKind
    parent_id: uuid.UUID | None
    region: str
    path: list[str] = Field(validation_alias="path_names", description="names from the root down")


class DirectoryUnionOut(BaseModel):
    """A base union as the public directory shows it."""

    model_config = ConfigDict(from_attributes=True)

    union_id: uuid.UUID
    name: str
    region: str
    path: list[str] = Field(validation_alias="path_names", description="names from the root down")


class ApplicationOut(BaseModel):
    application_id: uuid.UUID
    member_id: uuid.UUID = Field(
        validation_alias="person_id", description="the person's member id, kept if they are approved"
    )
    name: str
    phone_masked: str
    employer: str
    employment_type: EmploymentType
    base_union_id: uuid.UUID
    channel: ApplicationChannel
    status: ApplicationStatus
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None

    @classmethod
    def of(cls, a: ApplicationRow) -> "ApplicationOut":
        """The application, its phone masked."""
        return cls.model_validate({**vars(a), "phone_masked": mask_phone(a.phone)})


class PeriodOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    union_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None
    end_reason: PeriodEnd | None
    end_note: str | None


class GapOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    left_at: datetime
    returned_at: datetime | None


class MemberOut(BaseModel):
    member_id: uuid.UUID
    name: str
    national_id_masked: str
    phone_masked: str
    membership_number: str
    card_number: str
    base_union_id: uuid.UUID
    status: MembershipStatus
    member_since: date
    employer: str
    employment_type: EmploymentType
    periods: list[PeriodOut]
    gaps: list[GapOut]

    @classmethod
    def of(cls, m: MemberRow) -> "MemberOut":
        """The member, its phone masked, with what its membership derives (status, union, gaps)."""
        ms = m.membership
        derived = {
            "base_union_id": ms.base_union_id, "status": ms.status, "member_since": ms.member_since,
            "periods": ms.periods, "gaps": ms.gaps,
        }  # fmt: skip
        return cls.model_validate({**vars(m), **derived, "phone_masked": mask_phone(m.phone)})


class SubmissionOut(BaseModel):
    outcome: SubmissionOutcome
    application: ApplicationOut | None = None
    member: MemberOut | None = None


class SubmissionReceivedOut(BaseModel):
    """The neutral answer: the same, byte for byte, whether the person was unknown (an application
    was filed), is a member or has an application pending where the caller may not look."""

    outcome: Literal["received"] = "received"
    message: str = RECEIVED_MESSAGE


class TransferOut(BaseModel):
    transfer_id: uuid.UUID
    member_id: uuid.UUID
    from_union_id: uuid.UUID
    to_union_id: uuid.UUID
    status: TransferStatus
    status_label: str = Field(description="the status as members and cadres read it (待接收, 已接收…)")
    reason: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime = Field(description="when the request lapses if nobody answers it")
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None

    @classmethod
    def of(cls, t: Transfer) -> "TransferOut":
        return cls.model_validate({**vars(t), "status_label": TRANSFER_STATUS_LABELS[t.status]})


class ExportRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    request_id: uuid.UUID
    member_id: uuid.UUID
    status: Literal["pending", "approved"]
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None


class ExportOut(BaseModel):
    """Everything enrollment holds on the person (个人信息副本); the phone unmasked: it is theirs."""

    request: ExportRequestOut
    generated_at: datetime
    member: MemberOut
    phone: str
    applications: list[ApplicationOut]
    transfers: list[TransferOut]
    link: HeldLinkOut | None = Field(description="the identity account linked to the person (实名认证)")
    trail: list[TrailEntry]
    sections: list[SectionInExport] = Field(
        description="the other services' records on the person (relief, legal, competitions)"
    )

    @classmethod
    def of(cls, e: MemberExport) -> "ExportOut":
        return cls(
            request=ExportRequestOut.model_validate(e.request), generated_at=e.generated_at,
            member=MemberOut.of(e.member), phone=e.member.phone,
            applications=[ApplicationOut.of(a) for a in e.applications],
            transfers=[TransferOut.of(t) for t in e.transfers],
            link=HeldLinkOut.model_validate(e.link) if e.link else None, trail=e.trail, sections=e.sections,
        )  # fmt: skip
