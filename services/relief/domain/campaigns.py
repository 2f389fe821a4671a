"""送温暖 campaigns: the pure rules. A campaign is launched at a union with an amount per
recipient group; its money is split down the union tree (a child never gets more than its
parent has left); each base union's list is drawn up, signed off by two people and paid once
per household or employer per campaign, never over the union's allocation."""

import uuid
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar

from shared.contracts.relief import Tier
from shared.contracts.relief_programmes import RECIPIENT_GROUP_LABELS, CampaignStatus, RecipientGroup
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import CHINA
from shared.transitions import Transitions

CAMPAIGN_STATUS_LABELS: dict[str, str] = {CampaignStatus.OPEN: "进行中", CampaignStatus.CLOSED: "已结束"}

MAX_TITLE = 100
MAX_REASON = 500
MAX_PERIOD_DAYS = 366
MAX_TOTAL_FEN = 10**13  # 1000 亿元: beyond any campaign in the reports
MAX_AMOUNT_FEN = 10**8  # 100 万元 for one recipient
# When two groups pay the same, the first of these wins (the household's tier before the rest).
GROUP_ORDER: tuple[RecipientGroup, ...] = tuple(RecipientGroup)
MEMBER_GROUPS = frozenset(RecipientGroup) - {RecipientGroup.EMPLOYER}


def yuan(fen: int) -> str:
    """Fen as a person reads yuan in a message: 1234 -> "12.34"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def clean_reason(value: str, *, required: bool = True) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput("请填写理由")
    if len(cleaned) > MAX_REASON:
        raise InvalidInput(f"理由不能超过{MAX_REASON}个字")
    return cleaned


# Launching ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignForm:
    title: str
    union_id: uuid.UUID
    starts_on: date
    ends_on: date
    total_fen: int
    amounts_fen: Mapping[RecipientGroup, int]


def check_campaign(form: CampaignForm, today: date) -> CampaignForm:
    """The form as launched (title trimmed), or a 422 saying what is wrong with it."""
    title = form.title.strip()
    if not title:
        raise InvalidInput("请填写活动名称")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"活动名称不能超过{MAX_TITLE}个字")
    if form.ends_on < form.starts_on:
        raise InvalidInput("结束日期不能早于开始日期")
    if form.ends_on < today:
        raise InvalidInput("结束日期已过,不能发起已经结束的活动")
    if (form.ends_on - form.starts_on).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(f"活动期限不能超过{MAX_PERIOD_DAYS}天")
    if not 0 < form.total_fen <= MAX_TOTAL_FEN:
        raise InvalidInput("活动总额须大于0")
    _check_amounts(form.amounts_fen, form.total_fen)
    return CampaignForm(
        title, form.union_id, form.starts_on, form.ends_on, form.total_fen, dict(form.amounts_fen)
    )


def _check_amounts(amounts_fen: Mapping[RecipientGroup, int], total_fen: int) -> None:
    if not amounts_fen:
        raise InvalidInput("请至少设定一类慰问对象及其慰问金额")
    for group, fen in amounts_fen.items():
        if not 0 < fen <= MAX_AMOUNT_FEN:
            raise InvalidInput(
                f"“{RECIPIENT_GROUP_LABELS[group]}”的慰问金额须大于0且不超过{yuan(MAX_AMOUNT_FEN)}元"
            )
        if fen > total_fen:
            raise InvalidInput(f"“{RECIPIENT_GROUP_LABELS[group]}”的慰问金额不能超过活动总额")


def closes_at(ends_on: date) -> datetime:
    """When the campaign's durable timer closes it: the end of its last day, in China."""
    return datetime.combine(ends_on + timedelta(days=1), time(0, 0), tzinfo=CHINA)


def check_payable(status: CampaignStatus, starts_on: date, ends_on: date, today: date) -> None:
    """A campaign pays only within its period, and never once closed."""
    if status is CampaignStatus.CLOSED or today > ends_on:
        raise Conflict("本次活动已结束,不能再发放")
    if today < starts_on:
        raise Conflict(f"本次活动{starts_on.isoformat()}开始,尚未到发放时间")


def concerns(campaign_union_path: Sequence[uuid.UUID], union_path: Sequence[uuid.UUID]) -> bool:
    """A campaign concerns a union launched by it or above it, or inside its subtree."""
    return campaign_union_path[-1] in union_path or union_path[-1] in campaign_union_path


# Who gets what -----------------------------------------------------------------------------------


