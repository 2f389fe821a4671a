"""Partner events into the card read model: merchants listed and delisted, offers published and
withdrawn, offers redeemed (the member's usage history and the partner's statistics, keyed by
redemption id). Which offers a member sees is decided when the card is read, not here."""

from services.projector.store import offers, statistics
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.contracts.partners import (
    MerchantDelisted,
    MerchantListed,
    OfferPublished,
    OfferRedeemed,
    OfferWithdrawn,
    offer_key,
)
from shared.db import Conn


class MismatchedOfferKey(ValueError):
    """An offer event whose key is not "<partner_id>/<offer_id>": dead-lettered with the reason."""


def _check_key(payload: OfferPublished | OfferWithdrawn | OfferRedeemed) -> None:
    expected = offer_key(payload.partner_id, payload.offer_id)
    if payload.offer_key != expected:
        raise MismatchedOfferKey(f"offer_key {payload.offer_key!r} is not {expected!r}")


async def apply_partners_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    match payload:
        case MerchantListed():
            # Merchants are versioned by the partners service's per-merchant event sequence.
            await offers.upsert_merchant(conn, envelope.subject_version, payload)
        case MerchantDelisted():
            await offers.delist_merchant(conn, envelope.subject_version, payload)
        case OfferPublished():
            # Offers are versioned by the partner's own version of the offer, carried in the payload.
            _check_key(payload)
            await offers.upsert_offer(conn, payload)
        case OfferWithdrawn():
            _check_key(payload)
            await offers.withdraw_offer(conn, payload)
        case OfferRedeemed():
            # The member's usage history: one row per redemption id, so a redelivery is a no-op.
            _check_key(payload)
            await offers.insert_redemption(conn, payload)
            # The partner's statistics: counted once per redemption id, no member in them.
            await statistics.insert_redemption(conn, payload)
        case _:
            pass  # other partners events are not on the card
