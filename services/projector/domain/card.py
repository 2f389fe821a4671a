"""What the member service card shows and asks of the member."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.projector.domain import labels


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


@dataclass(frozen=True)
class ProgrammeAid:
    """One payment to the member by a programme (送温暖, 金秋助学), as the card shows it."""

    programme: str
    programme_label: str
    title: str
    amount_fen: int
    paid_at: datetime


def programme_aid(receipts: list[dict[str, Any]]) -> list[ProgrammeAid]:
    """The receipts relief last sent, newest first. Relief sends them so, but they are sorted here
    again (by time, then payment id) so the card's order never depends on the sender's."""
    ordered = sorted(
        receipts,
        key=lambda r: (datetime.fromisoformat(r["paid_at"]), str(r.get("payment_id", ""))),
        reverse=True,
    )
    return [
        ProgrammeAid(
            programme=r["programme"],
            programme_label=labels.PROGRAMME.get(r["programme"], labels.UNKNOWN_PROGRAMME),
            title=r["title"],
            amount_fen=int(r["amount_fen"]),
            paid_at=datetime.fromisoformat(r["paid_at"]),
        )
        for r in ordered
    ]
