"""GET /cards/{member_id}, GET /unions/{union_id}/cards, the card page, GET /projection/status.

Every read runs in a read-only transaction pointed at the live read-model generation.
"""

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, model_validator

from services.projector.api.access import refuse_other_members, require_readable
from services.projector.api.deps import Deps, DepsDep
from services.projector.domain import labels
from services.projector.domain.card import gaps, needs_action, programme_aid
from services.projector.offsets import lag, source_partitions
from services.projector.store import cards, generations
from shared.auth import CurrentPrincipal, Role
from shared.contracts.enrollment import TRANSFER_STATUS_LABELS, TransferStatus
from shared.errors import Forbidden, NotFound
from shared.http import deps_of
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)


class UnionView(BaseModel):
    union_id: uuid.UUID
    name: str | None
    path: list[str]


class MembershipView(BaseModel):
    name: str
    national_id_masked: str
    membership_number: str
    card_number: str
    status: str
    status_label: str = Field(description="the status in words (在会, 已离会)")
    next_step: str | None = Field(description="what the member may do next, if anything")
    member_since: date
    base_union: UnionView
    employer: str
    employment_type: str
    periods: list[dict[str, Any]]
    gaps: list[dict[str, datetime | None]]


class ApplicationView(BaseModel):
    application_id: uuid.UUID
    status: str
    status_label: str = Field(description="审核中, 已通过, 未通过")
    next_step: str | None
    reason: str | None


class ReliefView(BaseModel):
    """The member's own relief case (困难职工帮扶): on their card only, never shown to anyone else."""

    case_id: uuid.UUID
    status: str
    status_label: str = Field(description="the case's status in words (公示中, 已建档 ...)")
    next_step: str | None
    tier: str | None
    tier_label: str | None
    aid_year: int
    aid_paid_fen: int
    aid_paid_yuan: str


class HonourView(BaseModel):
    kind: str
    title: str
    granted_on: date
    valid_until: date
    competition_name: str | None
    team_name: str | None


class ResultView(BaseModel):
    competition_name: str
    competition_kind: str
    stage_name: str
    team_name: str | None
    rank: int
    of_entries: int
    score: Decimal
    finalized_at: datetime


class AwardView(BaseModel):
    title: str
    competition_name: str
    team_name: str | None
    rank: int | None
    granted_at: datetime


