"""The greeter's rules: pure, no I/O."""

from datetime import datetime, timedelta

from shared.contracts.enrollment import MembershipStatus, MemberSnapshot


def welcome_due_at(
    member: MemberSnapshot, already_welcomed: bool, now: datetime, delay: timedelta
) -> datetime | None:
    """A member is welcomed once, after they join: not again after a transfer or reinstatement."""
    if already_welcomed or member.status is not MembershipStatus.ACTIVE:
        return None
    return now + delay
