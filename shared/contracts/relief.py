"""Events published by the relief service (困难职工帮扶). Topic: relief.events.v1.

Every event is about one member's case and is keyed by the member id; `subject_version` is a
per-member sequence kept by the relief service, so a consumer can ignore an older event.
Each event carries `case`, a small snapshot of the case as it stands after the event (status,
tier, following union, aid paid to the member this year), so a member card can be drawn from
the newest event alone.

Hardship details never travel: no income, no household size, no visit findings, no decision
notes. Every consumer reads these events; only the member and the responsible cadres may see the
details, through the relief API. Since version 2 the snapshot carries the case's `causes` (the
cause codes only, never their specifics) for the federation's statistics (services/reports);
the card never stores or shows them. Version 1 events lift to version 2 with `causes` None
(unknown).
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventPayload, event_contract, upcaster


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


# What every reader sees for each tier (the card, the reports).
TIER_LABELS: dict[str, str] = {Tier.DEEP: "深度困难", Tier.RELATIVE: "相对困难", Tier.ACCIDENT: "意外致困"}


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


class CaseSnapshotV1(_Frozen):
    """The case as it stands after the event: enough for a card, nothing sensitive."""

    case_id: uuid.UUID
    member_id: uuid.UUID
    status: CaseStatus
    tier: Tier | None
    union_id: uuid.UUID  # the union that follows the case
    aid_year: int = Field(ge=2000, le=2100)  # the calendar year aid_paid_fen counts (China time)
    aid_paid_fen: int = Field(ge=0)  # aid paid to the member in aid_year, in fen (分)


# The relief service's cause codes (services/relief/domain/intake.py: Cause): illness, disaster,
# children_schooling, disability, single_parent, accident, unemployment.
CAUSE_PATTERN = r"^[a-z_]{1,40}$"


class CaseSnapshot(CaseSnapshotV1):
    """Version 2: with the case's cause codes, for statistics only (never on the card)."""

    # None: not known (a version-1 event); [] a case opened without a stated cause.
    causes: list[Annotated[str, Field(pattern=CAUSE_PATTERN)]] | None = Field(default=None, max_length=7)


def _causes_unknown(payload: dict[str, Any]) -> dict[str, Any]:
    """A version-1 relief event to version 2: its snapshot's causes are not known."""
    return {**payload, "case": {**payload["case"], "causes": None}}


@event_contract("relief.CaseOpened", 1)
class CaseOpenedV1(EventPayload):
    # Every relief event carries the member's latest case whole: the "case" part of its state.
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    channel: IntakeChannel
    opened_at: datetime


@event_contract("relief.CaseOpened", 2)
class CaseOpened(CaseOpenedV1):
    case: CaseSnapshot


upcaster("relief.CaseOpened", from_version=1)(_causes_unknown)


@event_contract("relief.CaseReopened", 1)
class CaseReopenedV1(EventPayload):
    """Re-entry: a new case for a member whose earlier case closed (exited, declined, withdrawn)."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshotV1
    channel: IntakeChannel
    previous_case_id: uuid.UUID
    opened_at: datetime


@event_contract("relief.CaseReopened", 2)
class CaseReopened(CaseReopenedV1):
    case: CaseSnapshot


upcaster("relief.CaseReopened", from_version=1)(_causes_unknown)


@event_contract("relief.CaseStepRequested", 1)
class CaseStepRequestedV1(EventPayload):
    """An approval step (verification, plan, exit) was requested; the case waits for a decision."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshotV1
    step: ApprovalStep
    requested_at: datetime


@event_contract("relief.CaseStepRequested", 2)
class CaseStepRequested(CaseStepRequestedV1):
    case: CaseSnapshot


upcaster("relief.CaseStepRequested", from_version=1)(_causes_unknown)


@event_contract("relief.CaseStepRejected", 1)
class CaseStepRejectedV1(EventPayload):
    """A plan or exit request was rejected; the case went back a step. (A rejected verification
    declines the case: CaseDeclined.)"""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshotV1
    step: ApprovalStep
    decided_at: datetime


@event_contract("relief.CaseStepRejected", 2)
class CaseStepRejected(CaseStepRejectedV1):
    case: CaseSnapshot


upcaster("relief.CaseStepRejected", from_version=1)(_causes_unknown)


@event_contract("relief.CaseVerified", 1)
class CaseVerifiedV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    tier: Tier
    verified_at: datetime


@event_contract("relief.CaseVerified", 2)
class CaseVerified(CaseVerifiedV1):
    case: CaseSnapshot


upcaster("relief.CaseVerified", from_version=1)(_causes_unknown)


