"""Every event the projector reads goes to the handler of the service that published it, then to
the inbox's."""

from services.projector.handlers.competitions_events import apply_competitions_event
from services.projector.handlers.enrollment_events import apply_enrollment_event
from services.projector.handlers.inbox_events import add_to_inbox
from services.projector.handlers.legal_events import apply_legal_event
from services.projector.handlers.partners_events import apply_partners_event
from services.projector.handlers.relief_events import apply_relief_event
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn


async def apply_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    if envelope.event_type.startswith("relief."):
        await apply_relief_event(conn, envelope, payload)
    elif envelope.event_type.startswith("competitions."):
        await apply_competitions_event(conn, envelope, payload)
    elif envelope.event_type.startswith("legal."):
        await apply_legal_event(conn, envelope, payload)
    elif envelope.event_type.startswith("partners."):
        await apply_partners_event(conn, envelope, payload)
    else:
        await apply_enrollment_event(conn, envelope, payload)
    await add_to_inbox(conn, envelope, payload)
