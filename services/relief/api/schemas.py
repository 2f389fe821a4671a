"""Request and response bodies of the relief API. Money is integer fen (分): never a float.

A case answer carries `details` (household figures, causes, visits, decisions) only for the
cadres working the case; the member sees the status, the tier and the aid paid to them.
"""

import uuid
from dataclasses import fields
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.relief.domain import lifecycle
from services.relief.domain.eligibility import Criterion, Eligibility
from services.relief.domain.exit import ExitCheck, Guarantee
from services.relief.domain.intake import Cause, IntakeOutcome
from services.relief.handlers.views import CaseRecord, CaseView, MemberCases
from services.relief.store.cases import CaseRow
from services.relief.store.reports import Summary
from shared.contracts.relief import (
    AidType,
    ApprovalStep,
    CaseStatus,
    IntakeChannel,
    Tier,
    WithdrawalReason,
)
from shared.inputs import Day
from shared.money import Fen, PositiveFen

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
    visited_on: Day
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
    visited_on: Day
    household_size: HouseholdSize
    monthly_income_fen: Fen
    guarantees: GuaranteesIn
    findings: str = Field(min_length=1, max_length=2000)


class FollowUpChannel(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    MESSAGE = "message"


class FollowUpIn(_In):
    contacted_on: Day
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
    model_config = ConfigDict(from_attributes=True)

    step: ApprovalStep
    requested_by: str
    requested_at: datetime
    request_note: str
    decision: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class PendingStepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step: ApprovalStep
    requested_at: datetime


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    purpose: str
    visited_on: date
    visited_by: str
    household_size: int
    monthly_income_fen: int
    causes: list[Cause]
    findings: str
    guarantees: dict[str, bool] | None


class ObjectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    objection_id: uuid.UUID
    objector: str
    content: str
    recorded_by: str
    raised_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    criterion: str
    reason: str
    tier: Tier | None
    by: str
    at: datetime


class DisbursementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    disbursement_id: uuid.UUID
    case_id: uuid.UUID
    aid_type: AidType
    amount_fen: int
    year: int
    budget_union_id: uuid.UUID
    paid_at: datetime


class DisclosureOut(BaseModel):
    disclosure_no: str
    starts_at: datetime
    ends_at: datetime
    proposed_aid: list[AidType]

    @classmethod
    def of(cls, c: CaseRow) -> "DisclosureOut | None":
        if not (c.disclosure_no and c.disclosure_starts_at and c.disclosure_ends_at):
            return None
        return cls(
            disclosure_no=c.disclosure_no, starts_at=c.disclosure_starts_at, ends_at=c.disclosure_ends_at,
            proposed_aid=list(c.proposed_aid),
        )  # fmt: skip


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

    @classmethod
    def of(cls, c: CaseRow, record: CaseRecord) -> "CaseDetailsOut":
        return cls.model_validate(
            {
                **{f.name: getattr(record, f.name) for f in fields(record)},
                "member_name": c.member_name,
                "household_no_masked": c.household_no_masked,
                "household_size": c.household.size,
                "monthly_income_fen": c.household.monthly_income_fen,
                "per_capita_income_fen": c.household.per_capita_fen,
                "causes": c.causes,
                "cause_note": c.cause_note,
                "plan_summary": c.plan_summary,
            }
        )


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
        """The case's own fields, and what is computed from them or read beside them."""
        c = v.case
        return cls.model_validate(
            {
                **{f.name: getattr(c, f.name) for f in fields(c)},
                "flagged": c.flagged,
                "allowed_next_steps": [a.value for a in lifecycle.allowed_actions(c.status)],
                "disclosure": DisclosureOut.of(c),
                "pending_step": v.pending_step,
                "aid_year": v.aid_year,
                "aid_paid_fen": v.aid_paid_fen,
                "disbursements": v.disbursements,
                "details": CaseDetailsOut.of(c, v.record) if v.record else None,
            }
        )


class IntakeOut(BaseModel):
    outcome: IntakeOutcome
    case: CaseOut | None = Field(
        description="the case; null when the report joined another member's household file you may not see"
    )


class CaseSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    model_config = ConfigDict(from_attributes=True)

    union_id: uuid.UUID
    year: int
    aid_type: AidType
    total_fen: int
    spent_fen: int
    remaining_fen: int
    set_by: str
    updated_at: datetime


class NoticeOut(BaseModel):
    """A public disclosure line: masked name, no ID numbers, no income, tier and aid only."""

    model_config = ConfigDict(from_attributes=True)

    disclosure_no: str
    name_masked: str
    union_name: str | None
    tier: Tier | None
    aid_types: list[AidType]
    starts_at: datetime
    ends_at: datetime


class MoneyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
            money=[MoneyOut.model_validate(m) for m in s.money],
        )
