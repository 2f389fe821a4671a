"""GET /partners/{partner_id}/statistics: the partner's redemptions per offer and per China day,
and each offer's number of distinct members, from the read model (fed by partners.OfferRedeemed).
Never a member in it: no id, no name, no masked name."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.projector.api.deps import DepsDep
from services.projector.domain import statistics as rules
from services.projector.store import generations, statistics
from shared.auth import CurrentPrincipal
from shared.contracts.partners import PARTNER_ID_PATTERN, offer_key
from shared.errors import Forbidden, InvalidInput
from shared.events import china_date, utcnow
from shared.inputs import Day, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)


class OfferStatsOut(BaseModel):
    offer_id: str
    offer_key: str
    title: str | None = Field(description="the offer's title, when the card service knows the offer")
    redemptions: int = Field(description="redemptions of the offer within the days asked for")
    members: int = Field(
        description="distinct members who ever redeemed the offer (all time, not only those days); "
        "erased persons are not counted here, their redemptions are"
    )


class DayStatsOut(BaseModel):
    day: date = Field(description="a day in China time (UTC+8)")
    offer_id: str
    redemptions: int


class PartnerStatisticsOut(BaseModel):
    partner_id: str
    first_day: date = Field(description="the first day counted (China time)")
    last_day: date = Field(description="the last day counted, included")
    redemptions: int = Field(description="all redemptions within those days")
    offers: list[OfferStatsOut] = Field(
        description="every offer redeemed within those days or ever, by offer_id"
    )
    days: list[DayStatsOut] = Field(description="per day and offer, days in order; days without any left out")


@router.get(
    "/partners/{partner_id}/statistics",
    tags=["partner statistics"],
    responses=problems(401, 403, 422),
)
async def partner_statistics(
    deps: DepsDep,
    principal: CurrentPrincipal,
    partner_id: Annotated[str, Path(pattern=PARTNER_ID_PATTERN, max_length=32)],
    first: Annotated[
        Day | None, Query(alias="from", description="first day (China time); default: 29 days before to")
    ] = None,
    last: Annotated[
        Day | None, Query(alias="to", description="last day, included; default: today (China time)")
    ] = None,
) -> PartnerStatisticsOut:
    """The partner's redemptions (统计): per offer and per day in China time, and each offer's
    distinct members, counted once per redemption however often its event is delivered. At most
    366 days at once. Who may call: the partner's own staff (a partner_staff token naming this
    partner) and admins. No member is ever named: counts only."""
    if not rules.may_read(principal, partner_id):
        raise Forbidden("a partner's statistics are for its own staff and the federation's admins")
    try:
        days = rules.day_range(first, last, china_date(utcnow()))
    except rules.InvalidRange as exc:
        raise InvalidInput(str(exc)) from None
    async with generations.reading(deps.pool) as conn:
        per_day = await statistics.per_day(conn, partner_id, days.first, days.last)
        ever = await statistics.offers_redeemed(conn, partner_id)
    in_range: dict[str, int] = {}
    for d in per_day:
        in_range[d.offer_id] = in_range.get(d.offer_id, 0) + d.redemptions
    offers = {o.offer_id: OfferStatsOut(offer_id=o.offer_id, offer_key=o.offer_key, title=o.title,
                                        redemptions=in_range.get(o.offer_id, 0), members=o.members)
              for o in ever}  # fmt: skip
    for offer_id, n in in_range.items():
        # Redeemed within the days only by persons erased since: counted, with no members.
        key = offer_key(partner_id, offer_id)
        offers.setdefault(offer_id, OfferStatsOut(offer_id=offer_id, offer_key=key, title=None,
                                                  redemptions=n, members=0))  # fmt: skip
    return PartnerStatisticsOut(
        partner_id=partner_id,
        first_day=days.first,
        last_day=days.last,
        redemptions=sum(in_range.values()),
        offers=[offers[k] for k in sorted(offers)],
        days=[DayStatsOut(day=d.day, offer_id=d.offer_id, redemptions=d.redemptions) for d in per_day],
    )
