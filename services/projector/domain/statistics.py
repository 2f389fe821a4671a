"""The partner's statistics (统计, issue 18): who may read a partner's, and which China days a
question covers. Pure rules, no I/O."""

from dataclasses import dataclass
from datetime import date, timedelta

from shared.auth import Principal, Role

DEFAULT_DAYS = 30  # without from/to: the last 30 China days, today included
MAX_DAYS = 366


class InvalidRange(ValueError):
    """A range of days that is answered with 422 and its reason."""


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date


def may_read(principal: Principal, partner_id: str) -> bool:
    """The partner's own staff (a partner_staff token naming it) and admins; nobody else."""
    if principal.role is Role.ADMIN:
        return True
    return principal.role is Role.PARTNER_STAFF and principal.partner_id == partner_id


def day_range(first: date | None, last: date | None, today: date) -> DayRange:
    """The days asked for, both ends included (China time): `to` defaults to today, `from` to
    the DEFAULT_DAYS days ending at `to`; at most MAX_DAYS days."""
    last = last or today
    try:
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:  # a `to` in the first days of year 1
        raise InvalidRange(f"to ({last}) leaves no {DEFAULT_DAYS} days before it: give from") from None
    if first > last:
        raise InvalidRange(f"from ({first}) is after to ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidRange(f"at most {MAX_DAYS} days at once (asked: {first} to {last})")
    return DayRange(first, last)