class LegalCaseView(BaseModel):
    """One of the member's labour disputes (法律维权): its stage and next statutory deadline."""

    case_no: str
    kind: str
    kind_label: str
    stage: str
    stage_label: str = Field(description="the stage in words (调解中, 劳动仲裁中 ...)")
    next_step: str | None
    outcome: str | None
    outcome_label: str | None
    next_deadline: str | None
    next_deadline_label: str | None = Field(description="the statutory deadline in words")
    next_due_on: date | None

    @model_validator(mode="before")
    @classmethod
    def _in_words(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "stage_label" in data:
            return data
        stage = labels.said(labels.STAGE, data["stage"])
        return {
            **data, "kind_label": labels.word(labels.DISPUTE_KIND, data["kind"]) or "",
            "stage_label": stage.label, "next_step": stage.next_step,
            "outcome_label": labels.word(labels.OUTCOME, data.get("outcome")),
            "next_deadline_label": labels.word(labels.DEADLINE, data.get("next_deadline")),
        }  # fmt: skip


class RedemptionView(BaseModel):
    """One use of a partner's offer at a till (使用记录): the member's own view only."""

    redemption_id: uuid.UUID
    redeemed_at: datetime
    partner_id: str
    merchant_name: str | None = Field(description="the merchant's name, when known to the card")
    offer_title: str | None = Field(description="the offer's title, when known to the card")


class ProgrammeAidView(BaseModel):
    """One payment by a programme of relief (送温暖 consolation, 金秋助学 student aid): the member's
    own view only, like their relief case."""

    programme: str = Field(description="consolation | student_aid")
    programme_label: str = Field(description="送温暖, 金秋助学")
    title: str = Field(description="the campaign's or the student-aid window's title")
    amount_fen: int
    paid_at: datetime


class TransferView(BaseModel):
    """A transfer (接转) waiting for the receiving union to answer."""

    transfer_id: uuid.UUID
    to_union_id: uuid.UUID
    to_union_name: str | None
    status: TransferStatus
    status_label: str = Field(description="待接收 while it waits")
    requested_at: datetime
    expires_at: datetime


class CardOut(BaseModel):
    member_id: uuid.UUID
    membership: MembershipView | None
    application: ApplicationView | None
    relief: ReliefView | None = None
    pending_transfer: TransferView | None = Field(
        default=None, description="a transfer waiting for the receiving union; gone once answered"
    )
    honours: list[HonourView] = Field(default_factory=list, description="current honours only")
    results: list[ResultView] = Field(default_factory=list, description="the most recent final results")
    awards: list[AwardView] = Field(default_factory=list)
    legal_cases: list[LegalCaseView] = Field(default_factory=list, description="the member's own view only")
    redemptions: list[RedemptionView] = Field(
        default_factory=list, description="使用记录: the last 20 uses, newest first; own view only"
    )
    programme_aid: list[ProgrammeAidView] = Field(
        default_factory=list, description="送温暖, 金秋助学 paid to the member, newest first; own view only"
    )
    needs_action: list[str]


class PartitionLag(BaseModel):
    topic: str
    partition: int
    position: int | None  # the last offset the live generation applied (None: nothing yet)
    end_offset: int  # the partition's high watermark: the offset of the next record
    lag: int  # records written but not applied yet: end_offset - position - 1, at least 0


class ProjectionStatus(BaseModel):
    active_schema: str
    generation: int
    swapped_at: datetime | None
    partitions: list[PartitionLag]
    total_lag: int


class CardSummary(BaseModel):
    member_id: uuid.UUID
    name: str
    national_id_masked: str
    membership_number: str
    card_number: str
    status: str
    member_since: date
    base_union_id: uuid.UUID
    union_name: str


def _card_out(member_id: uuid.UUID, row: dict[str, Any]) -> CardOut:
    membership = None
    if row["membership_number"] is not None:
        periods = json.loads(row["periods"])
        membership = MembershipView(
            name=row["name"],
            national_id_masked=row["national_id_masked"],
            membership_number=row["membership_number"],
            card_number=row["card_number"],
            status=row["status"],
            status_label=labels.said(labels.MEMBERSHIP, row["status"]).label,
            next_step=labels.said(labels.MEMBERSHIP, row["status"]).next_step,
            member_since=row["member_since"],
            base_union=UnionView(
                union_id=row["base_union_id"],
                name=row["union_name"],
                path=list(row["union_path_names"] or []),
            ),
            employer=row["employer"],
            employment_type=row["employment_type"],
            periods=periods,
            gaps=[{"left_at": g.left_at, "returned_at": g.returned_at} for g in gaps(periods)],
        )
    application = (
        ApplicationView(
            application_id=row["application_id"],
            status=row["application_status"],
            status_label=labels.said(labels.APPLICATION, row["application_status"]).label,
            next_step=labels.said(labels.APPLICATION, row["application_status"]).next_step,
            reason=row["application_reason"],
        )
        if row["application_id"] is not None
        else None
    )
    return CardOut(
        member_id=member_id,
        membership=membership,
        application=application,
        needs_action=needs_action(
            membership.status if membership else None,
            application.status if application else None,
            application.reason if application else None,
        ),
    )


@router.get("/cards/{member_id}", tags=["cards"], responses=problems(403, 404))
async def get_card(member_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> CardOut:
    own = refuse_other_members(principal, member_id)
    deps = deps_of(request, Deps)  # not DepsDep: this read is hot, a dependency costs ~30 µs
    # One statement on the live generation's own tables (LiveSchema): one round trip, one
    # snapshot. Not through the public views: a swap re-creates them, and reads locking them in
    # another order deadlocked with it.
    async with deps.pool.acquire() as conn:
        found = await cards.card_with_details(conn, deps.live_schema, member_id, own=own)
    row = require_readable(principal, member_id, found, own)
    relief = row["relief"]
    card = _card_out(member_id, row)
    card.honours = [HonourView.model_validate(h) for h in row["honours"]]
    card.results = [ResultView.model_validate(x) for x in row["results"]]
    card.awards = [AwardView.model_validate(a) for a in row["awards"]]
    card.legal_cases = [LegalCaseView.model_validate(d) for d in row["legal_cases"]]
    card.redemptions = [RedemptionView.model_validate(x) for x in row["redemptions"]]
    card.programme_aid = [
        ProgrammeAidView.model_validate(a, from_attributes=True) for a in programme_aid(row["programme_aid"])
    ]
    if (transfer := row["pending_transfer"]) is not None:
        status = TransferStatus(transfer["status"])
        card.pending_transfer = TransferView.model_validate(
            {**transfer, "status_label": TRANSFER_STATUS_LABELS[status]}
        )
    if relief is not None:
        card.relief = ReliefView(
            case_id=relief["case_id"],
            status=relief["status"],
            status_label=labels.said(labels.RELIEF, relief["status"]).label,
            next_step=labels.said(labels.RELIEF, relief["status"]).next_step,
            tier=relief["tier"],
            tier_label=labels.word(labels.TIER, relief["tier"]),
            aid_year=relief["aid_year"],
            aid_paid_fen=relief["aid_paid_fen"],
            aid_paid_yuan=f"{relief['aid_paid_fen'] // 100}.{relief['aid_paid_fen'] % 100:02d}",
        )
    return card


@router.get("/unions/{union_id}/cards", tags=["cards"], responses=problems(403, 404))
async def list_union_cards(
    union_id: uuid.UUID,
    deps: DepsDep,
    principal: CurrentPrincipal,
    status: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[uuid.UUID | None, Query(description="member_id to continue after")] = None,
    limit: Limit = 100,
) -> list[CardSummary]:
    async with generations.reading(deps.pool) as conn:
        path = await cards.union_path(conn, union_id)
        if path is None:
            raise NotFound(f"union {union_id} is not known to the card service")
        if not principal.covers_union(path):
            raise Forbidden("this union is outside your scope")
        rows = await cards.list_cards(conn, union_id, status, after, limit)
    return [CardSummary.model_validate(r) for r in rows]


@router.get("/projection/status", tags=["operations"], responses=problems(403))
async def projection_status(deps: DepsDep, principal: CurrentPrincipal) -> ProjectionStatus:
    """The live read-model generation and how far it is behind each source partition (admin)."""
    if principal.role is not Role.ADMIN:
        raise Forbidden("only an admin sees the projection's status")
    async with deps.pool.acquire() as conn, conn.transaction(readonly=True):
        live = await generations.active(conn)
        await generations.use_schema(conn, live.schema)
        tracked = await generations.positions(conn, deps.consumer_name)
    partitions = await source_partitions(deps.offsets, deps.source_topics)
    ends = await deps.offsets.end_offsets(partitions)
    rows = [
        PartitionLag(
            topic=tp.topic,
            partition=tp.partition,
            position=tracked.get((tp.topic, tp.partition)),
            end_offset=ends[tp],
            lag=lag(tracked.get((tp.topic, tp.partition)), ends[tp]),
        )
        for tp in partitions
    ]
    return ProjectionStatus(
        active_schema=live.schema,
        generation=live.generation,
        swapped_at=live.swapped_at,
        partitions=rows,
        total_lag=sum(r.lag for r in rows),
    )
