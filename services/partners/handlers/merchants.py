"""The union's side: the merchants put under a partner (by tender). A partner can publish offers
only for merchants an admin listed under it."""

from services.partners.domain.merchants import Listing, check_listing, must_delist
from services.partners.handlers.common import Deps, partner_or_404, require_admin
from services.partners.store import merchants
from services.partners.store.merchants import MerchantRow
from shared import audit
from shared.auth import Caller
from shared.contracts.partners import MerchantDelisted, MerchantListed
from shared.events import Trace


async def list_merchant(deps: Deps, caller: Caller, listing: Listing) -> MerchantRow:
    """Put a merchant under a partner, or change its details; listed again if it was delisted."""
    require_admin(caller)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        await partner_or_404(conn, listing.partner_id)
        current = await merchants.lock_merchant(conn, listing.merchant_id)
        check_listing(listing, current.partner_id if current else None)
        row = MerchantRow(
            listing.merchant_id, listing.partner_id, listing.name, listing.category.value,
            listing.region, listing.address, listed=True,
        )  # fmt: skip
        await merchants.upsert_merchant(conn, row)
        event = MerchantListed(
            merchant_id=row.merchant_id, partner_id=row.partner_id, name=row.name,
            category=listing.category, region=row.region, address=row.address, listed_at=deps.now(),
        )  # fmt: skip
        await deps.events.emit(conn, trace, row.merchant_id, event)
        await audit.record(
            conn, trace, "merchant_listed", row.merchant_id, partner_id=row.partner_id, name=row.name
        )
    return row


async def delist_merchant(deps: Deps, caller: Caller, partner_id: str, merchant_id: str, reason: str) -> None:
    require_admin(caller)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        current = await merchants.lock_merchant(conn, merchant_id)
        owner, listed = (current.partner_id, current.listed) if current else (None, False)
        if not must_delist(partner_id, merchant_id, owner, listed):
            return
        await merchants.delist_merchant(conn, merchant_id)
        event = MerchantDelisted(merchant_id=merchant_id, partner_id=partner_id, delisted_at=deps.now())
        await deps.events.emit(conn, trace, merchant_id, event)
        await audit.record(
            conn, trace, "merchant_delisted", merchant_id, reason=reason, partner_id=partner_id
        )
