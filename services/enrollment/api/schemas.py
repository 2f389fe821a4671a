"""Request and response bodies of the enrollment API. Responses never carry an ID in clear."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.enrollment.domain.applications import ApplicationStatus, SubmissionOutcome
from services.enrollment.store.queries import ApplicationRow, MemberRow, UnionRow
from shared.contracts.enrollment import (
    ApplicationChannel,
    EmploymentType,
    MembershipStatus,
    PeriodEnd,
    UnionKind,
)
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


class RejectIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class TransferIn(_In):
    to_union_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=500)


class LeaveIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class ReinstateIn(_In):
    union_id: uuid.UUID


class UnionOut(BaseModel):
    union_id: uuid.UUID
    name: str
    kind: UnionKind
    parent_id: uuid.UUID | None
    region: str
    path: list[str]

    @classmethod
    def of(cls, u: UnionRow) -> "UnionOut":
        return cls(
            union_id=u.union_id, name=u.name, kind=u.kind, parent_id=u.parent_id, region=u.region,
            path=u.path_names,
        )  # fmt: skip


class ApplicationOut(BaseModel):
    application_id: uuid.UUID
    member_id: uuid.UUID = Field(description="the person's member id, kept if they are approved")
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
        return cls(
            application_id=a.application_id, member_id=a.person_id, name=a.name,
            phone_masked=mask_phone(a.phone), employer=a.employer, employment_type=a.employment_type,
            base_union_id=a.base_union_id, channel=a.channel, status=a.status, submitted_at=a.submitted_at,
            decided_by=a.decided_by, decided_at=a.decided_at, decision_reason=a.decision_reason,
        )  # fmt: skip


class PeriodOut(BaseModel):
    union_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None
    end_reason: PeriodEnd | None
    end_note: str | None


class GapOut(BaseModel):
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
        ms = m.membership
        return cls(
            member_id=m.member_id, name=m.name, national_id_masked=m.national_id_masked,
            phone_masked=mask_phone(m.phone), membership_number=m.membership_number,
            card_number=m.card_number, base_union_id=ms.base_union_id, status=ms.status,
            member_since=ms.member_since, employer=m.employer, employment_type=m.employment_type,
            periods=[PeriodOut(**p.__dict__) for p in ms.periods],
            gaps=[GapOut(left_at=g.left_at, returned_at=g.returned_at) for g in ms.gaps],
        )  # fmt: skip


class SubmissionOut(BaseModel):
    outcome: SubmissionOutcome
    application: ApplicationOut | None = None
    member: MemberOut | None = None
