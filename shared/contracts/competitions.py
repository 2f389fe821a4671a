"""Events published by the competitions service (劳动竞赛, 技能竞赛, 劳模). Topic:
competitions.events.v1.

Every event is about one member and is keyed by the member id (a team's result or title is one
event per member of the team); `subject_version` is a per-member sequence kept by the service.
Each event carries what a member card shows: the competition's name and kind, the rank or the
award or honour title, and for honours the validity window. Scores travel as decimal strings
(rounded for display); judges' sheets and objections never travel.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventPayload, event_contract


class CompetitionKind(StrEnum):
    LABOUR = "labour"  # 劳动竞赛 (比学赶帮超)
    SKILLS = "skills"  # 技能竞赛, 技术比武, 岗位练兵
    GOLDEN_IDEAS = "golden_ideas"  # 金点子 suggestion campaign
    TEAM_TITLE = "team_title"  # 工人先锋号, 五型班组


class HonourKind(StrEnum):
    MODEL_WORKER = "model_worker"  # 劳动模范
    CRAFTSMAN = "craftsman"  # 工匠
    TECHNICAL_EXPERT = "technical_expert"  # 技术能手
    PIONEER_TEAM = "pioneer_team"  # 工人先锋号 (a team's title, held by its members)
    MAY_DAY_MEDAL = "may_day_medal"  # 五一劳动奖章


# What members read for each kind (the member app's list of open competitions, the card's inbox).
COMPETITION_KIND_LABELS: dict[CompetitionKind, str] = {
    CompetitionKind.LABOUR: "劳动竞赛",
    CompetitionKind.SKILLS: "技能竞赛",
    CompetitionKind.GOLDEN_IDEAS: "金点子征集",
    CompetitionKind.TEAM_TITLE: "先进集体评选",
}


class WithdrawalReason(StrEnum):
    MEMBER_LEFT = "member_left"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CompetitionRef(_Frozen):
    competition_id: uuid.UUID
    name: str
    kind: CompetitionKind
    union_id: uuid.UUID  # the organising union


class EntryRef(_Frozen):
    entry_id: uuid.UUID
    entry_no: int = Field(ge=1)
    team_name: str | None = None  # None for an individual entry


@event_contract("competitions.EntryRegistered", 1)
class EntryRegistered(EventPayload):
    member_id: uuid.UUID
    competition: CompetitionRef
    entry: EntryRef
    registered_at: datetime


@event_contract("competitions.EntryWithdrawn", 1)
class EntryWithdrawn(EventPayload):
    member_id: uuid.UUID
    competition: CompetitionRef
    entry: EntryRef
    reason: WithdrawalReason
    withdrawn_at: datetime


@event_contract("competitions.ResultFinalized", 1)
class ResultFinalized(EventPayload):
    """A stage's results became final (after publication and the objection window)."""

    member_id: uuid.UUID
    competition: CompetitionRef
    entry: EntryRef
    stage_id: uuid.UUID
    stage_name: str
    rank: int = Field(ge=1)
    of_entries: int = Field(ge=1)
    score: Decimal  # 0..100, rounded to four places for display
    finalized_at: datetime


@event_contract("competitions.AwardGranted", 1)
class AwardGranted(EventPayload):
    """An award from final results (一等奖, 金点子采纳奖 ...); `honour` when it comes with a title."""

    member_id: uuid.UUID
    competition: CompetitionRef
    entry: EntryRef
    award_id: uuid.UUID
    title: str
    rank: int | None = Field(default=None, ge=1)
    honour_id: uuid.UUID | None = None
    granted_at: datetime


@event_contract("competitions.IdeaAdopted", 1)
class IdeaAdopted(EventPayload):
    """A golden idea (金点子), reviewed by the panel in a final stage, was adopted by the union."""

    member_id: uuid.UUID
    competition: CompetitionRef
    entry: EntryRef
    idea_title: str
    adopted_at: datetime


@event_contract("competitions.HonourGranted", 1)
class HonourGranted(EventPayload):
    member_id: uuid.UUID
    honour_id: uuid.UUID
    kind: HonourKind
    title: str
    granted_on: date
    valid_until: date  # at most five years on
    competition: CompetitionRef | None = None
    team_name: str | None = None


@event_contract("competitions.HonourRenewed", 1)
class HonourRenewed(EventPayload):
    member_id: uuid.UUID
    honour_id: uuid.UUID
    kind: HonourKind
    title: str
    granted_on: date
    valid_until: date


@event_contract("competitions.HonourRevoked", 1)
class HonourRevoked(EventPayload):
    member_id: uuid.UUID
    honour_id: uuid.UUID
    kind: HonourKind
    title: str
    revoked_on: date
