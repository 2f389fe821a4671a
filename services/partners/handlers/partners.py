"""The union's side: registering partners and their API keys, suspending and reactivating them."""

import uuid
from dataclasses import dataclass

from services.partners.domain import keys
from services.partners.handlers.common import Deps, partner_or_404, require_admin
from services.partners.store import partners
from services.partners.store.partners import PartnerRow
from shared import audit
from shared.auth import Caller
from shared.errors import Conflict, NotFound
from shared.events import Trace


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
        if not await partners.insert_partner(conn, partner_id, name, contact):
            raise Conflict(f"partner {partner_id!r} is already registered")
        key_id = await partners.insert_key(conn, partner_id, keys.digest(api_key))
        await audit.record(
            conn, Trace.of(caller), "partner_registered", partner_id, name=name, key_id=str(key_id)
        )
        partner = await partner_or_404(conn, partner_id)
    return partner, IssuedKey(key_id, api_key)


async def issue_key(deps: Deps, caller: Caller, partner_id: str) -> IssuedKey:
    require_admin(caller)
    api_key = keys.new_key(partner_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        await partner_or_404(conn, partner_id)
        key_id = await partners.insert_key(conn, partner_id, keys.digest(api_key))
        await audit.record(conn, Trace.of(caller), "key_issued", partner_id, key_id=str(key_id))
    return IssuedKey(key_id, api_key)


async def revoke_key(deps: Deps, caller: Caller, partner_id: str, key_id: uuid.UUID) -> None:
    require_admin(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        if not await partners.revoke_key(conn, partner_id, key_id):
            raise NotFound(f"partner {partner_id!r} has no active key {key_id}")
        await audit.record(conn, Trace.of(caller), "key_revoked", partner_id, key_id=str(key_id))


async def set_status(deps: Deps, caller: Caller, partner_id: str, status: str, reason: str) -> PartnerRow:
    require_admin(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        await partner_or_404(conn, partner_id)
        await partners.set_partner_status(conn, partner_id, status)
        await audit.record(conn, Trace.of(caller), f"partner_{status}", partner_id, reason=reason)
        return await partner_or_404(conn, partner_id)
