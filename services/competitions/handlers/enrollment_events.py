"""Enrollment events into the competitions service's view of unions and membership; a member who
leaves has their entries withdrawn."""

from services.competitions.handlers.common import Deps, Trace
from services.competitions.handlers.competitions import withdraw_leaver
from shared import membership_view as qm
from shared.consumer import Apply
from shared.contracts.enrollment import (
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MembershipStatus,
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
                newer = await qm.upsert_member(conn, envelope.subject_version, payload.member)
                if newer and payload.member.status is not MembershipStatus.ACTIVE:
                    trace = Trace(
                        actor=f"enrollment:{envelope.event_type}",
                        correlation_id=envelope.correlation_id,
                        causation_id=str(envelope.event_id),
                    )
                    await withdraw_leaver(conn, deps, trace, payload.member)
            case _:
                log.debug("event_not_needed", event_type=envelope.event_type)

    return apply_event
