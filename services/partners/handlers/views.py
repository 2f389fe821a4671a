"""Reads: the admins' views of partners, merchants and rejections, and a partner's of its own."""

from dataclasses import dataclass

from services.partners.domain import keys
from services.partners.domain.offers import OfferState
from services.partners.handlers.common import Deps, partner_or_404, require_admin
from services.partners.store import ingress_log, merchants, offers, partners
from services.partners.store.ingress_log import LogRow
from services.partners.store.merchants import MerchantRow
from services.partners.store.offers import ListedOffer, OfferRow
from services.partners.store.partners import PartnerRow
from shared.auth import Caller


async def all_partners(deps: Deps, caller: Caller) -> list[PartnerRow]:
    require_admin(caller)
    return await partners.list_partners(deps.pool)


async def partner(deps: Deps, caller: Caller, partner_id: str) -> PartnerRow:
    require_admin(caller)
    return await partner_or_404(deps.pool, partner_id)


async def partner_merchants(deps: Deps, caller: Caller, partner_id: str) -> list[MerchantRow]:
    require_admin(caller)
    return await merchants.list_merchants(deps.pool, partner_id)


async def partner_rejections(
    deps: Deps, caller: Caller, partner_id: str, after: int, limit: int
) -> list[LogRow]:
    require_admin(caller)
    return await ingress_log.rejections(deps.pool, partner_id, after, limit)


# A partner's own views (the caller is the partner its API key names) ---------------------------


async def partner_by_key(deps: Deps, api_key: str) -> PartnerRow | None:
    """The partner holding this unrevoked key, if any."""
    return await partners.partner_by_key(deps.pool, keys.digest(api_key))


async def own_partner(deps: Deps, partner_id: str) -> PartnerRow | None:
    """The partner a staff member's token names (identity bound them to it)."""
    return await partners.get_partner(deps.pool, partner_id)


async def my_merchants(deps: Deps, partner_id: str) -> list[MerchantRow]:
    return await merchants.list_merchants(deps.pool, partner_id)


async def my_rejections(deps: Deps, partner_id: str, after: int, limit: int) -> list[LogRow]:
    return await ingress_log.rejections(deps.pool, partner_id, after, limit)


@dataclass(frozen=True)
class OfferView:
    accepted: OfferRow | None  # None: no version accepted yet
    history: list[LogRow]  # what became of its recent events, newest first


async def my_offer(deps: Deps, partner_id: str, offer_id: str) -> OfferView:
    accepted = await offers.get_offer(deps.pool, partner_id, offer_id)
    return OfferView(accepted, await ingress_log.offer_history(deps.pool, partner_id, offer_id))


async def my_offers(
    deps: Deps, partner_id: str, state: OfferState | None, after: str | None, limit: int
) -> list[ListedOffer]:
    """The partner's offers in `state` now (None: every state), by offer id, for its till."""
    return await offers.list_offers(deps.pool, partner_id, deps.now(), state, after, limit)
