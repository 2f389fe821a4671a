"""送温暖 campaigns: launching one (its close scheduled on the durable timer), reading them, the
split of its money down the union tree, its close, and its report."""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.relief.domain.campaigns import (
    GROUP_ORDER,
    NO_ALLOCATION,
    Allocation,
    CampaignForm,
    Candidate,
    best_group,
    check_campaign,
    check_child_allocation,
    closes_at,
    concerns,
    member_groups,
    split_largest_remainder,
)
from services.relief.handlers.common import Deps
from services.relief.store import campaigns as store
from services.relief.store.campaigns import AllocationRow, CampaignRow, Found, UnionInfo
from shared import audit, timers
from shared.auth import Caller, Role
from shared.contracts.relief_programmes import (
    CampaignClosed,
    CampaignLaunched,
    CampaignStatus,
    RecipientGroup,
    campaign_subject,
)
from shared.db import Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import Trace, china_date
from shared.timers import FireTimer, Timer

CLOSE_KIND = "campaign.close"


# Who may do what ---------------------------------------------------------------------------------


def require_staff(caller: Caller) -> None:
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden("送温暖活动仅供工会干部办理")


async def union_of(conn: Conn, union_id: uuid.UUID) -> UnionInfo:
    union = await store.union_info(conn, union_id)
    if union is None:
        raise NotFound("帮扶系统中没有这个工会")
    return union


def require_covers(caller: Caller, union: UnionInfo) -> None:
    if not caller.principal.covers_union(union.path):
        raise Forbidden(f"“{union.name}”不在您的管辖范围内")


async def campaign_for(conn: Conn, caller: Caller, campaign_id: uuid.UUID) -> CampaignRow:
    """The campaign, if it concerns the caller's union (an admin: any)."""
    require_staff(caller)
    campaign = await store.get_campaign(conn, campaign_id)
    if campaign is None:
        raise NotFound("没有这个送温暖活动")
    principal = caller.principal
    if principal.role is not Role.ADMIN:
        own = await store.union_info(conn, principal.union_id) if principal.union_id else None
        if own is None or not concerns(campaign.union_path, own.path):
            raise Forbidden("这个活动与您的工会无关")
    return campaign


def in_campaign(campaign: CampaignRow, union: UnionInfo) -> None:
    if campaign.union_id not in union.path:
        raise NotFound(f"“{union.name}”不在本次活动的范围内")


def default_union(caller: Caller, union_id: uuid.UUID | None) -> uuid.UUID:
    require_staff(caller)
    found = union_id or caller.principal.union_id
    if found is None:
        raise InvalidInput("请指定工会(union_id)")
    return found


# Launching and reading ---------------------------------------------------------------------------


async def launch(deps: Deps, caller: Caller, form: CampaignForm) -> CampaignRow:
    require_staff(caller)
    now = deps.now()
    checked = check_campaign(form, china_date(now))
    campaign_id = uuid.uuid4()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        require_covers(caller, await union_of(conn, checked.union_id))
        await store.insert_campaign(
            conn, campaign_id, checked.title, checked.union_id, (checked.starts_on, checked.ends_on),
            checked.total_fen, dict(checked.amounts_fen), caller.actor, now,
        )  # fmt: skip
        subject = campaign_subject(campaign_id)
        await timers.schedule(
            conn,
            [
                Timer(
                    uuid.uuid4(),
                    CLOSE_KIND,
                    subject,
                    closes_at(checked.ends_on),
                    {"campaign_id": campaign_id},
                )
            ],
        )
        campaign = await store.get_campaign(conn, campaign_id)
        assert campaign is not None
        await audit.record(
            conn, trace, "campaign.launched", subject, record_id=campaign_id, title=checked.title,
            union_id=checked.union_id, starts_on=checked.starts_on, ends_on=checked.ends_on,
            total_fen=checked.total_fen, amounts_fen={g.value: f for g, f in checked.amounts_fen.items()},
        )  # fmt: skip
        await deps.events.emit(
            conn, trace, subject, CampaignLaunched(campaign=campaign.snapshot(), launched_at=now)
        )
        return campaign


async def get(deps: Deps, caller: Caller, campaign_id: uuid.UUID) -> CampaignRow:
    async with deps.pool.acquire() as conn:
        return await campaign_for(conn, caller, campaign_id)


