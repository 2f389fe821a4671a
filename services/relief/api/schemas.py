"""Request and response bodies of the relief API. Money is integer fen (分): never a float.

A case answer carries `details` (household figures, causes, visits, decisions) only for the
cadres working the case; the member sees the status, the tier and the aid paid to them.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.relief.domain import lifecycle
from services.relief.domain.eligibility import Criterion, Eligibility, Override
from services.relief.domain.exit import ExitCheck, Guarantee
from services.relief.domain.intake import Cause, IntakeOutcome
from services.relief.handlers.views import CaseView, MemberCases, PublicNotice
from services.relief.store.aid import BudgetRow, DisbursementRow
from services.relief.store.cases import CaseRow, ObjectionRow, StepRow, TrailEntry, VisitRow
from services.relief.store.reports import Summary
from shared.contracts.relief import (
    AidType,
    ApprovalStep,
    CaseStatus,
    IntakeChannel,
    Tier,
    WithdrawalReason,
)

# Strict: "12.5" or 12.5 is refused rather than silently turned into fen.
Fen = Annotated[
    int, Field(strict=True, ge=0, le=10**15, description="an amount in fen (分): 100 fen = 1 yuan")
]
PositiveFen = Annotated[int, Field(strict=True, gt=0, le=10**15, description="fen (分), more than 0")]
HouseholdSize = Annotated[int, Field(strict=True, ge=1, le=50)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReportIn(_In):
    member_id: uuid.UUID | None = Field(
        default=None, description="the member in hardship; a member: themself"
    )
    household_register_no: str = Field(
        min_length=1,
        max_length=40,
        description="户口簿户号: one file per household",
        examples=["330106012345"],
    )
    household_size: HouseholdSize
    monthly_income_fen: Fen = Field(description="the whole household's monthly income, in fen")
    causes: list[Cause] = Field(default_factory=list, max_length=7)
    note: str = Field(default="", max_length=2000, description="the causes' specifics (never published)")


class VisitIn(_In):
    visited_on: date
    household_size: HouseholdSize
    monthly_income_fen: Fen
    causes: list[Cause] = Field(default_factory=list, max_length=7)
    findings: str = Field(min_length=1, max_length=2000)


class OverrideIn(_In):
    criterion: Criterion = Field(description="income_band, cause_present or household_size")
    reason: str = Field(min_length=1, max_length=1000)
    tier: Tier | None = Field(default=None, description="required when overriding the income band")


class NoteIn(_In):
    note: str = Field(default="", max_length=2000)


class ReasonIn(_In):
    reason: str = Field(min_length=1, max_length=2000)


class DisclosureIn(_In):
    proposed_aid: list[AidType] = Field(min_length=1, max_length=6)


class ObjectionIn(_In):
    objector: str = Field(min_length=1, max_length=100, description="who objects (may be anonymous: 匿名)")
    content: str = Field(min_length=1, max_length=2000)


class AnswerIn(_In):
    answer: str = Field(min_length=1, max_length=2000)


class PlanIn(_In):
    aid: list[AidType] = Field(min_length=1, max_length=6)
    summary: str = Field(min_length=1, max_length=2000)


class GuaranteesIn(_In):
    """The five guarantees (医业学房保), each checked on the re-investigation."""

    medical: bool
    work: bool
    schooling: bool
    housing: bool
    social_insurance: bool

    def as_map(self) -> dict[Guarantee, bool]:
        return {Guarantee(k): v for k, v in self.model_dump().items()}


class ExitIn(_In):
    visited_on: date
    household_size: HouseholdSize
    monthly_income_fen: Fen
    guarantees: GuaranteesIn
    findings: str = Field(min_length=1, max_length=2000)


class FollowUpChannel(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    MESSAGE = "message"


class FollowUpIn(_In):
    contacted_on: date
    channel: FollowUpChannel
    notes: str = Field(min_length=1, max_length=2000)


class WithdrawIn(_In):
    reason: WithdrawalReason
    note: str = Field(default="", max_length=2000)


class BudgetIn(_In):
    total_fen: Fen


class DisbursementIn(_In):
    aid_type: AidType
    amount_fen: PositiveFen
    note: str = Field(default="", max_length=500)
    budget_union_id: uuid.UUID | None = Field(
        default=None, description="whose budget pays: the case's union (default) or a union above it"
    )


# Answers ----------------------------------------------------------------------------------------


class StepOut(BaseModel):
    step: ApprovalStep
    requested_by: str
    requested_at: datetime
    request_note: str
    decision: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None

    @classmethod
    def of(cls, s: StepRow) -> "StepOut":
        return cls(
            step=s.step,
            requested_by=s.requested_by,
            requested_at=s.requested_at,
            request_note=s.request_note,
            decision=s.decision,
            decided_by=s.decided_by,
            decided_at=s.decided_at,
            decision_note=s.decision_note,
        )


class PendingStepOut(BaseModel):
    step: ApprovalStep
    requested_at: datetime


class VisitOut(BaseModel):
    purpose: str
    visited_on: date
    visited_by: str
    household_size: int
    monthly_income_fen: int
    causes: list[Cause]
    findings: str
    guarantees: dict[str, bool] | None

    @classmethod
    def of(cls, v: VisitRow) -> "VisitOut":
        return cls(
            purpose=v.purpose,
            visited_on=v.visited_on,
            visited_by=v.visited_by,
            household_size=v.household.size,
            monthly_income_fen=v.household.monthly_income_fen,
            causes=list(v.causes),
            findings=v.findings,
            guarantees=v.guarantees,
        )


class ObjectionOut(BaseModel):
    objection_id: uuid.UUID
    objector: str
    content: str
    recorded_by: str
    raised_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None

    @classmethod
    def of(cls, o: ObjectionRow) -> "ObjectionOut":
        return cls(
            objection_id=o.objection_id,
            objector=o.objector,
            content=o.content,
            recorded_by=o.recorded_by,
            raised_at=o.raised_at,
            answer=o.answer,
            answered_by=o.answered_by,
            answered_at=o.answered_at,
        )


class OverrideOut(BaseModel):
    criterion: str
    reason: str
    tier: Tier | None
    by: str
    at: datetime

    @classmethod
    def of(cls, o: Override) -> "OverrideOut":
        return cls(criterion=o.criterion, reason=o.reason, tier=o.tier, by=o.by, at=o.at)


class DisbursementOut(BaseModel):
    disbursement_id: uuid.UUID
    case_id: uuid.UUID
    aid_type: AidType
    amount_fen: int
    year: int
    budget_union_id: uuid.UUID
    paid_at: datetime

    @classmethod
    def of(cls, d: DisbursementRow) -> "DisbursementOut":
        return cls(
            disbursement_id=d.disbursement_id,
            case_id=d.case_id,
            aid_type=d.aid_type,
            amount_fen=d.amount_fen,
            year=d.year,
            budget_union_id=d.budget_union_id,
            paid_at=d.paid_at,
        )


class DisclosureOut(BaseModel):
    disclosure_no: str
    starts_at: datetime
    ends_at: datetime
    proposed_aid: list[AidType]


class CaseDetailsOut(BaseModel):
    """Hardship details: only for the cadres working the case."""

    member_name: str
    household_no_masked: str
    household_size: int
    monthly_income_fen: int
    per_capita_income_fen: int
    causes: list[Cause]
    cause_note: str
    plan_summary: str
    visits: list[VisitOut]
    steps: list[StepOut]
    objections: list[ObjectionOut]
    override: OverrideOut | None


class CaseOut(BaseModel):
    case_id: uuid.UUID
    member_id: uuid.UUID
    status: CaseStatus
    allowed_next_steps: list[str]
    tier: Tier | None
    union_id: uuid.UUID
    union_name: str | None
    channel: IntakeChannel
    flagged: bool
    flag_reason: str | None
    suspended_from: CaseStatus | None
    pending_transfer_to: uuid.UUID | None
    previous_case_id: uuid.UUID | None
    opened_at: datetime
    verified_at: datetime | None
    approved_at: datetime | None
    next_review_due: date | None
    exited_at: datetime | None
    closed_at: datetime | None
    disclosure: DisclosureOut | None
    plan_aid: list[AidType]
    pending_step: PendingStepOut | None
    aid_year: int
    aid_paid_fen: int = Field(description="aid paid to the member in aid_year, in fen")
    disbursements: list[DisbursementOut]
    details: CaseDetailsOut | None

    @classmethod
    def of(cls, v: CaseView) -> "CaseOut":
        c = v.case
        disclosure = None
        if c.disclosure_no and c.disclosure_starts_at and c.disclosure_ends_at:
            disclosure = DisclosureOut(
                disclosure_no=c.disclosure_no,
                starts_at=c.disclosure_starts_at,
                ends_at=c.disclosure_ends_at,
                proposed_aid=list(c.proposed_aid),
            )
        details = None
        if v.record is not None:
            r = v.record
            details = CaseDetailsOut(
                member_name=c.member_name,
                household_no_masked=c.household_no_masked,
                household_size=c.household.size,
                monthly_income_fen=c.household.monthly_income_fen,
                per_capita_income_fen=c.household.per_capita_fen,
                causes=list(c.causes),
                cause_note=c.cause_note,
                plan_summary=c.plan_summary,
                visits=[VisitOut.of(x) for x in r.visits],
                steps=[StepOut.of(s) for s in r.steps],
                objections=[ObjectionOut.of(o) for o in r.objections],
                override=OverrideOut.of(r.override) if r.override else None,
            )
        return cls(
            case_id=c.case_id,
            member_id=c.member_id,
            status=c.status,
            allowed_next_steps=[a.value for a in lifecycle.allowed_actions(c.status)],
            tier=c.tier,
            union_id=c.union_id,
            union_name=c.union_name,
            channel=c.channel,
            flagged=c.flagged,
            flag_reason=c.flag_reason,
            suspended_from=c.suspended_from,
            pending_transfer_to=c.pending_transfer_to,
            previous_case_id=c.previous_case_id,
            opened_at=c.opened_at,
            verified_at=c.verified_at,
            approved_at=c.approved_at,
            next_review_due=c.next_review_due,
            exited_at=c.exited_at,
            closed_at=c.closed_at,
            disclosure=disclosure,
            plan_aid=list(c.plan_aid),
            pending_step=PendingStepOut(step=v.pending_step.step, requested_at=v.pending_step.requested_at)
            if v.pending_step
            else None,
            aid_year=v.aid_year,
            aid_paid_fen=v.aid_paid_fen,
            disbursements=[DisbursementOut.of(d) for d in v.disbursements],
            details=details,
        )


class IntakeOut(BaseModel):
    outcome: IntakeOutcome
    case: CaseOut | None = Field(
        description="the case; null when the report joined another member's household file you may not see"
    )


class CaseSummaryOut(BaseModel):
    case_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    status: CaseStatus
    tier: Tier | None
    union_id: uuid.UUID
    flagged: bool
    flag_reason: str | None
    pending_transfer_to: uuid.UUID | None
    opened_at: datetime
    next_review_due: date | None

    @classmethod
    def of(cls, c: CaseRow) -> "CaseSummaryOut":
        return cls(
            case_id=c.case_id,
            member_id=c.member_id,
            member_name=c.member_name,
            status=c.status,
            tier=c.tier,
            union_id=c.union_id,
            flagged=c.flagged,
            flag_reason=c.flag_reason,
            pending_transfer_to=c.pending_transfer_to,
            opened_at=c.opened_at,
            next_review_due=c.next_review_due,
        )


class MemberCasesOut(BaseModel):
    member_id: uuid.UUID
    membership_status: str
    base_union_id: uuid.UUID
    cases: list[CaseOut]

    @classmethod
    def of(cls, m: MemberCases) -> "MemberCasesOut":
        return cls(
            member_id=m.member_id,
            membership_status=m.membership_status,
            base_union_id=m.base_union_id,
            cases=[CaseOut.of(v) for v in m.cases],
        )


class CheckOut(BaseModel):
    criterion: str
    passed: bool
    detail: str
    overridden: bool
    override_reason: str | None


class EligibilityOut(BaseModel):
    eligible: bool
    tier: Tier | None
    checks: list[CheckOut]

    @classmethod
    def of(cls, e: Eligibility) -> "EligibilityOut":
        return cls(
            eligible=e.eligible,
            tier=e.tier,
            checks=[
                CheckOut(
                    criterion=c.name,
                    passed=c.passed,
                    detail=c.detail,
                    overridden=c.override is not None,
                    override_reason=c.override.reason if c.override else None,
                )
                for c in e.checks
            ],
        )


class ReverificationOut(BaseModel):
    case: CaseOut
    eligibility: EligibilityOut


class ExitRequestOut(BaseModel):
    case: CaseOut
    criteria: list[CheckOut]

    @classmethod
    def of(cls, case: CaseOut, check: ExitCheck) -> "ExitRequestOut":
        return cls(
            case=case,
            criteria=[
                CheckOut(
                    criterion=c.name, passed=c.passed, detail=c.detail, overridden=False, override_reason=None
                )
                for c in check.checks
            ],
        )


class BudgetOut(BaseModel):
    union_id: uuid.UUID
    year: int
    aid_type: AidType
    total_fen: int
    spent_fen: int
    remaining_fen: int
    set_by: str
    updated_at: datetime

    @classmethod
    def of(cls, b: BudgetRow) -> "BudgetOut":
        return cls(
            union_id=b.union_id,
            year=b.year,
            aid_type=b.aid_type,
            total_fen=b.budget.total_fen,
            spent_fen=b.budget.spent_fen,
            remaining_fen=b.budget.remaining_fen,
            set_by=b.set_by,
            updated_at=b.updated_at,
        )


class NoticeOut(BaseModel):
    """A public disclosure line: masked name, no ID numbers, no income, tier and aid only."""

    disclosure_no: str
    name_masked: str
    union_name: str | None
    tier: Tier | None
    aid_types: list[AidType]
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, n: PublicNotice) -> "NoticeOut":
        return cls(
            disclosure_no=n.disclosure_no,
            name_masked=n.name_masked,
            union_name=n.union_name,
            tier=n.tier,
            aid_types=list(n.aid_types),
            starts_at=n.starts_at,
            ends_at=n.ends_at,
        )


class TrailEntryOut(BaseModel):
    at: datetime
    actor: str
    action: str
    reason: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, t: TrailEntry) -> "TrailEntryOut":
        return cls(at=t.at, actor=t.actor, action=t.action, reason=t.reason, detail=t.detail)


class MoneyOut(BaseModel):
    aid_type: str
    budget_total_fen: int
    budget_spent_fen: int
    budget_remaining_fen: int
    disbursed_fen: int
    payments: int


class SummaryOut(BaseModel):
    union_id: uuid.UUID
    year: int
    open_cases_by_status: dict[str, int]
    open_cases_by_cause: dict[str, int]
    open_cases_by_tier: dict[str, int]
    households_exited: int
    money: list[MoneyOut]

    @classmethod
    def of(cls, union_id: uuid.UUID, year: int, s: Summary) -> "SummaryOut":
        return cls(
            union_id=union_id,
            year=year,
            open_cases_by_status=s.open_by_status,
            open_cases_by_cause=s.open_by_cause,
            open_cases_by_tier=s.open_by_tier,
            households_exited=s.exited,
            money=[
                MoneyOut(
                    aid_type=m.aid_type,
                    budget_total_fen=m.budget_total_fen,
                    budget_spent_fen=m.budget_spent_fen,
                    budget_remaining_fen=m.budget_total_fen - m.budget_spent_fen,
                    disbursed_fen=m.disbursed_fen,
                    payments=m.payments,
                )
                for m in s.money
            ],
        )
