"""Relief events into the card read model: the member's own case status and aid paid, and the
receipts of relief's programmes (送温暖, 金秋助学)."""

from services.projector.store import cards
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.contracts.relief import CaseSnapshot
from shared.contracts.relief_programmes import ProgrammeAidPaid
from shared.db import Conn


async def apply_relief_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    """Every relief event carries the case as it stands after it; the newest one wins. A programme
    payment carries all the member's receipts, under the same per-member sequence."""
    if isinstance(payload, ProgrammeAidPaid):
        await cards.replace_programme_receipts(
            conn, envelope.subject_version, payload.member_id, payload.receipts
        )
        return
    case = getattr(payload, "case", None)
    if isinstance(case, CaseSnapshot):
        await cards.upsert_relief_case(conn, envelope.subject_version, case)
