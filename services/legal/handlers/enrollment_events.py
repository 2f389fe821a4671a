"""Enrollment events into legal's own view of unions and membership (who may file, who sees)."""

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


def make_apply() -> Apply:
    async def apply_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        match payload:
            case UnionRegistered():
                await qm.upsert_union(conn, payload)
            case MemberEnrolled() | MemberTransferred() | MemberLeft() | MemberReinstated():
                # Only a snapshot newer than the one held changes anything (events may come late).
                await qm.upsert_member(conn, envelope.subject_version, payload.member)
            case _:
                log.debug("event_not_needed", event_type=envelope.event_type)

    return apply_event
