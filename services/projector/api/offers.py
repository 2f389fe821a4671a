"""GET /cards/{member_id}/offers (partner offers on the member card) and GET /merchants (directory).

Both read in a read-only transaction pointed at the live read-model generation; whether an offer
is live is decided at that moment (now() of the transaction), so expired offers disappear on time.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.projector.api.access import refuse_other_members, require_readable
from services.projector.api.deps import Deps, DepsDep
from services.projector.domain import offers
from services.projector.store import generations
from services.projector.store.offers import card_context, directory, live_offers
from shared.auth import CurrentPrincipal
from shared.contracts.partners import OfferCategory
from shared.errors import InvalidInput
from shared.http import deps_of
from shared.inputs import StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)
Category = Annotated[str | None, Query(max_length=40, description="one of the offer categories, e.g. dining")]
Cursor = Annotated[str | None, Query(max_length=1000, description="next_cursor of the previous page")]

ORDER_RULE = (
    "Order: offers for the member's own group first (hardship households, then model workers), then "
    "offers for all members; within a group the most local region first (district, then city, then "
    "province); then the soonest-ending first (valid_until ascending); then offer_key. "
)
CARD_OFFERS_DESCRIPTION = (
    "Partner offers (会员普惠) the member may use now: not withdrawn, merchant listed, "
    "valid_from <= now < valid_until (decided at read time), for a region that covers the member's "
    "(their base union's region; an offer for 330000 covers a member in 330106), and for a group the "
    "member is in: all_members for an active member, model_workers with a current model-worker "
    "honour, hardship_households while the member's relief case is in the register "
    "(in_register or exit_requested). Hardship-only offers are shown to the member themself only: "
    "for a cadre or an admin they are left out entirely. A member whose card is not active gets an "
    "empty list and a reason. Who may call: the member, a cadre of their union or above, an admin "
    "(as for GET /cards/{member_id}). " + ORDER_RULE + "Page with next_cursor (absent on the last page)."
)


class MerchantRef(BaseModel):
    merchant_id: str
    name: str
    category: str
    region: str


class DiscountView(BaseModel):
    kind: str = Field(description="percent or amount")
    percent: str | None = Field(default=None, description="percent off, for kind=percent")
    amount_yuan: str | None = Field(default=None, description="yuan off with two decimals, for kind=amount")


class OfferView(BaseModel):
    offer_key: str
    merchant: MerchantRef
    title: str
    description: str | None
    discount: DiscountView
    category: str
    region: str
    valid_from: datetime
    valid_until: datetime
    eligibility: str


class CardOffersOut(BaseModel):
    member_id: uuid.UUID
    items: list[OfferView]
    next_cursor: str | None = Field(default=None, description="pass as cursor for the next page")
    reason: str | None = Field(default=None, description="why the list is empty, when it is empty by rule")


class MerchantView(BaseModel):
    merchant_id: str
    name: str
    category: str
    region: str
    address: str | None
    live_offers: int = Field(description="offers live now (any eligibility)")


class MerchantsOut(BaseModel):
    items: list[MerchantView]
    next_cursor: str | None = None


def _category(category: str | None) -> str | None:
    if category is None:
        return None
    try:
        return OfferCategory(category).value
    except ValueError:
        known = ", ".join(c.value for c in OfferCategory)
        raise InvalidInput(f"unknown category {category!r}: one of {known}") from None


def _offer_view(row: dict[str, Any]) -> OfferView:
    percent, fen = row["discount_percent"], row["discount_amount_fen"]
    return OfferView(
        offer_key=row["offer_key"],
        merchant=MerchantRef(
            merchant_id=row["merchant_id"],
            name=row["merchant_name"],
            category=row["merchant_category"],
            region=row["merchant_region"],
        ),
        title=row["title"],
        description=row["description"],
        discount=DiscountView(
            kind=row["discount_kind"],
            percent=str(percent) if percent is not None else None,
            amount_yuan=offers.yuan(fen) if fen is not None else None,
        ),
        category=row["category"],
        region=row["region"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        eligibility=row["eligibility"],
    )


@router.get(
    "/cards/{member_id}/offers",
    tags=["cards"],
    description=CARD_OFFERS_DESCRIPTION,
    responses=problems(403, 404),
)
async def card_offers(
    member_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    category: Category = None,
    limit: Annotated[int, Query(ge=1, le=offers.MAX_LIMIT)] = offers.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CardOffersOut:
    """Partner offers for the member's card. Order: the member's own group first (hardship
    households, then model workers), then offers for all members; then the most local region
    first (district, city, province); then the soonest-ending first; then offer_key."""
    own = refuse_other_members(principal, member_id)
    wanted = _category(category)
    after = _cursor(cursor)
    # Two statements on the live generation's own tables (LiveSchema), no transaction: a card and
    # an offer list read a moment apart are still a card and an offer list that both existed.
    deps = deps_of(request, Deps)  # not DepsDep: this read is hot, a dependency costs ~30 µs
    live = deps.live_schema
    async with deps.pool.acquire() as conn:
        found_card = await card_context(conn, live, member_id, own=own)
        context = require_readable(principal, member_id, found_card, own)
        # The relief case was read only for the member themself: nobody else's answer depends on it.
        audience = offers.audience(
            context["status"],
            model_worker=bool(context["model_worker"]),
            relief_status=context["relief_status"],
            viewer_is_member=own,
        )
        if not audience.groups:
            return CardOffersOut(member_id=member_id, items=[], reason=audience.reason)
        region = offers.member_region(context["union_region"])
        if region is None:
            return CardOffersOut(
                member_id=member_id, items=[], reason="the member's union has no administrative region code"
            )
        plan = offers.branches(region, audience.groups, after)
        found = await live_offers(conn, live, plan, wanted, limit + 1)
    items = [_offer_view(r) for r in found[:limit]]
    next_cursor = None
    if len(found) > limit:
        last = found[limit - 1]
        next_cursor = offers.encode_cursor(
            offers.order_key(last["eligibility"], last["region"], last["valid_until"], last["offer_key"])
        )
    return CardOffersOut(member_id=member_id, items=items, next_cursor=next_cursor)


def _cursor(cursor: str | None) -> offers.OrderKey | None:
    try:
        return offers.decode_cursor(cursor) if cursor is not None else None
    except offers.InvalidCursor as exc:
        raise InvalidInput(str(exc)) from None


@router.get("/merchants", tags=["merchants"])
async def merchant_directory(
    deps: DepsDep,
    principal: CurrentPrincipal,
    region: Annotated[str, Query(max_length=6, description="6-digit GB/T 2260 code: merchants within it")],
    category: Category = None,
    limit: Annotated[int, Query(ge=1, le=offers.MAX_LIMIT)] = offers.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> MerchantsOut:
    """Listed partner merchants whose region lies within the given region (330100 lists the
    merchants of every district of 330100 and of 330100 itself, not those listed for the whole
    province), optionally of one category, ordered by name then merchant_id, each with its number
    of live offers. Any signed-in caller."""
    try:
        lo, hi = offers.region_range(region)
    except ValueError as exc:
        raise InvalidInput(f"region {region!r}: {exc}") from None
    wanted = _category(category)
    try:
        after = offers.decode_merchant_cursor(cursor) if cursor is not None else None
    except offers.InvalidCursor as exc:
        raise InvalidInput(str(exc)) from None
    async with generations.reading(deps.pool) as conn:
        rows = await directory(conn, lo, hi, wanted, after, limit + 1)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = offers.encode_merchant_cursor(offers.MerchantKey(last["name"], last["merchant_id"]))
    return MerchantsOut(items=[MerchantView.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor)
