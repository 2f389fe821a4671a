"""The union's rules for the merchants it puts under partners (chosen by tender, not by partners)."""

from dataclasses import dataclass

from shared.contracts.partners import OfferCategory, check_region
from shared.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True)
class Listing:
    """A merchant as an admin lists it under a partner."""

    merchant_id: str
    partner_id: str
    name: str
    category: OfferCategory
    region: str
    address: str | None


def check_listing(listing: Listing, owner: str | None) -> None:
    """A merchant has one partner: listing it again (to change its details, or after a
    delisting) is for the same partner only. `owner`: its current partner, if listed before."""
    try:
        check_region(listing.region)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if owner is not None and owner != listing.partner_id:
        raise Conflict(f"merchant {listing.merchant_id!r} is under another partner")


def must_delist(partner_id: str, merchant_id: str, owner: str | None, listed: bool) -> bool:
    """Whether delisting changes anything (a delisted merchant stays so: nothing to do); only
    the merchant's own partner can lose it, any other answer is that the partner has none."""
    if owner != partner_id:
        raise NotFound(f"partner {partner_id!r} has no merchant {merchant_id!r}")
    return listed
