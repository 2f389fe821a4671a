"""Events published by the enrollment service (入会). Topic: enrollment.events.v1.

Member events carry the member's whole current state (`member`), so a consumer that sees a newer
event first can apply it and then ignore the older one by subject_version.
National ID numbers never travel in clear: only the masked form does, and since the latest
versions the name, masked ID and employer travel sealed with the person's key (`Personal`).

Where a contract has several versions, the class with the plain name is the latest (the one the
service emits and consumers match on); older ones keep a version suffix, so bytes already on the
topic still decode, and an upcaster lifts them to the latest.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventPayload, event_contract, upcaster
from shared.shredding import Sealed


class UnionKind(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"  # township, street or industrial-park union (乡镇/街道/园区)
    BASE = "base"  # base union (基层工会): the only kind members belong to
    BRANCH = "branch"  # branch union (分工会)
    GROUP = "group"  # union group (工会小组)


class EmploymentType(StrEnum):
    EMPLOYEE = "employee"
    TEMPORARY = "temporary"
    MIGRANT = "migrant"  # 外来务工人员
    FLEXIBLE = "flexible"  # 灵活就业人员: riders, drivers


class ApplicationChannel(StrEnum):
    """How an application reached the union."""

    ONLINE = "online"  # 网上入会: the web form
    WECHAT = "wechat"  # the WeChat mini-program
    # A street or township service station (服务站): for workers without a workplace union.
    SERVICE_STATION = "service_station"
    CADRE = "cadre"  # filed by a union cadre on the worker's behalf
    IMPORT = "import"  # a line of a roster a cadre imported (批量导入), approved at once


# What cadres read for each channel.
APPLICATION_CHANNEL_LABELS: dict[ApplicationChannel, str] = {
    ApplicationChannel.ONLINE: "网上入会",
    ApplicationChannel.WECHAT: "微信小程序",
    ApplicationChannel.SERVICE_STATION: "服务站",
    ApplicationChannel.CADRE: "工会代办",
    ApplicationChannel.IMPORT: "批量导入",
}


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class PeriodEnd(StrEnum):
    TRANSFERRED = "transferred"
    LEFT = "left"


class TransferStatus(StrEnum):
    """A transfer request's (接转申请) state: pending until the receiving union decides, or until
    the sender withdraws it or its window runs out."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


