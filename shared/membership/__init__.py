"""A service's own view of the union tree and of membership, kept from enrollment's events.

A service that needs "is this person an active member, and of which union?" opts in: it lists
`MIGRATIONS` among its migration packages (tables `unions` and `members` in its own database),
subscribes to enrollment's topic (`SOURCE_TOPICS`) and applies `membership_events(...)`, with a
hook for what a changed membership means to it. Services meet only through events: none asks
enrollment.
"""

from shared.contracts.topics import ENROLLMENT_EVENTS, ENROLLMENT_STATE
from shared.membership.events import OnMemberChanged, membership_events
from shared.membership.store import MemberRow, UnionRow, get_member, get_union, upsert_member, upsert_union

MIGRATIONS = "shared.membership.migrations"
# The state topic keeps every union and member whose events retention has deleted; a group
# that starts later reads both (docs/retention.md).
SOURCE_TOPICS = (ENROLLMENT_EVENTS, ENROLLMENT_STATE)

__all__ = [
    "MIGRATIONS",
    "SOURCE_TOPICS",
    "MemberRow",
    "OnMemberChanged",
    "UnionRow",
    "get_member",
    "get_union",
    "membership_events",
    "upsert_member",
    "upsert_union",
]
