"""HTTP routes of the partners service: the union's admin API (bearer tokens, role admin) and the
partners' own API under /partner-api/v1 (partner API keys). Thin: each maps a body to a handler."""

import uuid
from dataclasses import asdict
from typing import Annotated, Literal

from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from services.partners.api.partner_auth import CurrentPartner
from services.partners.api.schemas import (
    IngressOut,
    KeyOut,
    MerchantId,
    MerchantIn,
    MerchantOut,
    OfferListItemOut,
    OffersOut,
    OfferStateOut,
    PartnerIn,
    PartnerOut,
    QueuedOut,
    RegisteredOut,
    RejectionsOut,
    StatusIn,
)
from services.partners.domain.merchants import Listing
from services.partners.domain.offers import MAX_BYTES, OfferState, Rejected
from services.partners.handlers import merchants, offers, partners, views
from services.partners.handlers.common import Deps
from services.partners.store.ingress_log import LogRow
from shared.contracts.partners import Code
from shared.errors import InvalidInput, NotFound
from shared.http import AppDeps, CallerDep, correlation_id_of
from shared.inputs import After, Limit, StrictRoute
from shared.openapi import problems
from shared.rows import from_row

router = APIRouter(route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]
# Ids in the path: looked up, so only their length is bounded (an unknown one is a 404).
PartnerKey = Annotated[str, Path(max_length=64)]
MerchantKey = Annotated[str, Path(max_length=64)]
OfferKey = Annotated[str, Path(max_length=64)]


def _rejections(rows: list[LogRow], after: int) -> RejectionsOut:
    items = [IngressOut.model_validate(r) for r in rows]
    return RejectionsOut(items=items, next_after=rows[-1].id if rows else after)


# The union's admin API ---------------------------------------------------------------------------


@router.post(
    "/partners", status_code=status.HTTP_201_CREATED, tags=["admin"], responses=problems(403, 404, 409)
)
async def register_partner(body: PartnerIn, deps: DepsDep, caller: CallerDep) -> RegisteredOut:
    """Register a partner: its two topics are created and its first API key is returned (once)."""
    partner, key = await partners.register_partner(deps, caller, body.partner_id, body.name, body.contact)
    return RegisteredOut(
        partner=PartnerOut.of(partner, deps.topics), key=KeyOut(key_id=key.key_id, api_key=key.api_key)
    )


@router.get("/partners", tags=["admin"], responses=problems(403))
async def list_partners(deps: DepsDep, caller: CallerDep) -> list[PartnerOut]:
    return [PartnerOut.of(p, deps.topics) for p in await views.all_partners(deps, caller)]


@router.get("/partners/{partner_id}", tags=["admin"], responses=problems(403, 404))
async def get_partner(partner_id: PartnerKey, deps: DepsDep, caller: CallerDep) -> PartnerOut:
    return PartnerOut.of(await views.partner(deps, caller, partner_id), deps.topics)


@router.post(
    "/partners/{partner_id}/keys",
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    responses=problems(403, 404),
)
async def issue_key(partner_id: PartnerKey, deps: DepsDep, caller: CallerDep) -> KeyOut:
    """A further key (to rotate: issue a new one, switch over, revoke the old one)."""
    key = await partners.issue_key(deps, caller, partner_id)
    return KeyOut(key_id=key.key_id, api_key=key.api_key)


