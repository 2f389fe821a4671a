"""A person's erasure (enrollment.PersonErased, docs/erasure.md) in the partners service: what
the till holds of them goes. Their codes are deleted; their redemptions stay, counted towards
the offer's stock and the partner's list, with neither member id nor masked name."""

import uuid

from services.partners.store import till
from shared.db import Conn
from shared.events import forget_subject
from shared.logging import get_logger

log = get_logger(__name__)


async def erase_person(conn: Conn, person_id: uuid.UUID) -> None:
    codes, redemptions = await till.erase_member(conn, person_id)
    # The partners' events about a member are their OfferRedeemed (subject: the member id): the
    # count of them would still say how often this person redeemed.
    await forget_subject(conn, str(person_id))
    if codes or redemptions:
        log.info("till_member_erased", codes=codes, redemptions=redemptions)
