"""What relief now reads beside membership: enrollment's employer register (its own view, for
困难企业) and competitions' model worker titles (困难劳模). One Apply dispatches every event."""

from services.relief.handlers.common import Deps
from services.relief.handlers.enrollment_events import enrollment_events
from services.relief.store import employers
from shared.consumer import Apply
from shared.contracts.competitions import HonourGranted, HonourKind, HonourRenewed, HonourRevoked
from shared.contracts.enrollment import EmployerRegistered, EmployerUpdated
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn


def relief_events(deps: Deps) -> Apply:
    """Relief's consumer: employers and honours here, everything else to membership's Apply."""
    membership_apply = enrollment_events(deps)

    async def apply_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        match payload:
            case EmployerRegistered() | EmployerUpdated():
                await employers.upsert_employer(conn, envelope.subject_version, payload.employer)
            case HonourGranted() | HonourRenewed() if payload.kind is HonourKind.MODEL_WORKER:
                await employers.upsert_honour(conn, payload.honour_id, payload.member_id, payload.valid_until)
            case HonourRevoked() if payload.kind is HonourKind.MODEL_WORKER:
                await employers.revoke_honour(conn, payload.honour_id, payload.member_id, payload.revoked_on)
            case HonourGranted() | HonourRenewed() | HonourRevoked():
                pass  # other titles do not make a 困难劳模
            case _:
                await membership_apply(conn, envelope, payload)

    return apply_event
