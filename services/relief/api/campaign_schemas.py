"""Bodies of the 送温暖 campaign API (docs/campaigns.md). Money is integer fen; every status
comes with its Chinese label."""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.relief.domain.campaigns import CAMPAIGN_STATUS_LABELS, LIST_STATUS_LABELS, ListStatus
from services.relief.handlers.campaign_lists import ListView
from services.relief.handlers.campaigns import AllocationsView, Report
from services.relief.store.campaigns import AllocationRow, CampaignRow, EntryRow, ListRow, UnionInfo
from services.relief.store.employers import EmployerRow
from shared.contracts.relief_programmes import RECIPIENT_GROUP_LABELS, CampaignStatus, RecipientGroup
from shared.inputs import Day
from shared.money import Fen, PositiveFen

Reason = Annotated[str, Field(min_length=1, max_length=500, description="why: kept in the trail")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CampaignIn(_In):
    title: str = Field(min_length=1, max_length=100, examples=["2027年春节送温暖"])
    union_id: uuid.UUID = Field(description="the launching union: its subtree takes part")
    starts_on: Day
    ends_on: Day
    total_fen: PositiveFen
    amounts_fen: dict[RecipientGroup, PositiveFen] = Field(
        min_length=1, description="fen per recipient, for each group the campaign consoles"
    )


class GroupAmountOut(BaseModel):
    group: RecipientGroup
    label: str
    amount_fen: int


class CampaignOut(BaseModel):
    campaign_id: uuid.UUID
    title: str
    union_id: uuid.UUID
    union_name: str
    starts_on: date
    ends_on: date
    total_fen: int
    groups: list[GroupAmountOut]
    status: CampaignStatus
    status_label: str
    launched_by: str
    launched_at: datetime
    allocated_fen: int
    paid_fen: int

    @classmethod
    def of(cls, c: CampaignRow) -> "CampaignOut":
        order = list(RecipientGroup)
        return cls(
            campaign_id=c.campaign_id, title=c.title, union_id=c.union_id, union_name=c.union_name,
            starts_on=c.starts_on, ends_on=c.ends_on, total_fen=c.total_fen,
            groups=[
                GroupAmountOut(group=g, label=RECIPIENT_GROUP_LABELS[g], amount_fen=f)
                for g, f in sorted(c.amounts_fen.items(), key=lambda gf: order.index(gf[0]))
            ],
            status=c.status, status_label=CAMPAIGN_STATUS_LABELS[c.status], launched_by=c.launched_by,
            launched_at=c.launched_at, allocated_fen=c.allocated_fen, paid_fen=c.paid_fen,
        )  # fmt: skip


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    next: str | None = Field(description="pass as `after` for the next page; null at the end")


class ChildAllocationOut(BaseModel):
    union_id: uuid.UUID
    name: str
    kind: str
    total_fen: int
    allocated_fen: int
    paid_fen: int
    eligible_households: int
    eligible_employers: int
    suggested_fen: int = Field(
        description="the union's unallocated amount split by what each child's recipients cost"
    )


class AllocationsOut(BaseModel):
    union_id: uuid.UUID
    union_name: str
    total_fen: int
    allocated_fen: int
    paid_fen: int
    remaining_fen: int
    children: list[ChildAllocationOut]

    @classmethod
    def of(cls, v: AllocationsView) -> "AllocationsOut":
        a = v.allocation
        return cls(
            union_id=v.union.union_id, union_name=v.union.name, total_fen=a.total_fen,
            allocated_fen=a.allocated_fen, paid_fen=a.paid_fen, remaining_fen=a.remaining_fen,
            children=[
                ChildAllocationOut(
                    union_id=c.union_id, name=c.name, kind=c.kind, total_fen=c.allocation.total_fen,
                    allocated_fen=c.allocation.allocated_fen, paid_fen=c.allocation.paid_fen,
                    eligible_households=c.eligible_households, eligible_employers=c.eligible_employers,
                    suggested_fen=c.suggested_fen,
                )
                for c in v.children
            ],
        )  # fmt: skip


class AllocationIn(_In):
    total_fen: Fen


class AllocationOut(BaseModel):
    campaign_id: uuid.UUID
    union_id: uuid.UUID
    union_name: str
    parent_union_id: uuid.UUID | None
    total_fen: int
    allocated_fen: int
    paid_fen: int
    remaining_fen: int

    @classmethod
    def of(cls, union: UnionInfo, row: AllocationRow) -> "AllocationOut":
        a = row.allocation
        return cls(
            campaign_id=row.campaign_id, union_id=row.union_id, union_name=union.name,
            parent_union_id=row.parent_union_id, total_fen=a.total_fen, allocated_fen=a.allocated_fen,
            paid_fen=a.paid_fen, remaining_fen=a.remaining_fen,
        )  # fmt: skip


class ListIn(_In):
    union_id: uuid.UUID = Field(description="the base union whose list it is")


class EntryOut(BaseModel):
    entry_id: uuid.UUID
    recipient: Literal["member", "employer"]
    member_id: uuid.UUID | None
    employer_id: uuid.UUID | None
    name: str
    group: RecipientGroup
    group_label: str
    amount_fen: int
    included: bool
    source: Literal["generated", "added"]
    reason: str
    paid: bool
    paid_at: datetime | None

    @classmethod
    def of(cls, e: EntryRow) -> "EntryOut":
        return cls(
            entry_id=e.entry_id, recipient=e.recipient, member_id=e.member_id, employer_id=e.employer_id,
            name=e.name, group=e.group, group_label=RECIPIENT_GROUP_LABELS[e.group], amount_fen=e.amount_fen,
            included=e.included, source=e.source, reason=e.reason, paid=e.paid_at is not None,
            paid_at=e.paid_at,
        )  # fmt: skip


class ListSummaryOut(BaseModel):
    list_id: uuid.UUID
    campaign_id: uuid.UUID
    campaign_title: str
    union_id: uuid.UUID
    union_name: str
    status: ListStatus
    status_label: str
    prepared_by: str
    submitted_by: str | None
    approved_by: str | None
    entries_count: int
    included_count: int
    total_fen: int
    paid_fen: int

    @classmethod
    def of(cls, r: ListRow) -> "ListSummaryOut":
        return cls(
            list_id=r.list_id, campaign_id=r.campaign_id, campaign_title=r.campaign_title,
            union_id=r.union_id, union_name=r.union_name, status=r.status,
            status_label=LIST_STATUS_LABELS[r.status], prepared_by=r.prepared_by,
            submitted_by=r.submitted_by, approved_by=r.approved_by, entries_count=r.entries_count,
            included_count=r.included_count, total_fen=r.total_fen, paid_fen=r.paid_fen,
        )  # fmt: skip


class ListSummaries(BaseModel):
    items: list[ListSummaryOut]
    next: str | None = None


class ListOut(ListSummaryOut):
    entries: list[EntryOut]

    @classmethod
    def of_view(cls, v: ListView) -> "ListOut":
        return cls(**ListSummaryOut.of(v.head).model_dump(), entries=[EntryOut.of(e) for e in v.entries])


class EntryIn(_In):
    member_id: uuid.UUID | None = None
    employer_id: uuid.UUID | None = None
    group: RecipientGroup
    reason: Reason
    amount_fen: PositiveFen | None = None


class ReasonIn(_In):
    reason: Reason


class AmountIn(_In):
    amount_fen: PositiveFen
    reason: Reason


class PayOut(BaseModel):
    list_id: uuid.UUID
    status: ListStatus
    status_label: str
    paid_count: int
    paid_fen: int
    already_paid_count: int = Field(description="recipients this campaign paid through another list")
    replayed: bool


class ReportRowOut(BaseModel):
    union_id: uuid.UUID
    union_name: str
    group: RecipientGroup
    group_label: str
    households: int
    employers: int
    amount_fen: int


class ReportTotals(BaseModel):
    households: int
    employers: int
    amount_fen: int


class ReportOut(BaseModel):
    campaign_id: uuid.UUID
    title: str
    union_id: uuid.UUID
    union_name: str
    rows: list[ReportRowOut]
    totals: ReportTotals

    @classmethod
    def of(cls, r: Report) -> "ReportOut":
        return cls(
            campaign_id=r.campaign.campaign_id, title=r.campaign.title, union_id=r.union.union_id,
            union_name=r.union.name,
            rows=[
                ReportRowOut(
                    union_id=x.union_id, union_name=x.union_name, group=x.group,
                    group_label=RECIPIENT_GROUP_LABELS[x.group], households=x.households,
                    employers=x.employers, amount_fen=x.amount_fen,
                )
                for x in r.rows
            ],
            totals=ReportTotals(households=r.households, employers=r.employers, amount_fen=r.amount_fen),
        )  # fmt: skip


class EmployerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    employer_id: uuid.UUID
    name: str
    region: str
    workforce: int
    responsible_union_id: uuid.UUID
    base_union_id: uuid.UUID | None
    in_difficulty: bool
    difficulty_reason: str | None
    designated_by: str | None
    designated_at: datetime | None

    @classmethod
    def of(cls, e: EmployerRow) -> "EmployerOut":
        return cls.model_validate(e)


class EmployerPage(BaseModel):
    items: list[EmployerOut]
    next: str | None = None


class DifficultyIn(_In):
    in_difficulty: bool
    reason: Reason