@dataclass(frozen=True)
class Page:
    items: list[CampaignRow]
    next: str | None


def _cursor(c: CampaignRow) -> str:
    return f"{c.launched_at.isoformat()}_{c.campaign_id}"


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    at, _, cid = cursor.partition("_")
    try:
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("a cursor names its time zone")
        return when.astimezone(UTC), uuid.UUID(cid)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput("翻页参数(after)无效") from exc


async def list_concerning(
    deps: Deps,
    caller: Caller,
    union_id: uuid.UUID | None,
    status: CampaignStatus | None,
    after: str | None,
    limit: int,
) -> Page:
    root = default_union(caller, union_id)
    before = _after(after)
    async with deps.pool.acquire() as conn:
        union = await union_of(conn, root)
        require_covers(caller, union)
        rows = await store.campaigns_concerning(conn, root, union.path, status, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _cursor(rows[-1]) if more and rows else None)


# Allocations -------------------------------------------------------------------------------------


def candidate(found: Found, amounts_fen: Mapping[RecipientGroup, int]) -> Candidate | None:
    """Where the campaign puts a recipient: its best-paid group, or nowhere."""
    if found.employer_id is not None:
        groups: frozenset[RecipientGroup] = frozenset({RecipientGroup.EMPLOYER})
    else:
        groups = member_groups(found.in_register, found.tier, found.model_worker, found.front_line)
    best = best_group(groups, amounts_fen)
    return Candidate(found.member_id, found.employer_id, best[0], best[1]) if best else None


@dataclass(frozen=True)
class ChildView:
    union_id: uuid.UUID
    name: str
    kind: str
    allocation: Allocation
    eligible_households: int
    eligible_employers: int
    suggested_fen: int


@dataclass(frozen=True)
class AllocationsView:
    union: UnionInfo
    allocation: Allocation
    children: list[ChildView]


def _child_on_path(path: Sequence[uuid.UUID], root: uuid.UUID) -> uuid.UUID | None:
    """The child of `root` on a union's path (None: the union is root itself)."""
    at = path.index(root)
    return path[at + 1] if at + 1 < len(path) else None


async def allocations(
    deps: Deps, caller: Caller, campaign_id: uuid.UUID, union_id: uuid.UUID | None
) -> AllocationsView:
    async with deps.pool.acquire() as conn:
        campaign = await campaign_for(conn, caller, campaign_id)
        union = await union_of(conn, union_id or campaign.union_id)
        require_covers(caller, union)
        in_campaign(campaign, union)
        own = await store.get_allocation(conn, campaign_id, union.union_id)
        children = await store.children_of(conn, campaign_id, union.union_id)
        found = await store.found_in(conn, union.union_id, china_date(deps.now()))
    households: dict[uuid.UUID, int] = defaultdict(int)
    employers: dict[uuid.UUID, int] = defaultdict(int)
    cost: dict[uuid.UUID, int] = {c.union_id: 0 for c in children}
    for f in found:
        child = _child_on_path(f.union_path, union.union_id)
        got = candidate(f, campaign.amounts_fen)
        if child is None or got is None or child not in cost:
            continue
        (employers if f.employer_id else households)[child] += 1
        cost[child] += got.amount_fen
    allocation = own.allocation if own else NO_ALLOCATION
    suggested = split_largest_remainder(max(allocation.remaining_fen, 0), cost)
    return AllocationsView(
        union, allocation,
        [
            ChildView(c.union_id, c.name, c.kind, c.allocation, households[c.union_id], employers[c.union_id],
                      suggested[c.union_id])
            for c in children
        ],
    )  # fmt: skip


