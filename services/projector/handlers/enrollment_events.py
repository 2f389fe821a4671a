"""Enrollment events into the card read model."""

from services.projector.store import cards
from shared import membership
from shared.contracts.enrollment import (
    ApplicationRejected,
    ApplicationSubmitted,
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MemberTransferred,
    PersonErased,
    TransferAccepted,
    TransferDeclined,
    TransferExpired,
    TransferRequested,
    TransferWithdrawn,
    UnionRegistered,
)
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)


async def apply_enrollment_event(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    version = envelope.subject_version
    match payload:
        case UnionRegistered():
            await membership.upsert_union(conn, payload)  # the card's unions: the membership view's table
        case ApplicationSubmitted():  # v1 too: decode_event upcasts it to this latest class
            await cards.upsert_application(
                conn, payload.person_id, version, payload.application_id, payload.base_union_id,
                "pending", None,
            )  # fmt: skip
        case ApplicationRejected():
            await cards.upsert_application(
                conn, payload.person_id, version, payload.application_id, payload.base_union_id,
                "rejected", payload.reason,
            )  # fmt: skip
        case MemberEnrolled() | MemberReinstated():
            await cards.upsert_card(conn, version, payload.member)
            if payload.application_id is not None:
                await cards.upsert_application(
                    conn, payload.member.member_id, version, payload.application_id,
                    payload.member.base_union_id, "approved", None,
                )  # fmt: skip
        case MemberTransferred() | MemberLeft():
            await cards.upsert_card(conn, version, payload.member)
        case (
            TransferRequested()
            | TransferAccepted()
            | TransferDeclined()
            | TransferWithdrawn()
            | TransferExpired()
        ):
            # The card shows the request while it is pending; any answer clears it.
            await cards.upsert_transfer(conn, version, payload.transfer)
        case PersonErased():
            await cards.erase_member(conn, payload.person_id, payload.erased_at)
        case _:
            # A contract the projector does not show on the card yet: recorded as processed.
            log.debug("event_not_projected", event_type=envelope.event_type)
