"""What partners asks the projector (the card read model) when a member opens a code: the card's
status and name, and the offers the member may use now. Always with the member's own
Authorization, so the projector answers exactly what the member may see (their hardship offers
included: the member is the one asking)."""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import HTTPException, status

from shared.errors import Forbidden, NotFound
from shared.pii import mask_name

PAGE = 100
MAX_PAGES = 20  # 2,000 offers: far more than any card holds


@dataclass(frozen=True)
class CardFacts:
    masked_name: str
    active: bool
    offers: list[tuple[str, str]]  # (offer_key, eligibility) the member may use now


def _unavailable(why: str) -> HTTPException:
    # No DomainError carries Retry-After; answered as problem details all the same.
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=f"会员卡服务暂不可用，请稍后重试 (the card service is unavailable: {why})",
        headers={"Retry-After": "1"},
    )


class CardsClient:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str, authorization: str, params: dict[str, Any] | None = None) -> Any:
        try:
            answer = await self._client.get(path, params=params, headers={"Authorization": authorization})
        except httpx.HTTPError as exc:
            raise _unavailable(type(exc).__name__) from exc
        if answer.status_code == 404:
            raise NotFound("没有找到这张会员卡 (no card for this member)")
        if answer.status_code in (401, 403):
            raise Forbidden("只有会员本人可以出示会员卡 (only the member may show their card)")
        if answer.status_code != 200:
            raise _unavailable(f"GET {path} answered {answer.status_code}")
        try:
            return answer.json()
        except ValueError as exc:
            raise _unavailable(f"GET {path} answered no JSON") from exc

    async def card(self, member_id: uuid.UUID, authorization: str) -> CardFacts:
        card = await self._get(f"/cards/{member_id}", authorization)
        membership = card.get("membership") if isinstance(card, dict) else None
        if not isinstance(membership, dict) or not isinstance(membership.get("name"), str):
            return CardFacts(masked_name="*", active=False, offers=[])
        masked = mask_name(membership["name"])
        if membership.get("status") != "active":
            return CardFacts(masked_name=masked, active=False, offers=[])
        offers: list[tuple[str, str]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
            page = await self._get(f"/cards/{member_id}/offers", authorization, params)
            offers += [(str(o["offer_key"]), str(o["eligibility"])) for o in page.get("items", [])]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return CardFacts(masked_name=masked, active=True, offers=offers)