async def set_allocation(
    deps: Deps, caller: Caller, campaign_id: uuid.UUID, union_id: uuid.UUID, total_fen: int
) -> tuple[UnionInfo, AllocationRow]:
    """A child's share, taken from (or given back to) its parent's unallocated remainder. Locks:
    the child's row, then the parent's (always lower before higher: no deadlock with a
    grandchild's change or a payment, which lock one row each)."""
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        campaign = await campaign_for(conn, caller, campaign_id)
        if campaign.status is CampaignStatus.CLOSED:
            raise Conflict("本次活动已结束,不能再调整分配")
        union = await union_of(conn, union_id)
        in_campaign(campaign, union)
        if union.union_id == campaign.union_id or union.parent_id is None:
            raise Conflict("发起活动的工会的额度就是活动总额,不能单独调整")
        parent = await union_of(conn, union.parent_id)
        require_covers(caller, parent)
        if await store.get_allocation(conn, campaign_id, parent.union_id) is None:
            raise Conflict(f"上级工会“{parent.name}”尚未分到本次活动的额度")
        child = await store.ensure_allocation(
            conn, campaign_id, union.union_id, parent.union_id, caller.actor
        )
        parent_row = await store.get_allocation(conn, campaign_id, parent.union_id)
        assert parent_row is not None
        delta = check_child_allocation(total_fen, child.allocation, parent_row.allocation)
        if delta and not await store.hand_on(conn, campaign_id, parent.union_id, delta):
            # The parent changed since it was read (a payment, a sibling): read it again.
            now_parent = await store.get_allocation(conn, campaign_id, parent.union_id)
            assert now_parent is not None
            check_child_allocation(total_fen, child.allocation, now_parent.allocation)
            raise Conflict("上级工会的额度刚刚发生变化,请重试")
        saved = await store.set_allocation_total(conn, campaign_id, union.union_id, total_fen, caller.actor)
        assert saved is not None  # the child's row is locked: checked above
        await audit.record(
            conn, trace, "campaign.allocated", campaign_subject(campaign_id), record_id=campaign_id,
            union_id=union.union_id, parent_union_id=parent.union_id, total_fen=total_fen,
            previous_total_fen=child.allocation.total_fen,
        )  # fmt: skip
        return union, saved


# Closing -----------------------------------------------------------------------------------------


def campaign_timers(deps: Deps) -> dict[str, FireTimer]:
    """The durable timer's handlers for campaigns (app.py merges them with student aid's)."""

    async def close(conn: Conn, timer: Timer) -> None:
        campaign_id = uuid.UUID(str(timer.payload["campaign_id"]))
        now = deps.now()
        if not await store.close_campaign(conn, campaign_id, now):
            return  # closed already
        campaign = await store.get_campaign(conn, campaign_id)
        assert campaign is not None
        trace = Trace(actor="scheduler", correlation_id=f"campaign-close:{campaign_id}")
        subject = campaign_subject(campaign_id)
        await audit.record(
            conn, trace, "campaign.closed", subject, record_id=campaign_id, ends_on=campaign.ends_on
        )
        await deps.events.emit(
            conn, trace, subject, CampaignClosed(campaign=campaign.snapshot(), closed_at=now)
        )

    return {CLOSE_KIND: close}


# The report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    union_id: uuid.UUID
    union_name: str
    group: RecipientGroup
    households: int
    employers: int
    amount_fen: int


@dataclass(frozen=True)
class Report:
    campaign: CampaignRow
    union: UnionInfo
    rows: list[ReportRow]

    @property
    def households(self) -> int:
        return sum(r.households for r in self.rows)

    @property
    def employers(self) -> int:
        return sum(r.employers for r in self.rows)

    @property
    def amount_fen(self) -> int:
        return sum(r.amount_fen for r in self.rows)


async def report(deps: Deps, caller: Caller, campaign_id: uuid.UUID, union_id: uuid.UUID | None) -> Report:
    """What the campaign paid in the union's subtree, per child union (rolled up) and group; what
    the union paid through its own list is a row of its own."""
    async with deps.pool.acquire() as conn:
        campaign = await campaign_for(conn, caller, campaign_id)
        union = await union_of(conn, union_id or campaign.union_id)
        require_covers(caller, union)
        in_campaign(campaign, union)
        figures = await store.paid_in(conn, campaign_id, union.union_id)
        sums: dict[tuple[uuid.UUID, RecipientGroup], list[int]] = defaultdict(lambda: [0, 0, 0])
        for f in figures:
            at = _child_on_path(f.union_path, union.union_id) or union.union_id
            s = sums[(at, f.group)]
            s[0] += f.households
            s[1] += f.employers
            s[2] += f.amount_fen
        names = await store.union_names(conn, list({u for u, _ in sums}))
    rows = [
        ReportRow(u, names.get(u, ""), g, s[0], s[1], s[2])
        for (u, g), s in sorted(
            sums.items(), key=lambda kv: (names.get(kv[0][0], ""), str(kv[0][0]), GROUP_ORDER.index(kv[0][1]))
        )
    ]
    return Report(campaign, union, rows)
