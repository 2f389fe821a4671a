"""Competition events into the card read model: honours, final results and awards."""

from services.projector.store import cards
from shared.contracts.competitions import (
    AwardGranted,
    HonourGranted,
    HonourRenewed,
    HonourRevoked,
    ResultFinalized,
)
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn


async def apply_competitions_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    version = envelope.subject_version
    match payload:
        case HonourGranted() | HonourRenewed():
            await cards.upsert_honour(conn, version, payload)
        case HonourRevoked():
            await cards.revoke_honour(conn, version, payload)
        case ResultFinalized():
            await cards.upsert_result(conn, version, payload)
        case AwardGranted():
            await cards.insert_award(conn, version, payload)
        case _:
            pass  # registrations, withdrawals and adopted ideas are not on the card
