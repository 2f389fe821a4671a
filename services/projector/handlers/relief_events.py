"""Relief events into the card read model: the member's own case status and aid paid."""

from services.projector.store import cards
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.contracts.relief import CaseSnapshot
from shared.db import Conn


async def apply_relief_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    """Every relief event carries the case as it stands after it; the newest one wins."""
    case = getattr(payload, "case", None)
    if isinstance(case, CaseSnapshot):
        await cards.upsert_relief_case(conn, envelope.subject_version, case)
