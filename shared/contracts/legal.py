"""Events published by the legal-rights service (法律维权). Topic: legal.events.v1.

Case events are keyed by the filer's member id (`subject_version` is a per-subject sequence kept
by the legal service) and carry `case`, a small snapshot of the case as it stands after the event
(kind, stage, next statutory deadline, union), so a member card can be drawn from the newest
event alone. Supervision-letter events are about an employer, not a member: they are keyed by
the union that sent the letters.

Nothing sensitive travels: no employer correspondence, no notes, no amounts claimed.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventPayload, event_contract


class DisputeKind(StrEnum):
    WAGE_ARREARS = "wage_arrears"  # 欠薪
    CONTRACT = "contract"  # 劳动合同
    SOCIAL_INSURANCE = "social_insurance"  # 社会保险
    WORK_INJURY = "work_injury"  # 工伤
    OVERTIME = "overtime"  # 加班
    DISMISSAL = "dismissal"  # 违法解除
    OCCUPATIONAL_HEALTH = "occupational_health"  # 职业健康


# What every reader sees for each kind (the card, the queues, the reports).
DISPUTE_KIND_LABELS: dict[str, str] = {
    DisputeKind.WAGE_ARREARS: "欠薪",
    DisputeKind.CONTRACT: "劳动合同",
    DisputeKind.SOCIAL_INSURANCE: "社会保险",
    DisputeKind.WORK_INJURY: "工伤",
    DisputeKind.OVERTIME: "加班",
    DisputeKind.DISMISSAL: "违法解除",
    DisputeKind.OCCUPATIONAL_HEALTH: "职业健康",
}


class Stage(StrEnum):
    INTAKE = "intake"
    CONSULTATION = "consultation"
    MEDIATION = "mediation"  # 调解
    ARBITRATION = "arbitration"  # 仲裁
    LITIGATION = "litigation"  # 诉讼
    CLOSED = "closed"


class Disposition(StrEnum):
    ACCEPT = "accept"
    ACCEPT_AND_CLOSE = "accept_and_close"  # advice given, nothing more to do
    REJECT = "reject"  # with a reason and a referral
    PENDING = "pending"


class Outcome(StrEnum):
    SETTLED = "settled"
    AWARD_WON = "award_won"
    AWARD_LOST = "award_lost"
    WITHDRAWN = "withdrawn"
    ADVICE_GIVEN = "advice_given"  # accepted and closed at intake
    REJECTED = "rejected"  # refused at intake (referred elsewhere)


class Priority(StrEnum):
    URGENT = "urgent"  # 绿色通道
    HIGH = "high"
    NORMAL = "normal"


class DeadlineName(StrEnum):
    ARBITRATION_LIMIT = "arbitration_limit"  # apply within one year of learning of the infringement
    MEDIATION_WINDOW = "mediation_window"  # unresolved 15 days after acceptance: may go to arbitration
    AWARD_DUE = "award_due"  # 45 days after the tribunal accepted, once extendable by 15
    SUIT_LIMIT = "suit_limit"  # sue within 15 days of the award
    OPINION_REPLY = "opinion_reply"  # the employer answers the opinion letter in 15 working days
    INSPECTION_RESPONSE = "inspection_response"  # labour inspection opens a case within 5 days


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NextDeadline(_Frozen):
    name: DeadlineName
    due_on: date


class CaseSnapshot(_Frozen):
    """The case as it stands after the event: enough for a card, nothing sensitive."""

    case_id: uuid.UUID
    case_no: str  # 维权2026-000123
    kind: DisputeKind
    stage: Stage
    outcome: Outcome | None
    union_id: uuid.UUID
    member_ids: list[uuid.UUID] = Field(min_length=1)  # the filer first, then the other workers
    next_deadline: NextDeadline | None


class _CarriesCase:
    """A case event carries its case whole: the part `case:<case_id>` of the filer's state (a
    member may have several disputes, the card shows each), kept on legal's state topic."""

    def carries_state_of(self) -> tuple[str, ...]:
        case = getattr(self, "case", None)  # a deadline may be a supervision letter's, not a case's
        return (f"case:{case.case_id}",) if isinstance(case, CaseSnapshot) else ()


@event_contract("legal.CaseFiled", 1)
class CaseFiled(_CarriesCase, EventPayload):
    case: CaseSnapshot
    collective: bool
    priority: Priority
    green_channel: bool
    filed_at: datetime


@event_contract("legal.IntakeDecided", 1)
class IntakeDecided(_CarriesCase, EventPayload):
    case: CaseSnapshot
    disposition: Disposition
    decided_at: datetime


