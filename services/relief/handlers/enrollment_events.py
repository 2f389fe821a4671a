"""Enrollment events into relief's view of unions and membership, and what they mean for an
open case: suspended when the member leaves, offered to the new union when they move."""

from services.relief.handlers.cases import follow_membership
from services.relief.handlers.common import Deps, Trace
from shared import membership_view as qm
from shared.consumer import Apply
from shared.contracts.enrollment import (
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MemberTransferred,
    UnionRegistered,
)
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)


def make_apply(deps: Deps) -> Apply:
    async def apply_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        match payload:
            case UnionRegistered():
                await qm.upsert_union(conn, payload)
            case MemberEnrolled() | MemberTransferred() | MemberLeft() | MemberReinstated():
                # Only a snapshot newer than the one held changes anything (events may come late).
                if await qm.upsert_member(conn, envelope.subject_version, payload.member):
                    trace = Trace(
                        actor=f"enrollment:{envelope.event_type}",
                        correlation_id=envelope.correlation_id,
                        causation_id=str(envelope.event_id),
                    )
                    await follow_membership(conn, deps, trace, payload.member)
            case _:
                log.debug("event_not_needed", event_type=envelope.event_type)

    return apply_event
