"""What the member service card shows and asks of the member."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Gap:
    left_at: datetime
    returned_at: datetime | None


def gaps(periods: list[dict[str, str | None]]) -> list[Gap]:
    """Times the member was out of the union: from leaving to coming back (or still out)."""
    found: list[Gap] = []
    for i, p in enumerate(periods):
        ended = p.get("ended_at")
        if p.get("end_reason") == "left" and ended:
            nxt = periods[i + 1]["started_at"] if i + 1 < len(periods) else None
            found.append(Gap(datetime.fromisoformat(ended), datetime.fromisoformat(nxt) if nxt else None))
    return found


def needs_action(
    membership_status: str | None, application_status: str | None, reason: str | None
) -> list[str]:
    actions: list[str] = []
    if application_status == "rejected" and membership_status != "active":
        actions.append(f"申请未通过 (application rejected): {reason}. You may correct it and apply again.")
    if application_status == "pending":
        actions.append("申请审核中 (application under review): no action needed yet.")
    if membership_status == "left":
        actions.append("已退会 (left the union): apply again to be reinstated.")
    return actions
