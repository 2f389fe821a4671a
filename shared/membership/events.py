"""Enrollment's events into a service's view of unions and membership."""

from collections.abc import Awaitable, Callable

from shared.consumer import Apply
from shared.contracts.enrollment import (
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MemberSnapshot,
    MemberTransferred,
    PersonErased,
    UnionRegistered,
)
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn
from shared.events import Trace
from shared.logging import get_logger
from shared.membership.store import erase_member, upsert_member, upsert_union

log = get_logger(__name__)

# What a newer membership snapshot means to the service (a case suspended when the member
# leaves, entries withdrawn); runs in the transaction that applies the event.
OnMemberChanged = Callable[[Conn, Trace, MemberSnapshot], Awaitable[None]]


def membership_events(on_member_changed: OnMemberChanged | None = None) -> Apply:
    async def apply_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        match payload:
            case UnionRegistered():
                await upsert_union(conn, payload)
            case MemberEnrolled() | MemberTransferred() | MemberLeft() | MemberReinstated():
                # Only a snapshot newer than the one held changes anything (events may come late).
                newer = await upsert_member(conn, envelope.subject_version, payload.member)
                if newer and on_member_changed is not None:
                    await on_member_changed(conn, Trace.answering(envelope), payload.member)
            case PersonErased():
                # The member row stays (cases and entries refer to it), nameless.
                await erase_member(conn, payload.person_id, envelope.subject_version, payload.erased_at)
            case _:
                log.debug("event_not_needed", event_type=envelope.event_type)

    return apply_event