def member_groups(
    in_register: bool, tier: Tier | None, model_worker: bool, front_line: bool
) -> frozenset[RecipientGroup]:
    """The groups a member falls in: a household in the register by its tier; a model worker
    with a case in the register; a front-line worker (flexible or migrant)."""
    groups: set[RecipientGroup] = set()
    if in_register:
        if tier is not None:
            groups.add(RecipientGroup(tier.value))
        if model_worker:
            groups.add(RecipientGroup.MODEL_WORKER)
    if front_line:
        groups.add(RecipientGroup.FRONT_LINE)
    return frozenset(groups)


def best_group(
    eligible: Iterable[RecipientGroup], amounts_fen: Mapping[RecipientGroup, int]
) -> tuple[RecipientGroup, int] | None:
    """The group the campaign consoles a recipient in: the highest amount among the groups the
    recipient is eligible for and the campaign consoles (one entry per recipient). None: none."""
    offered = [(amounts_fen[g], -GROUP_ORDER.index(g), g) for g in eligible if g in amounts_fen]
    if not offered:
        return None
    fen, _, group = max(offered)
    return group, fen


K = TypeVar("K", bound=Hashable)


def split_largest_remainder(amount: int, weights: Mapping[K, int]) -> dict[K, int]:
    """`amount` split in proportion to the weights, in whole fen, summing exactly to `amount`:
    each share rounded down, the fen left over going to the largest remainders (ties: in the
    weights' order). No positive weight: nothing to split by, every share 0."""
    if amount < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("amount and weights are never negative")
    total = sum(weights.values())
    if total == 0:
        return dict.fromkeys(weights, 0)
    shares = {k: amount * w // total for k, w in weights.items()}
    remainders = {k: amount * w % total for k, w in weights.items()}
    left = amount - sum(shares.values())
    order = sorted(weights, key=lambda k: -remainders[k])  # sorted() is stable: ties keep order
    for k in order[:left]:
        shares[k] += 1
    return shares


# Allocations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    total_fen: int
    allocated_fen: int  # handed on to the union's children
    paid_fen: int  # paid through the union's own list

    @property
    def remaining_fen(self) -> int:
        return self.total_fen - self.allocated_fen - self.paid_fen


NO_ALLOCATION = Allocation(0, 0, 0)


def check_child_allocation(new_total_fen: int, child: Allocation, parent: Allocation) -> int:
    """The change to the parent's allocated amount when a child's allocation becomes
    `new_total_fen`: within the parent's unallocated remainder, and not below what the child
    has handed on and paid. 409 otherwise."""
    if new_total_fen < 0:
        raise InvalidInput("分配额度不能为负数")
    committed = child.allocated_fen + child.paid_fen
    if new_total_fen < committed:
        raise Conflict(f"该工会已下拨和发放{yuan(committed)}元,额度不能低于此数", committed_fen=committed)
    delta = new_total_fen - child.total_fen
    if delta > parent.remaining_fen:
        raise Conflict(
            f"超出上级工会未分配的额度:上级尚余{yuan(parent.remaining_fen)}元",
            remaining_fen=parent.remaining_fen,
        )
    return delta


def refuse_overdraw(amount_fen: int, allocation: Allocation) -> Conflict:
    return Conflict(
        f"本次需发放{yuan(amount_fen)}元,超出本工会剩余额度{yuan(allocation.remaining_fen)}元,未发放任何款项",
        remaining_fen=allocation.remaining_fen,
        needed_fen=amount_fen,
    )


# Lists -------------------------------------------------------------------------------------------


class ListStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PAID = "paid"


LIST_STATUS_LABELS: dict[str, str] = {
    ListStatus.DRAFT: "草稿",
    ListStatus.SUBMITTED: "待审批",
    ListStatus.APPROVED: "已审批",
    ListStatus.PAID: "已发放",
}


class ListAction(StrEnum):
    GENERATE = "generate"
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    PAY = "pay"


LIST_MOVES: Transitions[ListStatus, ListAction] = Transitions(
    {
        (ListStatus.DRAFT, ListAction.GENERATE): ListStatus.DRAFT,
        (ListStatus.DRAFT, ListAction.EDIT): ListStatus.DRAFT,
        (ListStatus.DRAFT, ListAction.SUBMIT): ListStatus.SUBMITTED,
        (ListStatus.SUBMITTED, ListAction.APPROVE): ListStatus.APPROVED,
        (ListStatus.SUBMITTED, ListAction.RETURN): ListStatus.DRAFT,
        (ListStatus.APPROVED, ListAction.RETURN): ListStatus.DRAFT,
        (ListStatus.APPROVED, ListAction.PAY): ListStatus.PAID,
    },
    {
        ListAction.GENERATE: "名单已提交,不能重新生成;请先退回修改",
        ListAction.EDIT: "只有草稿状态的名单可以修改",
        ListAction.SUBMIT: "只有草稿状态的名单可以提交",
        ListAction.APPROVE: "只有待审批的名单可以审批",
        ListAction.RETURN: "只有待审批或已审批(尚未发放)的名单可以退回",
        ListAction.PAY: "名单须先审批才能发放",
    },
    LIST_STATUS_LABELS,
)


def next_list_status(status: ListStatus, action: ListAction) -> ListStatus:
    return LIST_MOVES.next(status, action)


FOUR_EYES = "同一人不能既提交又审批(四眼原则)"


def require_four_eyes(submitted_by: str | None, approver: str) -> None:
    if submitted_by == approver:
        raise Forbidden(FOUR_EYES)


def check_submittable(included_count: int) -> None:
    if included_count == 0:
        raise Conflict("名单中没有纳入发放的对象,不能提交")


def check_entry_amount(amount_fen: int) -> None:
    if not 0 < amount_fen <= MAX_AMOUNT_FEN:
        raise InvalidInput(f"慰问金额须大于0且不超过{yuan(MAX_AMOUNT_FEN)}元")


def check_entry_group(
    group: RecipientGroup, employer: bool, amounts_fen: Mapping[RecipientGroup, int]
) -> int:
    """The campaign's amount for a manually added recipient's group."""
    if employer != (group is RecipientGroup.EMPLOYER):
        raise InvalidInput("困难企业只能列入“困难企业”类,职工不能列入该类")
    if group not in amounts_fen:
        raise InvalidInput(f"本次活动不慰问“{RECIPIENT_GROUP_LABELS[group]}”")
    return amounts_fen[group]


# Generating a list -------------------------------------------------------------------------------


def recipient_key(member_id: uuid.UUID | None, employer_id: uuid.UUID | None) -> str:
    """Whom a payment went to, once per campaign: a household (the member) or an employer."""
    if member_id is not None:
        return f"member:{member_id}"
    assert employer_id is not None
    return f"employer:{employer_id}"


@dataclass(frozen=True)
class Candidate:
    """A recipient generation found, in its group and amount."""

    member_id: uuid.UUID | None
    employer_id: uuid.UUID | None
    group: RecipientGroup
    amount_fen: int

    @property
    def key(self) -> str:
        return recipient_key(self.member_id, self.employer_id)


@dataclass(frozen=True)
class HeldEntry:
    """An entry already on the list, as regeneration sees it."""

    entry_id: uuid.UUID
    key: str
    generated: bool
    edited: bool
    group: RecipientGroup
    amount_fen: int


@dataclass(frozen=True)
class Regeneration:
    insert: list[Candidate]
    update: list[tuple[uuid.UUID, Candidate]]  # a generated entry whose group or amount changed
    delete: list[uuid.UUID]  # generated, untouched entries no longer found


def plan_regeneration(held: Sequence[HeldEntry], found: Sequence[Candidate]) -> Regeneration:
    """What generating again changes: new recipients are added, generated entries nobody touched
    follow what is found now (or go), and whatever a person edited or added stays as it is."""
    by_key = {e.key: e for e in held}
    found_keys = {c.key for c in found}
    insert, update = [], []
    for c in found:
        e = by_key.get(c.key)
        if e is None:
            insert.append(c)
        elif e.generated and not e.edited and (e.group, e.amount_fen) != (c.group, c.amount_fen):
            update.append((e.entry_id, c))
    delete = [e.entry_id for e in held if e.generated and not e.edited and e.key not in found_keys]
    return Regeneration(insert, update, delete)


@dataclass(frozen=True)
class Payable:
    entry_id: uuid.UUID
    key: str
    amount_fen: int


def to_pay(entries: Sequence[Payable], paid_keys: set[str]) -> tuple[list[Payable], int]:
    """The entries to pay now, in one global order (recipient key: concurrent payments of lists
    sharing recipients then meet them in the same order and never deadlock), and how many this
    campaign already paid through another list."""
    fresh = sorted((e for e in entries if e.key not in paid_keys), key=lambda e: e.key)
    return fresh, len(entries) - len(fresh)
