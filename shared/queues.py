"""Work queues (工作待办): the one shape every service's queue answers in, the scope a queue is
read in, urgency ordering and paging. Each service decides what puts an item in its queues and
which of its own endpoints act on it (its domain/queues.py); the cadre console shows them all.

An item names the owning service's path; the console calls it through the web forwarder
(`/api/{service}{path}`). `body_hint` names the fields the action takes ("text", "date", a list
of allowed values) or, for a field the item fixes, its value."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Caller, Role
from shared.errors import Forbidden, InvalidInput
from shared.events import CHINA

# The most items a queue reads before ordering them: a work queue is a to-do list, not a report.
QUEUE_CAP = 1000


class QueueAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: str = Field(description="a stable name the console may branch on (approve, answer ...)")
    label: str = Field(description="what the button says, in Chinese")
    method: str = "POST"
    path: str = Field(description="the owning service's path (through the forwarder: /api/{service}{path})")
    body_hint: dict[str, Any] = Field(default_factory=dict)


class QueueItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="stable while the item waits: kind and record")
    kind: str
    title: str = Field(description="in Chinese; no personal data beyond what the caller may see")
    subject_id: uuid.UUID
    union_id: uuid.UUID
    due_at: datetime | None
    # What due_at is, in words: a deadline (截止), or for a queue in the order things came, when
    # the item was asked (申请于).
    due_label: str = "截止"
    state_label: str
    can_act: bool = True
    blocked_reason: str | None = None
    actions: list[QueueAction] = Field(default_factory=list)


class QueuePage(BaseModel):
    items: list[QueueItem]
    next: str | None = Field(description="pass as `after` for the next page; null at the end")


def end_of_day(day: date) -> datetime:
    """A deadline day as a moment: its last second in China (the day shown is the day due)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=CHINA)


def queue_root(caller: Caller, union_id: uuid.UUID | None) -> uuid.UUID:
    """The union whose subtree the queue covers: the one asked for (the service then checks the
    caller's scope), else a cadre's own union. An admin names one: a queue of every union in
    the country is no one's work."""
    principal = caller.principal
    if principal.role not in (Role.CADRE, Role.ADMIN):
        raise Forbidden("工作待办仅供工会干部查看")
    if union_id is not None:
        return union_id
    if principal.role is Role.CADRE and principal.union_id is not None:
        return principal.union_id
    raise InvalidInput("请指定要查看的工会(union_id)")


def _urgency(item: QueueItem) -> tuple[bool, bool, datetime, str]:
    # Actionable first; then the nearest (or most overdue) due time; items without one last.
    far = datetime.max.replace(tzinfo=CHINA)
    return (not item.can_act, item.due_at is None, item.due_at or far, item.id)


def by_urgency(items: Iterable[QueueItem]) -> list[QueueItem]:
    return sorted(items, key=_urgency)


def page(items: Sequence[QueueItem], after: int, limit: int) -> QueuePage:
    """One page of an ordered queue; the cursor is the position to continue from."""
    chunk = list(items[after : after + limit])
    more = after + limit < len(items)
    return QueuePage(items=chunk, next=str(after + limit) if more else None)
