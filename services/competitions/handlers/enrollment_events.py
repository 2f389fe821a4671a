"""Enrollment's events: the kit keeps the service's view of unions and membership; a member
whose newer snapshot is no longer active has their individual entries withdrawn."""

from services.competitions.handlers.common import Deps
from services.competitions.handlers.entries import withdraw_leaver
from shared.consumer import Apply
from shared.contracts.enrollment import MemberSnapshot
from shared.db import Conn
from shared.events import Trace
from shared.membership import membership_events


def make_apply(deps: Deps) -> Apply:
    async def on_member_changed(conn: Conn, trace: Trace, member: MemberSnapshot) -> None:
        await withdraw_leaver(conn, deps, trace, member)

    return membership_events(on_member_changed=on_member_changed)
