"""Every event the projector reads may put items in members' inboxes: the words come from
domain/inbox.py, the row is keyed by the event's id."""

from services.projector.domain.inbox import items_for
from services.projector.store import inbox
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn


async def add_to_inbox(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    items = items_for(payload)
    if items:
        await inbox.insert_items(conn, envelope.event_id, envelope.occurred_at, items)
