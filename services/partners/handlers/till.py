"""The merchant's check at the till: a member opens a card code or a voucher; a partner verifies
a code for one of its offers and redeems it. One transaction per use case. A partner hears yes
or no with a masked name, never why (the reason goes to the log only)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.partners.domain import till as rules
from services.partners.domain.till import CodeKind
from services.partners.handlers.common import Deps
from services.partners.store import till
from services.partners.store.till import RedemptionRow
from shared.auth import Caller, Role
from shared.contracts.partners import OfferRedeemed, offer_key
from shared.errors import Conflict, Forbidden
from shared.events import Trace
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Issued:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Verdict:
    ok: bool
    member: str | None  # the masked name, only when ok
    message: str


@dataclass(frozen=True)
class Redeemed:
    redemption: RedemptionRow
    created: bool  # False: the same Idempotency-Key answered again


def _own_card(caller: Caller, member_id: uuid.UUID) -> None:
    principal = caller.principal
    if principal.role is not Role.MEMBER or principal.member_id != member_id:
        raise Forbidden("只有会员本人可以出示自己的会员卡 (only the member themself may open a code)")


async def issue_card_code(deps: Deps, caller: Caller, member_id: uuid.UUID) -> Issued:
    """The card's rotating code: every offer the member may use now but the hardship-only ones."""
    _own_card(caller, member_id)
    card = await deps.cards.card(member_id, caller.credentials)
    if not card.active:
        raise Conflict("会员卡当前不可用，不能出示 (the card is not active)")
    return await _issue(deps, CodeKind.CARD, member_id, card.masked_name, rules.card_code_offers(card.offers))


async def issue_voucher(deps: Deps, caller: Caller, member_id: uuid.UUID, key: str) -> Issued:
    """A one-offer voucher the member opens on purpose: the only way to a hardship offer."""
    _own_card(caller, member_id)
    card = await deps.cards.card(member_id, caller.credentials)
    if not card.active:
        raise Conflict("会员卡当前不可用，不能出示 (the card is not active)")
    if key not in {k for k, _ in card.offers}:
        raise Conflict("这项优惠您现在不能使用 (this offer is not on your card now)")
    return await _issue(deps, CodeKind.VOUCHER, member_id, card.masked_name, [key])


async def _issue(deps: Deps, kind: CodeKind, member_id: uuid.UUID, masked: str, keys: list[str]) -> Issued:
    code = rules.new_code()
    now = deps.now()
    expires = rules.expires_at(kind, now, deps.card_code_ttl)
    await till.save_code(deps.pool, rules.code_digest(code), kind, member_id, masked, keys, now, expires)
    return Issued(code, expires)


async def verify(deps: Deps, partner_id: str, code: str, offer_id: str) -> Verdict:
    """May this code redeem this offer of the partner now? Yes or no, and a masked name if yes."""
    now = deps.now()
    async with deps.pool.acquire() as conn:
        row = await till.get_code(conn, rules.code_digest(code))
        found = await till.offer_facts(conn, partner_id, offer_id)
        usage = None
        if row is not None and found is not None:
            usage = await till.usage(
                conn, partner_id, offer_id, row.member_id, rules.china_day(now), rules.china_month(now)
            )
    refused = rules.refusal(row.facts if row else None, found[0] if found else None, usage, now)
    if refused is not None:
        log.info("till_verify_refused", partner=partner_id, offer_id=offer_id, why=refused.value)
        return Verdict(False, None, rules.REFUSED_MESSAGE)
    assert row is not None
    return Verdict(True, row.member_masked, rules.OK_MESSAGE)


async def redeem(
    deps: Deps, partner_id: str, code: str, offer_id: str, key: str, correlation_id: str
) -> Redeemed:
    """Redeem once, within the limits, in one transaction: the idempotency key, then the code,
    then the offer are locked in that order, so concurrent tills cannot pass a limit together."""
    digest = rules.code_digest(code)
    async with deps.pool.acquire() as conn, conn.transaction():
        await till.lock_idempotency_key(conn, partner_id, key)
        earlier = await till.by_idempotency_key(conn, partner_id, key)
        if earlier is not None:
            if earlier.code_digest != digest or earlier.offer_id != offer_id:
                raise Conflict("Idempotency-Key 已用于另一次核销 (the key was used for another redemption)")
            return Redeemed(earlier, created=False)
        now = deps.now()
        row = await till.get_code(conn, digest, lock=True)
        found = await till.offer_facts(conn, partner_id, offer_id, lock=True)
        day, month = rules.china_day(now), rules.china_month(now)
        usage = None
        if row is not None and found is not None:
            usage = await till.usage(conn, partner_id, offer_id, row.member_id, day, month)
        refused = rules.refusal(row.facts if row else None, found[0] if found else None, usage, now)
        if refused is not None:
            log.info("till_redeem_refused", partner=partner_id, offer_id=offer_id, why=refused.value)
            raise Conflict(rules.REFUSED_MESSAGE)
        assert row is not None and found is not None
        merchant_id = found[1]
        redemption = await till.save_redemption(
            conn, partner_id, key, row, merchant_id, offer_id, uuid.uuid4(), now, day, month
        )
        await till.mark_redeemed(conn, digest, now)
        event = OfferRedeemed(
            redemption_id=redemption.redemption_id, partner_id=partner_id, merchant_id=merchant_id,
            offer_id=offer_id, offer_key=offer_key(partner_id, offer_id), member_id=row.member_id,
            redeemed_at=now,
        )  # fmt: skip
        await deps.events.emit(conn, Trace(f"partner:{partner_id}", correlation_id), row.member_id, event)
    return Redeemed(redemption, created=True)


async def purge_expired_codes(deps: Deps) -> int:
    """Expired codes do not pile up: run every TILL_PURGE_INTERVAL_SECONDS (app.py)."""
    purged = await till.purge_expired_codes(deps.pool, rules.purge_before(deps.now()))
    if purged:
        log.info("till_codes_purged", codes=purged)
    return purged


async def redemptions(deps: Deps, partner_id: str, after: int, limit: int) -> list[RedemptionRow]:
    return await till.partner_redemptions(deps.pool, partner_id, after, limit)