@router.delete(
    "/partners/{partner_id}/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    responses=problems(403, 404),
)
async def revoke_key(partner_id: PartnerKey, key_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> None:
    await partners.revoke_key(deps, caller, partner_id, key_id)


@router.post("/partners/{partner_id}/suspend", tags=["admin"], responses=problems(403, 404))
async def suspend(partner_id: PartnerKey, body: StatusIn, deps: DepsDep, caller: CallerDep) -> PartnerOut:
    """Stop accepting the partner's events (they are rejected with the reason, not lost)."""
    partner = await partners.set_status(deps, caller, partner_id, "suspended", body.reason)
    return PartnerOut.of(partner, deps.topics)


@router.post("/partners/{partner_id}/reactivate", tags=["admin"], responses=problems(403, 404))
async def reactivate(partner_id: PartnerKey, body: StatusIn, deps: DepsDep, caller: CallerDep) -> PartnerOut:
    partner = await partners.set_status(deps, caller, partner_id, "active", body.reason)
    return PartnerOut.of(partner, deps.topics)


@router.put(
    "/partners/{partner_id}/merchants/{merchant_id}", tags=["admin"], responses=problems(403, 404, 409)
)
async def list_merchant(
    partner_id: PartnerKey, merchant_id: MerchantId, body: MerchantIn, deps: DepsDep, caller: CallerDep
) -> MerchantOut:
    """Put a merchant (chosen by the union) under the partner, or change its details."""
    listing = Listing(merchant_id, partner_id, body.name, body.category, body.region, body.address)
    return MerchantOut.model_validate(await merchants.list_merchant(deps, caller, listing))


@router.post(
    "/partners/{partner_id}/merchants/{merchant_id}/delist",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    responses=problems(403, 404),
)
async def delist_merchant(
    partner_id: PartnerKey, merchant_id: MerchantKey, body: StatusIn, deps: DepsDep, caller: CallerDep
) -> None:
    """The merchant leaves the programme: its offers leave the cards, new ones are rejected."""
    await merchants.delist_merchant(deps, caller, partner_id, merchant_id, body.reason)


@router.get("/partners/{partner_id}/merchants", tags=["admin"], responses=problems(403))
async def partner_merchants(partner_id: PartnerKey, deps: DepsDep, caller: CallerDep) -> list[MerchantOut]:
    return [MerchantOut.model_validate(m) for m in await views.partner_merchants(deps, caller, partner_id)]


@router.get("/partners/{partner_id}/rejections", tags=["admin"], responses=problems(403))
async def partner_rejections(
    partner_id: PartnerKey,
    deps: DepsDep,
    caller: CallerDep,
    after: Annotated[After, Query()] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RejectionsOut:
    return _rejections(await views.partner_rejections(deps, caller, partner_id, after, limit), after)


# The partners' API ---------------------------------------------------------------------------------

OFFER_EXAMPLE = {
    "action": "create",
    "merchant_id": "zwg-hubin",
    "offer_id": "spring-2027-dining",
    "version": 1,
    "title": "工会会员 8.5 折",
    "discount": {"kind": "percent", "percent": "15"},
    "category": "dining",
    "region": "330100",
    "valid_from": "2027-03-01T00:00:00+08:00",
    "valid_until": "2027-06-01T00:00:00+08:00",
    "eligibility": "all_members",
}


@router.post(
    "/partner-api/v1/offers",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["partner API"],
    responses={
        **problems(403, 404),
        422: {"description": "rejected: `reasons` says why (also listed under /rejections)"},
    },
    max_body_size=MAX_BYTES,  # an event is small (the kit answers 413 past it)
    # The body is read as bytes and checked by the same code as the Kafka path (docs/partners.md).
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}, "example": OFFER_EXAMPLE}},
        }
    },
)
async def submit_offer(request: Request, partner: CurrentPartner, deps: DepsDep) -> QueuedOut:
    """Publish one offer event (create, update or withdraw), exactly as on your Kafka topic.
    202: checked and written to your topic; it becomes visible once decided (see GET
    /partner-api/v1/offers/{offer_id}). Re-sending the same version is harmless."""
    body = await request.body()
    try:
        queued = await offers.submit_over_http(deps, partner.partner_id, body, correlation_id_of(request))
    except Rejected as rejected:
        raise InvalidInput("event rejected", reasons=rejected.reasons) from rejected
    except KafkaError as exc:
        # No DomainError carries Retry-After; answered as problem details all the same.
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="temporarily unavailable, nothing was accepted: retry shortly",
            headers={"Retry-After": "1"},
        ) from exc
    return from_row(QueuedOut, queued)


@router.get("/partner-api/v1/offers", tags=["partner API"], responses=problems(401, 403))
async def my_offers(
    partner: CurrentPartner,
    deps: DepsDep,
    state: Annotated[OfferState | Literal["all"], Query(description="live (the default) or all")] = (
        OfferState.LIVE
    ),
    after: Annotated[Code | None, Query(description="the next_after of the page before")] = None,
    limit: Annotated[Limit, Query()] = 100,
) -> OffersOut:
    """Your offers by offer id, the live ones (redeemable at a till now) unless `state` says
    otherwise; page with ?after=next_after until it is null."""
    wanted = None if state == "all" else OfferState(state)
    rows = await views.my_offers(deps, partner.partner_id, wanted, after, limit)
    items = [OfferListItemOut.of(partner.partner_id, row) for row in rows]
    return OffersOut(items=items, next_after=rows[-1].offer_id if len(rows) == limit else None)


@router.get("/partner-api/v1/offers/{offer_id}", tags=["partner API"], responses=problems(403, 404))
async def offer_state(offer_id: OfferKey, partner: CurrentPartner, deps: DepsDep) -> OfferStateOut:
    """The accepted version of one of your offers and what became of its recent events."""
    view = await views.my_offer(deps, partner.partner_id, offer_id)
    history = [IngressOut.model_validate(r) for r in view.history]
    if view.accepted is None:
        raise NotFound(
            f"no accepted version of offer {offer_id!r}", history=[h.model_dump(mode="json") for h in history]
        )
    return OfferStateOut(**asdict(view.accepted), history=history)


@router.get("/partner-api/v1/rejections", tags=["partner API"], responses=problems(403))
async def my_rejections(
    partner: CurrentPartner,
    deps: DepsDep,
    after: Annotated[After, Query()] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RejectionsOut:
    """Your rejected and stale events, oldest first, with the reasons; page with ?after=."""
    return _rejections(await views.my_rejections(deps, partner.partner_id, after, limit), after)


@router.get("/partner-api/v1/merchants", tags=["partner API"], responses=problems(403))
async def my_merchants(partner: CurrentPartner, deps: DepsDep) -> list[MerchantOut]:
    """The merchants you may publish for."""
    return [MerchantOut.model_validate(m) for m in await views.my_merchants(deps, partner.partner_id)]