@event_contract("legal.StageChanged", 1)
class StageChanged(_CarriesCase, EventPayload):
    case: CaseSnapshot
    from_stage: Stage
    changed_at: datetime


class ArbitrationStep(StrEnum):
    ACCEPTED = "accepted"  # the tribunal accepted the case: the award is due in 45 days
    EXTENDED = "extended"  # the one extension by 15 days
    AWARDED = "awarded"  # the award was received: a suit may follow within 15 days


class MediationOutcome(StrEnum):
    AGREEMENT = "agreement"  # 达成协议
    FAILED = "failed"  # 调解不成
    WINDOW_PASSED = "window_passed"  # 期满未结: 15 days after acceptance, unresolved

    @property
    def label(self) -> str:
        return _MEDIATION_LABELS[self]


_MEDIATION_LABELS = {
    MediationOutcome.AGREEMENT: "达成协议",
    MediationOutcome.FAILED: "调解不成",
    MediationOutcome.WINDOW_PASSED: "期满未结",
}


@event_contract("legal.MediationEnded", 1)
class MediationEnded(_CarriesCase, EventPayload):
    """How mediation ended; arbitration may follow a failed mediation or a passed window."""

    case: CaseSnapshot
    outcome: MediationOutcome
    on: date


@event_contract("legal.ArbitrationProgressed", 1)
class ArbitrationProgressed(_CarriesCase, EventPayload):
    case: CaseSnapshot
    step: ArbitrationStep
    on: date


@event_contract("legal.CaseClosed", 1)
class CaseClosed(_CarriesCase, EventPayload):
    case: CaseSnapshot
    outcome: Outcome
    recovered_fen: int = Field(ge=0)
    closed_at: datetime


@event_contract("legal.CounselAssigned", 1)
class CounselAssigned(_CarriesCase, EventPayload):
    case: CaseSnapshot
    counsel_id: uuid.UUID
    previous_counsel_id: uuid.UUID | None  # set on a handover
    assigned_at: datetime


@event_contract("legal.DeadlineApproaching", 1)
class DeadlineApproaching(_CarriesCase, EventPayload):
    deadline_id: uuid.UUID
    name: DeadlineName
    due_on: date
    case: CaseSnapshot | None  # a case's statutory clock
    supervision_id: uuid.UUID | None  # or a supervision letter's reply deadline


@event_contract("legal.DeadlineMissed", 1)
class DeadlineMissed(_CarriesCase, EventPayload):
    deadline_id: uuid.UUID
    name: DeadlineName
    due_on: date
    case: CaseSnapshot | None
    supervision_id: uuid.UUID | None
    escalation: str | None  # what should happen next, e.g. "recommendation_letter"


class LetterKind(StrEnum):
    REMINDER = "reminder"  # 提示函
    OPINION = "opinion"  # 意见书: the employer replies within 15 working days
    RECOMMENDATION = "recommendation"  # 建议书 to labour inspection: a case within 5 days or why not


@event_contract("legal.SupervisionLetterSent", 1)
class SupervisionLetterSent(EventPayload):
    supervision_id: uuid.UUID
    union_id: uuid.UUID
    employer: str
    letter: LetterKind
    reply_due_on: date | None
    # Counted by weekends alone over a year whose holidays are not published yet: the
    # deadline moves when that year is published (暂按周末推算).
    reply_due_provisional: bool = False
    sent_at: datetime


@event_contract("legal.SupervisionAnswered", 1)
class SupervisionAnswered(EventPayload):
    """The employer replied to the opinion letter, or labour inspection answered the recommendation."""

    supervision_id: uuid.UUID
    union_id: uuid.UUID
    employer: str
    letter: LetterKind
    rectified: bool  # employer put things right / inspection opened a case
    answered_at: datetime


class CalendarDayKind(StrEnum):
    HOLIDAY = "holiday"  # 法定节假日 (and the days off around it)
    WORKDAY = "workday"  # 调休上班日: a Saturday or Sunday that is worked


class CalendarDay(_Frozen):
    day: date
    kind: CalendarDayKind | None  # None: the entry was removed (an ordinary day again)


@event_contract("legal.WorkingCalendarChanged", 1)
class WorkingCalendarChanged(EventPayload):
    """The working-day calendar of a year changed (a year published, a day set or removed).
    Keyed by "working-calendar"; `revision` orders the changes. Pending working-day deadlines
    were recomputed in the same transaction (`rescheduled` of them moved)."""

    year: int
    revision: int
    published: bool  # the whole year was (re)published
    days: list[CalendarDay]
    rescheduled: int = Field(ge=0)
    changed_at: datetime