# What members and cadres read for each status.
TRANSFER_STATUS_LABELS: dict[TransferStatus, str] = {
    TransferStatus.PENDING: "待接收",
    TransferStatus.ACCEPTED: "已接收",
    TransferStatus.DECLINED: "已拒绝",
    TransferStatus.WITHDRAWN: "已撤回",
    TransferStatus.EXPIRED: "已过期",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UnionRef(_Frozen):
    union_id: uuid.UUID
    name: str


class MembershipPeriod(_Frozen):
    union_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: PeriodEnd | None = None


# The state parts whose subject is a person (a member or an applicant), as opposed to a union.
PERSON_PARTS = ("member", "application", "transfer")


class MemberSnapshotV1(_Frozen):
    """The member as the first versions of the member events carried them: personal fields in
    clear. Still decoded (they are on the topics), upcast to MemberSnapshot unchanged."""

    member_id: uuid.UUID
    name: str
    national_id_masked: str
    membership_number: str
    card_number: str
    base_union_id: uuid.UUID
    status: MembershipStatus
    member_since: date
    employer: str
    employment_type: EmploymentType
    periods: list[MembershipPeriod] = Field(min_length=1)


# A personal field: sealed with its person's key as enrollment emits it (crypto-shredding,
# docs/erasure.md); clear in events emitted before sealing, and as consumers' handlers read it
# (the kit opens it while decoding; "" once the person is erased).
Personal = Sealed | str


class MemberSnapshot(_Frozen):
    member_id: uuid.UUID
    name: Personal
    national_id_masked: Personal
    membership_number: str
    card_number: str
    base_union_id: uuid.UUID
    status: MembershipStatus
    member_since: date
    employer: Personal
    employment_type: EmploymentType
    periods: list[MembershipPeriod] = Field(min_length=1)


@event_contract("enrollment.UnionRegistered", 1)
class UnionRegistered(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("union",)
    union_id: uuid.UUID
    name: str
    kind: UnionKind
    parent_id: uuid.UUID | None
    region: str
    # From the root down to this union, itself included.
    path: list[UnionRef] = Field(min_length=1)


class EmployerSnapshot(_Frozen):
    """An employer in the register (用人单位名录) as it stands after the event. No personal data:
    an employer's name and credit code are public (国家企业信用信息公示系统)."""

    employer_id: uuid.UUID
    name: str
    # 统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character enrollment verifies.
    credit_code: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
    region: str
    workforce: int = Field(ge=0)  # 职工人数
    # The union responsible for organising it (a township, street or park union, or above):
    # the employer counts in that union's subtree for coverage (建会率).
    responsible_union_id: uuid.UUID
    # The base union that covers it, if one has been founded (or it joined a 联合工会).
    base_union_id: uuid.UUID | None
    # Enrollment's rule (domain/employers.py): whether it should have a union, i.e. counts in the
    # denominator of 建会率.
    should_have_union: bool


# An employer's events are keyed by the employer id; subject_version is its own sequence.
@event_contract("enrollment.EmployerRegistered", 1)
class EmployerRegistered(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("employer",)
    employer: EmployerSnapshot


@event_contract("enrollment.EmployerUpdated", 1)
class EmployerUpdated(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("employer",)
    employer: EmployerSnapshot


@event_contract("enrollment.ApplicationSubmitted", 1)
class ApplicationSubmittedV1(EventPayload):
    """Before the channel was recorded. Still decoded (it is on the topic), upcast on the way in."""

    state_parts: ClassVar[tuple[str, ...]] = ("application",)

    application_id: uuid.UUID
    person_id: uuid.UUID
    name: str
    national_id_masked: str
    base_union_id: uuid.UUID
    employer: str
    employment_type: EmploymentType
    submitted_at: datetime


@event_contract("enrollment.ApplicationSubmitted", 2)
class ApplicationSubmittedV2(EventPayload):
    """Personal fields in clear. Still decoded (it is on the topic), upcast on the way in."""

    state_parts: ClassVar[tuple[str, ...]] = ("application",)
    application_id: uuid.UUID
    person_id: uuid.UUID
    name: str
    national_id_masked: str
    base_union_id: uuid.UUID
    employer: str
    employment_type: EmploymentType
    channel: ApplicationChannel
    submitted_at: datetime


@event_contract("enrollment.ApplicationSubmitted", 3)
class ApplicationSubmitted(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("application",)
    carries_sealed: ClassVar[bool] = True
    application_id: uuid.UUID
    person_id: uuid.UUID
    name: Personal
    national_id_masked: Personal
    base_union_id: uuid.UUID
    employer: Personal
    employment_type: EmploymentType
    channel: ApplicationChannel
    submitted_at: datetime


@upcaster("enrollment.ApplicationSubmitted", from_version=1)
def application_submitted_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # Only the web form existed while v1 was emitted, so every v1 application came in online.
    return {**payload, "channel": ApplicationChannel.ONLINE.value}


def _clear_is_personal(payload: dict[str, Any]) -> dict[str, Any]:
    # A clear value is a valid Personal one: the older version lifts unchanged.
    return payload


upcaster("enrollment.ApplicationSubmitted", from_version=2)(_clear_is_personal)


@event_contract("enrollment.ApplicationRejected", 1)
class ApplicationRejected(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("application",)
    application_id: uuid.UUID
    person_id: uuid.UUID
    base_union_id: uuid.UUID
    reason: str
    decided_by: str


@event_contract("enrollment.MemberEnrolled", 1)
class MemberEnrolledV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member", "application")  # the application, approved
    application_id: uuid.UUID
    decided_by: str
    member: MemberSnapshotV1


@event_contract("enrollment.MemberEnrolled", 2)
class MemberEnrolled(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member", "application")  # the application, approved
    application_id: uuid.UUID
    decided_by: str
    carries_sealed: ClassVar[bool] = True
    member: MemberSnapshot


upcaster("enrollment.MemberEnrolled", from_version=1)(_clear_is_personal)


@event_contract("enrollment.MemberTransferred", 1)
class MemberTransferredV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member",)
    from_union_id: uuid.UUID
    to_union_id: uuid.UUID
    reason: str
    member: MemberSnapshotV1


@event_contract("enrollment.MemberTransferred", 2)
class MemberTransferred(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member",)
    from_union_id: uuid.UUID
    to_union_id: uuid.UUID
    reason: str
    carries_sealed: ClassVar[bool] = True
    member: MemberSnapshot


upcaster("enrollment.MemberTransferred", from_version=1)(_clear_is_personal)


@event_contract("enrollment.MemberLeft", 1)
class MemberLeftV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member",)
    reason: str
    member: MemberSnapshotV1


@event_contract("enrollment.MemberLeft", 2)
class MemberLeft(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member",)
    reason: str
    carries_sealed: ClassVar[bool] = True
    member: MemberSnapshot


upcaster("enrollment.MemberLeft", from_version=1)(_clear_is_personal)


@event_contract("enrollment.MemberReinstated", 1)
class MemberReinstatedV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member", "application")
    application_id: uuid.UUID | None
    left_at: datetime
    reinstated_at: datetime
    member: MemberSnapshotV1

    def carries_state_of(self) -> tuple[str, ...]:
        return self.state_parts if self.application_id is not None else ("member",)


@event_contract("enrollment.MemberReinstated", 2)
class MemberReinstated(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("member", "application")
    carries_sealed: ClassVar[bool] = True
    application_id: uuid.UUID | None
    # The gap stays visible: when the member left and when they came back.
    left_at: datetime
    reinstated_at: datetime
    member: MemberSnapshot

    def carries_state_of(self) -> tuple[str, ...]:
        # Without an application it leaves the member's application as it was.
        return self.state_parts if self.application_id is not None else ("member",)


upcaster("enrollment.MemberReinstated", from_version=1)(_clear_is_personal)


class TransferSnapshot(_Frozen):
    """A transfer request as its events carry it: its whole current state."""

    transfer_id: uuid.UUID
    member_id: uuid.UUID
    from_union_id: uuid.UUID
    to_union_id: uuid.UUID
    status: TransferStatus
    reason: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


# The steps of a transfer (接转). Their subject is the member, so they share the member's
# partition and version sequence with the member's other events. The member's move itself is
# still MemberTransferred, emitted right after TransferAccepted: consumers of membership
# (relief, the card, every membership view) keep following that one event.
@event_contract("enrollment.TransferRequested", 1)
class TransferRequested(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("transfer",)
    transfer: TransferSnapshot


@event_contract("enrollment.TransferAccepted", 1)
class TransferAccepted(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("transfer",)
    transfer: TransferSnapshot
    # True when the rule accepted it at once (both unions under one parent union).
    automatic: bool


@event_contract("enrollment.TransferDeclined", 1)
class TransferDeclined(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("transfer",)
    transfer: TransferSnapshot


@event_contract("enrollment.TransferWithdrawn", 1)
class TransferWithdrawn(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("transfer",)
    transfer: TransferSnapshot


@event_contract("enrollment.TransferExpired", 1)
class TransferExpired(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("transfer",)
    transfer: TransferSnapshot


# Erasure (删除个人信息, PIPL art. 47): the person's name, ID and contact data are gone from
# enrollment; every service purges its own copies on this event. It carries no personal data
# itself, nor the cadre's reason (that stays in enrollment's audit trail).
@event_contract("enrollment.PersonErased", 1)
class PersonErased(EventPayload):
    # Every part of the person: on the state topic it takes the place of the last records that
    # named them, so compaction deletes those (docs/erasure.md), and a reader of the state topic
    # learns the person is erased instead of meeting nothing.
    state_parts: ClassVar[tuple[str, ...]] = PERSON_PARTS
    person_id: uuid.UUID
    erased_at: datetime
