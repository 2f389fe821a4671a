"""HTTP routes of the merchant's check at the till: the member opens a card code (the rotating
QR's payload) or a one-offer voucher; the partner's till verifies and redeems it. Thin."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.partners.api.partner_auth import CurrentPartner
from services.partners.domain.till import CODE_PATTERN, REFUSED_MESSAGE
from services.partners.handlers import till
from services.partners.handlers.common import Deps
from services.partners.store.till import RedemptionRow
from shared.contracts.partners import CODE_PATTERN as OFFER_ID_PATTERN
from shared.http import AppDeps, CallerDep, correlation_id_of
from shared.inputs import After, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key", min_length=8, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$",
        description="one per redemption attempt (e.g. a UUID): a retry with it gets the same answer",
    ),
]  # fmt: skip


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VoucherIn(_In):
    offer_key: Annotated[str, Field(min_length=3, max_length=100, examples=["meituan-hz/spring-2027-dining"])]


class CheckIn(_In):
    code: Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, description="the scanned or typed code")]
    offer_id: Annotated[str, Field(pattern=OFFER_ID_PATTERN, max_length=64, description="one of your offers")]


class CodeOut(BaseModel):
    code: str = Field(description="show it as a QR code; it carries no personal data")
    expires_at: datetime


class VerdictOut(BaseModel):
    ok: bool = Field(description="may this code redeem this offer now; never why not")
    member: str | None = Field(description="the member's masked name (张*三) when ok, else null")
    message: str = Field(description="可以使用 or 不可使用")


class RedemptionOut(BaseModel):
    redemption_id: uuid.UUID
    seq: int = Field(description="pass as ?after= to read on from here")
    offer_id: str
    offer_key: str
    merchant_id: str
    member: str = Field(description="the member's masked name")
    redeemed_at: datetime

    @classmethod
    def of(cls, r: RedemptionRow) -> "RedemptionOut":
        return cls(
            redemption_id=r.redemption_id, seq=r.seq, offer_id=r.offer_id, offer_key=r.offer_key,
            merchant_id=r.merchant_id, member=r.member_masked, redeemed_at=r.redeemed_at,
        )  # fmt: skip


class RedemptionsOut(BaseModel):
    items: list[RedemptionOut]
    next_after: int = Field(description="pass as ?after= to read on from here")


# The member ----------------------------------------------------------------------------------------


@router.post(
    "/members/{member_id}/card-codes",
    status_code=status.HTTP_201_CREATED,
    tags=["till"],
    responses=problems(403, 404, 409, 503),
)
async def open_card_code(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> CodeOut:
    """The member themself opens their card's code (valid 60 s; the app asks for a new one as it
    runs out). It may redeem the offers the card shows them now, except hardship-only ones."""
    issued = await till.issue_card_code(deps, caller, member_id)
    return CodeOut(code=issued.code, expires_at=issued.expires_at)


@router.post(
    "/members/{member_id}/vouchers",
    status_code=status.HTTP_201_CREATED,
    tags=["till"],
    responses=problems(403, 404, 409, 503),
)
async def open_voucher(member_id: uuid.UUID, body: VoucherIn, deps: DepsDep, caller: CallerDep) -> CodeOut:
    """A voucher for one offer on the member's card (valid 10 min), opened on purpose: the only
    way to redeem a hardship-households offer, so scanning a card never reveals one."""
    issued = await till.issue_voucher(deps, caller, member_id, body.offer_key)
    return CodeOut(code=issued.code, expires_at=issued.expires_at)


# The partner's till ----------------------------------------------------------------------------------


@router.post("/partner-api/v1/verify", tags=["partner API"], responses=problems(401, 403))
async def verify(body: CheckIn, partner: CurrentPartner, deps: DepsDep) -> VerdictOut:
    """May this code redeem this offer of yours now? Yes with a masked name, or no; never why."""
    verdict = await till.verify(deps, partner.partner_id, body.code, body.offer_id)
    return VerdictOut(ok=verdict.ok, member=verdict.member, message=verdict.message)


@router.post(
    "/partner-api/v1/redemptions",
    status_code=status.HTTP_201_CREATED,
    tags=["partner API"],
    responses={
        200: {
            "description": "the same Idempotency-Key again: the redemption it made",
            "model": RedemptionOut,
        },
        **problems(401, 403),
        409: {"description": f"refused ({REFUSED_MESSAGE}, never why), or the key was used for another code"},
    },
)
async def redeem(
    body: CheckIn,
    key: IdempotencyKey,
    partner: CurrentPartner,
    deps: DepsDep,
    request: Request,
    response: Response,
) -> RedemptionOut:
    """Redeem the offer with the code, once: past the offer's limits (per member per day or month,
    China time; stock) or when verify would say no, 409 不可使用."""
    done = await till.redeem(
        deps, partner.partner_id, body.code, body.offer_id, key, correlation_id_of(request)
    )
    if not done.created:
        response.status_code = status.HTTP_200_OK
    return RedemptionOut.of(done.redemption)


@router.get("/partner-api/v1/redemptions", tags=["partner API"], responses=problems(401, 403))
async def my_redemptions(
    partner: CurrentPartner,
    deps: DepsDep,
    after: Annotated[After, Query()] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RedemptionsOut:
    """Your redemptions, oldest first (masked names only); page with ?after=."""
    rows = await till.redemptions(deps, partner.partner_id, after, limit)
    return RedemptionsOut(
        items=[RedemptionOut.of(r) for r in rows], next_after=rows[-1].seq if rows else after
    )