@event_contract("relief.CaseDeclined", 1)
class CaseDeclinedV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    declined_at: datetime


@event_contract("relief.CaseDeclined", 2)
class CaseDeclined(CaseDeclinedV1):
    case: CaseSnapshot


upcaster("relief.CaseDeclined", from_version=1)(_causes_unknown)


@event_contract("relief.DisclosureStarted", 1)
class DisclosureStartedV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    disclosure_no: str
    starts_at: datetime
    ends_at: datetime


@event_contract("relief.DisclosureStarted", 2)
class DisclosureStarted(DisclosureStartedV1):
    case: CaseSnapshot


upcaster("relief.DisclosureStarted", from_version=1)(_causes_unknown)


class PlanSummary(_Frozen):
    aid_types: list[AidType] = Field(min_length=1)
    next_review_due: date  # the file is re-verified every year


@event_contract("relief.CaseApproved", 1)
class CaseApprovedV1(EventPayload):
    """Approved into the register (建档立卡) with an assistance plan."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshotV1
    tier: Tier
    plan: PlanSummary
    approved_at: datetime


@event_contract("relief.CaseApproved", 2)
class CaseApproved(CaseApprovedV1):
    case: CaseSnapshot


upcaster("relief.CaseApproved", from_version=1)(_causes_unknown)


@event_contract("relief.AidDisbursed", 1)
class AidDisbursedV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    disbursement_id: uuid.UUID
    aid_type: AidType
    amount_fen: int = Field(gt=0)
    year: int = Field(ge=2000, le=2100)
    paid_at: datetime


@event_contract("relief.AidDisbursed", 2)
class AidDisbursed(AidDisbursedV1):
    case: CaseSnapshot


upcaster("relief.AidDisbursed", from_version=1)(_causes_unknown)


@event_contract("relief.CaseSuspended", 1)
class CaseSuspendedV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    reason: SuspensionReason
    suspended_at: datetime


@event_contract("relief.CaseSuspended", 2)
class CaseSuspended(CaseSuspendedV1):
    case: CaseSnapshot


upcaster("relief.CaseSuspended", from_version=1)(_causes_unknown)


@event_contract("relief.CaseResumed", 1)
class CaseResumedV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    resumed_at: datetime


@event_contract("relief.CaseResumed", 2)
class CaseResumed(CaseResumedV1):
    case: CaseSnapshot


upcaster("relief.CaseResumed", from_version=1)(_causes_unknown)


@event_contract("relief.CaseTransferred", 1)
class CaseTransferredV1(EventPayload):
    """The receiving union accepted the case of a member who moved to it."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshotV1
    from_union_id: uuid.UUID
    to_union_id: uuid.UUID
    accepted_at: datetime


@event_contract("relief.CaseTransferred", 2)
class CaseTransferred(CaseTransferredV1):
    case: CaseSnapshot


upcaster("relief.CaseTransferred", from_version=1)(_causes_unknown)


@event_contract("relief.CaseExited", 1)
class CaseExitedV1(EventPayload):
    """Out of hardship (脱困) by the exit criteria, re-investigated and approved."""

    state_parts: ClassVar[tuple[str, ...]] = ("case",)

    case: CaseSnapshotV1
    exited_at: datetime


@event_contract("relief.CaseExited", 2)
class CaseExited(CaseExitedV1):
    case: CaseSnapshot


upcaster("relief.CaseExited", from_version=1)(_causes_unknown)


@event_contract("relief.CaseWithdrawn", 1)
class CaseWithdrawnV1(EventPayload):
    state_parts: ClassVar[tuple[str, ...]] = ("case",)
    case: CaseSnapshotV1
    reason: WithdrawalReason
    withdrawn_at: datetime


@event_contract("relief.CaseWithdrawn", 2)
class CaseWithdrawn(CaseWithdrawnV1):
    case: CaseSnapshot


upcaster("relief.CaseWithdrawn", from_version=1)(_causes_unknown)


@event_contract("relief.BudgetSet", 1)
class BudgetSet(EventPayload):
    """A union's yearly budget for one aid type was set (PUT /budgets/...): keyed by
    `budget:{union_id}/{year}/{aid_type}`, the newest one is the budget (statistics: paid
    against budget)."""

    state_parts: ClassVar[tuple[str, ...]] = ("budget",)

    union_id: uuid.UUID
    year: int = Field(ge=2000, le=2100)
    aid_type: AidType
    total_fen: int = Field(ge=0)
    set_at: datetime


def budget_subject(union_id: uuid.UUID, year: int, aid_type: AidType) -> str:
    return f"budget:{union_id}/{year}/{aid_type.value}"
