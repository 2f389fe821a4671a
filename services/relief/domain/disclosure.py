"""Public disclosure (公示, the sunshine operation): a window before approval during which the
beneficiary is shown publicly with the name masked, and objections are recorded and answered."""

from datetime import datetime, timedelta

from shared.errors import Conflict
from shared.pii import mask_name


def window(start: datetime, days: int) -> tuple[datetime, datetime]:
    if days < 1:
        raise ValueError("a disclosure lasts at least one day")
    return start, start + timedelta(days=days)


def disclosure_number(year: int, sequence: int) -> str:
    """The public reference of a disclosure notice (no personal data in it)."""
    return f"GS{year}-{sequence:06d}"


def public_name(name: str) -> str:
    return mask_name(name)


def is_open(now: datetime, starts_at: datetime, ends_at: datetime) -> bool:
    return starts_at <= now < ends_at


def require_window_open(now: datetime, ends_at: datetime) -> None:
    if now >= ends_at:
        raise Conflict(
            f"the disclosure window closed at {ends_at.isoformat()}; objections are no longer taken"
        )


def require_disclosure_done(now: datetime, ends_at: datetime, unanswered_objections: int) -> None:
    """The plan may be put to approval only once the window is over and every objection answered."""
    if now < ends_at:
        raise Conflict(f"the disclosure window runs until {ends_at.isoformat()}")
    if unanswered_objections:
        raise Conflict(f"{unanswered_objections} objection(s) still need an answer")


def require_unanswered(answered_by: str | None) -> None:
    """An objection is answered once."""
    if answered_by is not None:
        raise Conflict(f"the objection was already answered by {answered_by}")
