"""Which partner offers (会员普惠) a member's card shows, in what order, and how paging resumes.

Pure rules, no I/O:

- the audience: which eligibility groups the member belongs to, decided from the card's status,
  a current model-worker honour and the relief case; the hardship group only when the member
  themself is asking (a hardship case is shown to nobody else, not even through offers);
- the order of offers: the member's own group first (hardship, then model workers), then offers
  for all members; within a group the most local region first (district, city, province); then
  soonest-ending first; then offer_key. Every part of that key belongs to the offer itself, so a
  cursor stays meaningful between pages;
- the read plan: one branch per (eligibility, region) the member is covered by, in that order,
  each read in (valid_until, offer_key) order, so the database never sorts more than a page;
- opaque cursors for the card's offers and the merchant directory.
"""

from dataclasses import dataclass
from datetime import datetime

from services.projector.domain import cursors
from services.projector.domain.cursors import InvalidCursor as InvalidCursor  # the routes catch it here
from shared.contracts.partners import Eligibility, check_region, region_ancestors, region_prefix

# Relief case statuses that make a member a hardship household (困难职工) for offers.
HARDSHIP_STATUSES = frozenset({"in_register", "exit_requested"})
MODEL_WORKER_HONOUR = "model_worker"
ACTIVE = "active"

# The member's own group first (hardship, then model workers), then offers for every member.
GROUP_ORDER: tuple[Eligibility, ...] = (
    Eligibility.HARDSHIP_HOUSEHOLDS,
    Eligibility.MODEL_WORKERS,
    Eligibility.ALL_MEMBERS,
)
GROUP_RANK = {group: rank for rank, group in enumerate(GROUP_ORDER)}

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Audience:
    """The groups whose offers the caller may be shown for this member, best first; reason says
    why there are none."""

    groups: tuple[Eligibility, ...]
    reason: str | None = None


def audience(
    card_status: str | None,
    *,
    model_worker: bool,
    relief_status: str | None,
    viewer_is_member: bool,
) -> Audience:
    """Eligibility groups from the card status, a current model-worker honour and the relief case.

    relief_status counts only when the member themself asks: for a cadre or an admin the
    hardship group is left out as if there were no case, so nothing reveals one."""
    if card_status is None:
        return Audience((), "no membership yet: offers are for active members")
    if card_status != ACTIVE:
        return Audience((), f"membership is {card_status}: offers are for active members only")
    groups: list[Eligibility] = []
    if viewer_is_member and relief_status in HARDSHIP_STATUSES:
        groups.append(Eligibility.HARDSHIP_HOUSEHOLDS)
    if model_worker:
        groups.append(Eligibility.MODEL_WORKERS)
    groups.append(Eligibility.ALL_MEMBERS)
    return Audience(tuple(sorted(groups, key=GROUP_RANK.__getitem__)))


def member_region(union_region: str | None) -> str | None:
    """The member's region as a GB/T 2260 code (their base union's), or None when it is not one."""
    if union_region is None:
        return None
    try:
        return check_region(union_region.strip())
    except ValueError:
        return None


def locality_rank(region: str) -> int:
    """0 for a district (or county), 1 for a city, 2 for a province: the most local sorts first."""
    return (6 - len(region_prefix(region))) // 2


@dataclass(frozen=True, order=True)
class OrderKey:
    """Where an offer sorts on the card: (group, locality, valid_until, offer_key), ascending."""

    group: int
    locality: int
    valid_until: datetime
    offer_key: str


def order_key(eligibility: str, region: str, valid_until: datetime, offer_key: str) -> OrderKey:
    return OrderKey(GROUP_RANK[Eligibility(eligibility)], locality_rank(region), valid_until, offer_key)


@dataclass(frozen=True)
class Branch:
    """One (region, eligibility) the member is covered by, read in (valid_until, offer_key) order
    from after (after_until, after_key) when the page resumes inside this branch."""

    region: str
    eligibility: Eligibility
    after_until: datetime | None = None
    after_key: str | None = None


def branches(region: str, groups: tuple[Eligibility, ...], after: OrderKey | None = None) -> list[Branch]:
    """The (region, eligibility) pairs covering a member in region, in card order, skipping those
    wholly before the cursor. An offer for 330000 covers a member in 330106."""
    found: list[Branch] = []
    for group in sorted(groups, key=GROUP_RANK.__getitem__):
        for covering in region_ancestors(region):
            rank = (GROUP_RANK[group], locality_rank(covering))
            if after is not None and rank < (after.group, after.locality):
                continue
            if after is not None and rank == (after.group, after.locality):
                found.append(Branch(covering, group, after.valid_until, after.offer_key))
            else:
                found.append(Branch(covering, group))
    return found


def encode_cursor(key: OrderKey) -> str:
    return cursors.encode(
        {"g": key.group, "l": key.locality, "u": key.valid_until.isoformat(), "k": key.offer_key}
    )


def decode_cursor(cursor: str) -> OrderKey:
    data = cursors.decode(cursor)
    try:
        group, locality, until, key = data["g"], data["l"], data["u"], data["k"]
        if not (isinstance(group, int) and isinstance(locality, int) and isinstance(key, str)):
            raise TypeError
        if not (0 <= group < len(GROUP_ORDER) and 0 <= locality <= 2):
            raise ValueError
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor("cursor is not one this service handed out") from exc
    return OrderKey(group, locality, cursors.aware_time(until), key)


@dataclass(frozen=True)
class MerchantKey:
    """Where a merchant sorts in the directory: by name, then merchant_id."""

    name: str
    merchant_id: str


def encode_merchant_cursor(key: MerchantKey) -> str:
    return cursors.encode({"n": key.name, "m": key.merchant_id})


def decode_merchant_cursor(cursor: str) -> MerchantKey:
    data = cursors.decode(cursor)
    name, merchant_id = data.get("n"), data.get("m")
    if not (isinstance(name, str) and isinstance(merchant_id, str)):
        raise InvalidCursor("cursor is not one this service handed out")
    return MerchantKey(name, merchant_id)


def region_range(region: str) -> tuple[str, str]:
    """The first and last 6-digit codes within region: 330100 -> (330100, 330199), 330000 ->
    (330000, 339999), 330106 -> (330106, 330106). Raises ValueError for a code that is not one."""
    prefix = region_prefix(check_region(region))
    return prefix.ljust(6, "0"), prefix.ljust(6, "9")


def yuan(fen: int) -> str:
    """An amount in fen as yuan with two decimals: 1250 -> "12.50"."""
    return f"{fen // 100}.{fen % 100:02d}"
