"""The union's side: registering partners, their API keys and the merchants put under them.

Merchants are chosen by the union (by tender), not by partners: a partner can publish offers only
for merchants an admin listed under it.
"""

import uuid
from dataclasses import dataclass, replace

from services.partners.domain import keys
from services.partners.handlers.common import Deps, audit, emit
from services.partners.store import partners as q
from services.partners.store.partners import MerchantRow, PartnerRow
from shared.auth import Caller, Role
from shared.contracts.partners import MerchantDelisted, MerchantListed, OfferCategory, check_region
from shared.db import Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


def require_admin(caller: Caller) -> None:
    if caller.principal.role is not Role.ADMIN:
        raise Forbidden("partners and merchants are managed by the federation's admins")


@dataclass(frozen=True)
class IssuedKey:
    key_id: uuid.UUID
    api_key: str  # shown once


async def register_partner(
    deps: Deps, caller: Caller, partner_id: str, name: str, contact: str | None
) -> tuple[PartnerRow, IssuedKey]:
    require_admin(caller)
    # Topics first: a registered partner always has somewhere to publish and to read rejections.
    await deps.create_partner_topics([deps.topics.offers(partner_id), deps.topics.rejections(partner_id)])
    api_key = keys.new_key(partner_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        if not await q.insert_partner(conn, partner_id, name, contact):
            raise Conflict(f"partner {partner_id!r} is already registered")
        key_id = await q.insert_key(conn, partner_id, keys.digest(api_key))
        await audit(conn, caller, "partner_registered", partner_id, name=name, key_id=str(key_id))
        partner = await q.get_partner(conn, partner_id)
    assert partner is not None
    return partner, IssuedKey(key_id, api_key)


async def issue_key(deps: Deps, caller: Caller, partner_id: str) -> IssuedKey:
    require_admin(caller)
    api_key = keys.new_key(partner_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        await _partner_or_404(conn, partner_id)
        key_id = await q.insert_key(conn, partner_id, keys.digest(api_key))
        await audit(conn, caller, "key_issued", partner_id, key_id=str(key_id))
    return IssuedKey(key_id, api_key)


async def revoke_key(deps: Deps, caller: Caller, partner_id: str, key_id: uuid.UUID) -> None:
    require_admin(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        if not await q.revoke_key(conn, partner_id, key_id):
            raise NotFound(f"partner {partner_id!r} has no active key {key_id}")
        await audit(conn, caller, "key_revoked", partner_id, key_id=str(key_id))


async def set_status(deps: Deps, caller: Caller, partner_id: str, status: str, reason: str) -> PartnerRow:
    require_admin(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        await _partner_or_404(conn, partner_id)
        await q.set_partner_status(conn, partner_id, status)
        await audit(conn, caller, f"partner_{status}", partner_id, reason=reason)
        partner = await q.get_partner(conn, partner_id)
    assert partner is not None
    return partner


@dataclass(frozen=True)
class MerchantSpec:
    merchant_id: str
    name: str
    category: OfferCategory
    region: str
    address: str | None


async def list_merchant(deps: Deps, caller: Caller, partner_id: str, spec: MerchantSpec) -> MerchantRow:
    """Put a merchant under a partner, or change its details; listed again if it was delisted."""
    require_admin(caller)
    try:
        check_region(spec.region)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    async with deps.pool.acquire() as conn, conn.transaction():
        await _partner_or_404(conn, partner_id)
        current = await q.get_merchant(conn, spec.merchant_id, for_update=True)
        if current is not None and current.partner_id != partner_id:
            raise Conflict(f"merchant {spec.merchant_id!r} is under another partner")
        row = MerchantRow(
            merchant_id=spec.merchant_id,
            partner_id=partner_id,
            name=spec.name,
            category=spec.category.value,
            region=spec.region,
            address=spec.address,
            listed=True,
            version=(current.version if current else 0) + 1,
        )
        await q.upsert_merchant(conn, row)
        event = MerchantListed(
            merchant_id=row.merchant_id,
            partner_id=partner_id,
            name=row.name,
            category=spec.category,
            region=row.region,
            address=row.address,
            listed_at=deps.now(),
        )
        await emit(conn, deps, event, row.merchant_id, row.version, caller.correlation_id)
        await audit(conn, caller, "merchant_listed", row.merchant_id, partner_id=partner_id, name=row.name)
    return row


async def delist_merchant(deps: Deps, caller: Caller, partner_id: str, merchant_id: str, reason: str) -> None:
    require_admin(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        current = await q.get_merchant(conn, merchant_id, for_update=True)
        if current is None or current.partner_id != partner_id:
            raise NotFound(f"partner {partner_id!r} has no merchant {merchant_id!r}")
        if not current.listed:
            return  # delisted already
        delisted = replace(current, listed=False, version=current.version + 1)
        await q.upsert_merchant(conn, delisted)
        event = MerchantDelisted(merchant_id=merchant_id, partner_id=partner_id, delisted_at=deps.now())
        await emit(conn, deps, event, merchant_id, delisted.version, caller.correlation_id)
        await audit(conn, caller, "merchant_delisted", merchant_id, partner_id=partner_id, reason=reason)


async def _partner_or_404(conn: Conn, partner_id: str) -> PartnerRow:
    partner = await q.get_partner(conn, partner_id)
    if partner is None:
        raise NotFound(f"partner {partner_id!r} is not registered")
    return partner
