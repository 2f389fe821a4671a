"""Events published by the relief service (困难职工帮扶). Topic: relief.events.v1.

Every event is about one member's case and is keyed by the member id; `subject_version` is a
per-member sequence kept by the relief service, so a consumer can ignore an older event.
Each event carries `case`, a small snapshot of the case as it stands after the event (status,
tier, following union, aid paid to the member this year), so a member card can be drawn from
the newest event alone.

Hardship details never travel: no income, no household size, no causes, no visit findings, no
decision notes. Every consumer reads these events; only the member and the responsible cadres
may see the details, through the relief API.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventPayload, event_contract


class CaseStatus(StrEnum):
    REPORTED = "reported"  # opened by an application or a grid worker's report
    VERIFICATION_REQUESTED = "verification_requested"  # home visit done, confirmation requested
    VERIFIED = "verified"  # 核实确认
    DECLINED = "declined"  # not in hardship, or an objection upheld (closed)
    IN_DISCLOSURE = "in_disclosure"  # 公示: public, masked, objections recorded and answered
    PLAN_REQUESTED = "plan_requested"  # entry into the register with a plan requested
    IN_REGISTER = "in_register"  # 建档: in the register, aid is paid, re-verified yearly
    EXIT_REQUESTED = "exit_requested"  # re-investigated, exit (脱困) requested
    EXITED = "exited"  # 脱困退出 (closed; followed up, may re-enter with a new case)
    SUSPENDED = "suspended"  # the member left the union
    WITHDRAWN = "withdrawn"  # death, moving away, retirement, own request (closed)


class Tier(StrEnum):
    DEEP = "deep"  # 深度困难
    RELATIVE = "relative"  # 相对困难
    ACCIDENT = "accident"  # 意外致困


class AidType(StrEnum):
    CONSOLATION = "consolation"  # 送温暖: festival and winter consolation money
    TUITION = "tuition"  # 金秋助学: autumn tuition aid for members' children
    MEDICAL = "medical"  # 医疗救助
    MICRO_LOAN = "micro_loan"  # 小额贷款 for self-employment
    JOB_HELP = "job_help"  # 就业帮扶: placement and training
    COUNSELLING = "counselling"  # 心理咨询


class IntakeChannel(StrEnum):
    SELF_APPLICATION = "self_application"  # 主动申报
    GRID_REPORT = "grid_report"  # a grid worker's (网格员) report after a visit (走访)


class ApprovalStep(StrEnum):
    VERIFICATION = "verification"
    PLAN = "plan"
    EXIT = "exit"


class SuspensionReason(StrEnum):
    MEMBER_LEFT = "member_left"


class WithdrawalReason(StrEnum):
    DEATH = "death"
    MOVED = "moved"
    RETIRED = "retired"
    MEMBER_REQUEST = "member_request"
    OTHER = "other"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseSnapshot(_Frozen):
    """The case as it stands after the event: enough for a card, nothing sensitive."""

    case_id: uuid.UUID
    member_id: uuid.UUID
    status: CaseStatus
    tier: Tier | None
    union_id: uuid.UUID  # the union that follows the case
    aid_year: int = Field(ge=2000, le=2100)  # the calendar year aid_paid_fen counts (China time)
    aid_paid_fen: int = Field(ge=0)  # aid paid to the member in aid_year, in fen (分)


@event_contract("relief.CaseOpened", 1)
class CaseOpened(EventPayload):
    # Every relief event carries the member's latest case whole: the "case" part of its state.
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    channel: IntakeChannel
    opened_at: datetime


@event_contract("relief.CaseReopened", 1)
class CaseReopened(EventPayload):
    """Re-entry: a new case for a member whose earlier case closed (exited, declined, withdrawn)."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshot
    channel: IntakeChannel
    previous_case_id: uuid.UUID
    opened_at: datetime


@event_contract("relief.CaseStepRequested", 1)
class CaseStepRequested(EventPayload):
    """An approval step (verification, plan, exit) was requested; the case waits for a decision."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshot
    step: ApprovalStep
    requested_at: datetime


@event_contract("relief.CaseStepRejected", 1)
class CaseStepRejected(EventPayload):
    """A plan or exit request was rejected; the case went back a step. (A rejected verification
    declines the case: CaseDeclined.)"""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshot
    step: ApprovalStep
    decided_at: datetime


@event_contract("relief.CaseVerified", 1)
class CaseVerified(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    tier: Tier
    verified_at: datetime


@event_contract("relief.CaseDeclined", 1)
class CaseDeclined(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    declined_at: datetime


@event_contract("relief.DisclosureStarted", 1)
class DisclosureStarted(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    disclosure_no: str
    starts_at: datetime
    ends_at: datetime


class PlanSummary(_Frozen):
    aid_types: list[AidType] = Field(min_length=1)
    next_review_due: date  # the file is re-verified every year


@event_contract("relief.CaseApproved", 1)
class CaseApproved(EventPayload):
    """Approved into the register (建档立卡) with an assistance plan."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshot
    tier: Tier
    plan: PlanSummary
    approved_at: datetime


@event_contract("relief.AidDisbursed", 1)
class AidDisbursed(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    disbursement_id: uuid.UUID
    aid_type: AidType
    amount_fen: int = Field(gt=0)
    year: int = Field(ge=2000, le=2100)
    paid_at: datetime


@event_contract("relief.CaseSuspended", 1)
class CaseSuspended(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    reason: SuspensionReason
    suspended_at: datetime


@event_contract("relief.CaseResumed", 1)
class CaseResumed(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    resumed_at: datetime


@event_contract("relief.CaseTransferred", 1)
class CaseTransferred(EventPayload):
    """The receiving union accepted the case of a member who moved to it."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshot
    from_union_id: uuid.UUID
    to_union_id: uuid.UUID
    accepted_at: datetime


@event_contract("relief.CaseExited", 1)
class CaseExited(EventPayload):
    """Out of hardship (脱困) by the exit criteria, re-investigated and approved."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshot
    exited_at: datetime


@event_contract("relief.CaseWithdrawn", 1)
class CaseWithdrawn(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshot
    reason: WithdrawalReason
    withdrawn_at: datetime
