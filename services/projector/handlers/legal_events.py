"""Legal events into the card read model: each worker's disputes, stage and next deadline."""

from services.projector.store import cards
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.contracts.legal import CaseSnapshot
from shared.db import Conn


async def apply_legal_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    """Case events carry the case as it stands; supervision letters concern employers, not cards."""
    case = getattr(payload, "case", None)
    if isinstance(case, CaseSnapshot):
        await cards.upsert_legal_case(conn, envelope.subject_version, case)
