"""Request and response bodies of the legal API. Money is integer fen (分): never a float."""

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field

from services.legal.domain import letters, stages
from services.legal.domain.calendar import DayChange
from services.legal.domain.clocks import PROVISIONAL_LABEL
from services.legal.domain.letters import SupervisionStatus
from services.legal.handlers.views import CaseView, Report
from shared.contracts.legal import (
    CalendarDayKind,
    DeadlineName,
    Disposition,
    DisputeKind,
    MediationOutcome,
    Outcome,
    Priority,
    Stage,
)
from shared.inputs import Day
from shared.money import Fen

Text = Annotated[str, Field(max_length=2000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FileCaseIn(_In):
    member_id: uuid.UUID | None = Field(default=None, description="the worker; a member: themself")
    kind: DisputeKind
    employer: str = Field(min_length=1, max_length=200)
    amount_claimed_fen: Fen
    learned_on: Day = Field(description="the day the worker learned of the infringement")
    migrant_worker: bool = False
    description: Text = ""
    other_member_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=499, description="the other workers of a collective case"
    )


class DispositionIn(_In):
    disposition: Disposition
    reason: Text = ""
    referral: Text = Field(default="", description="where a rejected worker should go")


class StageIn(_In):
    stage: Stage
    on: Day | None = Field(default=None, description="the day the body accepted (default today)")


class ArbitrationIn(_In):
    on: Day | None = None


class MediationIn(_In):
    outcome: MediationOutcome = Field(
        description="agreement (达成协议), failed (调解不成), window_passed (期满未结)"
    )
    on: Day | None = Field(default=None, description="the day mediation ended (default today)")


class CloseIn(_In):
    outcome: Outcome
    recovered_fen: Fen = 0
    note: Text = ""


class AssignIn(_In):
    counsel_id: uuid.UUID | None = Field(default=None, description="hand over to this counsel; none: balance")
    reason: Text = ""


class CounselIn(_In):
    union_id: uuid.UUID
    name: str = Field(min_length=1, max_length=100)
    role: Annotated[str, Field(pattern="^(lawyer|volunteer|adviser)$", max_length=20)]
    capacity: Annotated[int, Field(strict=True, ge=1, le=200)]
    represented_employers: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list)


class SupervisionIn(_In):
    union_id: uuid.UUID
    employer: str = Field(min_length=1, max_length=200)
    issue: str = Field(min_length=1, max_length=2000)
    case_id: uuid.UUID | None = None
    on: Day | None = None


class LetterStepIn(_In):
    on: Day | None = None


class DeadlineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: DeadlineName
    due_on: date
    notice: str
    fire_at: datetime
    status: str


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: uuid.UUID
    case_no: str
    member_id: uuid.UUID
    member_ids: list[uuid.UUID]
    union_id: uuid.UUID
    kind: DisputeKind
    employer: str
    amount_claimed_fen: int
    learned_on: date
    priority: Priority
    priority_reasons: list[str]
    stage: Stage
    disposition: Disposition | None
    reject_reason: str | None
    referral: str | None
    outcome: Outcome | None
    recovered_fen: int
    counsel_id: uuid.UUID | None
    mediation_accepted_on: date | None
    mediation_outcome: MediationOutcome | None
    mediation_ended_on: date | None
    arbitration_applied_on: date | None
    arbitration_accepted_on: date | None
    award_extended: bool
    award_received_on: date | None
    filed_at: datetime
    closed_at: datetime | None
    deadlines: list[DeadlineOut] | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def collective(self) -> bool:
        return len(self.member_ids) > 1

    @computed_field  # type: ignore[prop-decorator]
    @property
    def green_channel(self) -> bool:
        return self.priority is Priority.URGENT

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mediation_outcome_label(self) -> str | None:
        """达成协议, 调解不成, 期满未结."""
        return self.mediation_outcome.label if self.mediation_outcome else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def allowed_stages(self) -> list[str]:
        return stages.allowed(self.stage)

    @classmethod
    def of_view(cls, view: CaseView) -> "CaseOut":
        """The case with its deadline notices (the case's own page)."""
        out = cls.model_validate(view.case)
        out.deadlines = [DeadlineOut.model_validate(d) for d in view.deadlines]
        return out


class CounselOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    counsel_id: uuid.UUID
    name: str
    role: str
    union_id: uuid.UUID
    capacity: int
    open_cases: int
    represented_employers: list[str]


class AssignmentOut(BaseModel):
    case: CaseOut
    counsel: CounselOut


class SupervisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    supervision_id: uuid.UUID
    union_id: uuid.UUID
    employer: str
    case_id: uuid.UUID | None
    status: SupervisionStatus
    issue: str
    reminded_on: date
    opinion_sent_on: date | None
    opinion_reply_due: date | None
    replied_on: date | None
    rectified: bool | None
    recommended_on: date | None
    inspection_due: date | None
    inspection_answered_on: date | None
    opinion_reply_provisional: bool = Field(
        description="counted by weekends alone: the year's holidays are not published yet"
    )
    inspection_due_provisional: bool = Field(
        description="counted by weekends alone: the year's holidays are not published yet"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def opinion_reply_due_note(self) -> str | None:
        """暂按周末推算，待国务院公布当年节假日安排后自动调整 (when provisional)."""
        return PROVISIONAL_LABEL if self.opinion_reply_provisional else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def inspection_due_note(self) -> str | None:
        return PROVISIONAL_LABEL if self.inspection_due_provisional else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def allowed_actions(self) -> list[str]:
        return letters.allowed_actions(self.status)


class KindStageCount(BaseModel):
    kind: DisputeKind
    stage: Stage
    cases: int


class ReportOut(BaseModel):
    union_id: uuid.UUID
    period_start: date
    period_end: date
    by_kind_and_stage: list[KindStageCount]
    overdue_cases: int
    closed: int
    recovered_fen: int
    mediations_finished: int
    mediations_settled: int
    mediation_success_rate: float | None
    opinion_letters_sent: int
    employers_rectified: int
    rectification_rate: float | None = Field(description="整改回复率")

    @classmethod
    def of(cls, r: Report) -> "ReportOut":
        s = r.summary
        return cls(
            union_id=r.union_id,
            period_start=r.period_start,
            period_end=r.period_end,
            by_kind_and_stage=[
                KindStageCount(kind=DisputeKind(c.key), stage=Stage(c.stage), cases=c.cases)
                for c in s.by_kind_and_stage
            ],
            overdue_cases=s.overdue_cases,
            closed=s.closed,
            recovered_fen=s.recovered_fen,
            mediations_finished=s.mediations_finished,
            mediations_settled=s.mediations_settled,
            mediation_success_rate=r.mediation_success_rate,
            opinion_letters_sent=s.opinions_sent,
            employers_rectified=s.rectified,
            rectification_rate=r.rectification_rate,
        )


Name = Annotated[str, Field(max_length=50)]


class DayChangeIn(_In):
    change: DayChange = Field(description="holiday, workday (调休上班, a Saturday or Sunday) or remove")
    name: Name = Field(default="", description="春节, 国庆节调休上班 ...")
    reason: str = Field(min_length=1, max_length=500, description="the notice or the correction")


class YearDayIn(_In):
    day: Day
    kind: CalendarDayKind
    name: Name = ""


class PublishYearIn(_In):
    source: str = Field(min_length=1, max_length=200, description="the State Council's notice")
    days: list[YearDayIn] = Field(max_length=366)


class CalendarDayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    kind: CalendarDayKind
    name: str
    updated_by: str
    updated_at: datetime


class CalendarYearOut(BaseModel):
    year: int
    published: bool = Field(
        description="false: working days are counted by weekends alone, and such deadlines are provisional"
    )
    source: str | None
    revision: int
    days: list[CalendarDayOut]
    rescheduled: int | None = Field(default=None, description="after a change: deadlines it moved")
