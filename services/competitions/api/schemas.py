"""Request and response bodies of the competitions API. Points and scores are decimals (sent as
strings or numbers with at most two places), never floats in the arithmetic."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.competitions.domain.scoring import TIE_BREAK_RULE
from services.competitions.store.competitions import StageRow
from shared.contracts.competitions import CompetitionKind, HonourKind
from shared.inputs import Day

Points = Annotated[Decimal, Field(ge=0, le=10_000, max_digits=7, decimal_places=2, allow_inf_nan=False)]
Weight = Annotated[int, Field(strict=True, ge=0, le=1000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Sub = Annotated[str, Field(min_length=1, max_length=200)]
# Answers are read off the handlers' rows and views (`Model.model_validate(row)`).
_FROM_ROWS = ConfigDict(from_attributes=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CriterionIn(_In):
    key: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
    name: Name
    weight: Annotated[int, Field(strict=True, ge=1, le=1000)]
    max_points: Annotated[Decimal, Field(gt=0, le=10_000, max_digits=7, decimal_places=2)] = Decimal(100)


class StageIn(_In):
    name: Name = Field(examples=["第一季度"])
    judges: list[Sub] = Field(min_length=1, max_length=50, description="token `sub` of each judge (cadres)")
    chief_judge: Sub
    blind: bool = Field(default=False, description="judges see only encrypted entry codes until published")
    expert_weight: Weight = 1
    public_weight: Weight = Field(default=0, description="e.g. 40 with expert_weight 60")
    spread_gap: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] = Decimal(20)
    objection_days: Annotated[int, Field(strict=True, ge=0, le=60)] = 5


class CompetitionIn(_In):
    name: Name
    kind: CompetitionKind
    union_id: uuid.UUID = Field(description="the organising union: members of its subtree take part")
    criteria: list[CriterionIn] = Field(min_length=1, max_length=30)
    stages: list[StageIn] = Field(min_length=1, max_length=12)


class EntryIn(_In):
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    team_name: Name | None = None
    team_union_id: uuid.UUID | None = None
    idea_title: Name | None = None


class ScoresIn(_In):
    entry_id: uuid.UUID | None = None
    code: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    points: dict[str, Points] = Field(min_length=1, max_length=30)


class VotesIn(_In):
    entry_id: uuid.UUID
    votes: Annotated[int, Field(strict=True, ge=0, le=10**9)]


class ReviewIn(_In):
    entry_id: uuid.UUID
    note: Annotated[str, Field(min_length=1, max_length=2000)]


class ObjectionIn(_In):
    entry_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class CorrectionIn(_In):
    judge: Sub
    points: dict[str, Points] = Field(min_length=1, max_length=30)


class ResolutionIn(_In):
    upheld: bool
    resolution: Annotated[str, Field(min_length=1, max_length=2000)]
    corrections: list[CorrectionIn] = Field(default_factory=list, max_length=50)


class AwardIn(_In):
    stage_id: uuid.UUID
    entry_id: uuid.UUID
    title: Name = Field(examples=["一等奖", "金点子采纳奖", "技术能手"])
    honour_kind: HonourKind | None = None
    honour_valid_until: Day | None = None


class HonourIn(_In):
    member_id: uuid.UUID
    kind: HonourKind
    title: Name = Field(examples=["杭州市劳动模范"])
    granted_on: Day
    valid_until: Day = Field(description="at most five years after granted_on")


class RenewalIn(_In):
    assessment_passed: bool
    valid_until: Day
    note: str = Field(default="", max_length=2000)


class ReasonIn(_In):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


# Answers ----------------------------------------------------------------------------------------


class StageOut(BaseModel):
    model_config = _FROM_ROWS

    stage_id: uuid.UUID
    seq: int
    name: str
    judges: list[str]
    chief_judge: str
    blind: bool
    expert_weight: int
    public_weight: int
    spread_gap: Decimal
    objection_days: int
    status: str
    published_at: datetime | None
    objection_ends_at: datetime | None
    finalized_at: datetime | None


class EntryOut(BaseModel):
    model_config = _FROM_ROWS

    entry_id: uuid.UUID
    entry_no: int
    team_name: str | None
    union_id: uuid.UUID
    idea_title: str | None
    status: str
    member_ids: list[uuid.UUID]
    registered_at: datetime
    adopted_at: datetime | None


class CompetitionOut(BaseModel):
    model_config = _FROM_ROWS

    competition_id: uuid.UUID
    name: str
    kind: CompetitionKind
    union_id: uuid.UUID
    criteria: list[dict[str, Any]]
    stages: list[StageOut]
    entries: list[EntryOut] | None = Field(description="organisers only")


class OpenCompetitionOut(BaseModel):
    """A competition taking entries now (报名竞赛): register with POST /competitions/{id}/entries."""

    model_config = _FROM_ROWS

    competition_id: uuid.UUID
    title: str
    kind: CompetitionKind
    kind_label: str = Field(description="the kind in Chinese (劳动竞赛, 技能竞赛 ...)")
    union_id: uuid.UUID = Field(description="the organising union")
    union_name: str
    registration_closes_on: date | None = Field(
        description="always null for now: entries are taken until the first results are published"
    )
    team: bool = Field(description="true: team entries only (a team_name and a team_union_id)")


class SheetLineOut(BaseModel):
    model_config = _FROM_ROWS

    code: str
    entry_id: uuid.UUID | None
    entry_no: int | None
    team_name: str | None
    idea_title: str | None
    scored: bool


class SheetOut(BaseModel):
    model_config = _FROM_ROWS

    sheet_id: uuid.UUID
    stage_id: uuid.UUID
    judge: str
    points: dict[str, Decimal]
    submitted_at: datetime
    locked: bool = True


class ResultsOut(BaseModel):
    stage: StageOut
    tie_break: str
    ranking: list[dict[str, Any]]

    @classmethod
    def of(cls, stage: StageRow) -> "ResultsOut":
        """The stage, its ranking (none yet: empty) and the tie-break rule it was ranked by."""
        return cls(
            stage=StageOut.model_validate(stage), tie_break=TIE_BREAK_RULE, ranking=stage.results or []
        )


class ObjectionOut(BaseModel):
    model_config = _FROM_ROWS

    objection_id: uuid.UUID
    stage_id: uuid.UUID
    entry_id: uuid.UUID
    reason: str
    status: str
    resolution: str | None
    raised_at: datetime


class HonourOut(BaseModel):
    model_config = _FROM_ROWS

    honour_id: uuid.UUID
    member_id: uuid.UUID
    kind: HonourKind
    title: str
    granted_on: date
    valid_until: date
    revoked_on: date | None
    competition_id: uuid.UUID | None
    team_name: str | None
