"""GET /cards/{member_id}/inbox: the member's own inbox (消息), newest first.

Items come from events (domain/inbox.py) and, for a legal case whose next deadline is at most
three days away, from the card's legal cases at read time. Only the member reads it: the inbox
tells of hardship cases and disputes, which a cadre reads in the owning services."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.projector.api.deps import Deps
from services.projector.domain import inbox
from services.projector.store.inbox import inbox_page
from shared.auth import CurrentPrincipal
from shared.errors import Forbidden, InvalidInput
from shared.http import deps_of
from shared.inputs import StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)

After = Annotated[
    str | None, Query(max_length=200, description="`next_after` (or any item's `seq`) of the previous page")
]


class InboxItem(BaseModel):
    seq: str = Field(
        description="the item's place in the inbox, opaque: pass it as `after` to read older ones"
    )
    kind: inbox.Kind = Field(description="what it is about (application, relief, legal, deadline ...)")
    title: str = Field(description="the headline, in Chinese")
    body: str = Field(description="what happened and the next step, in Chinese")
    occurred_at: datetime


class InboxOut(BaseModel):
    items: list[InboxItem]
    next_after: str | None = Field(description="pass as `after` for the next (older) page; null at the end")


def _item(listed: inbox.Listed) -> InboxItem:
    return InboxItem(
        seq=inbox.encode_cursor(inbox.position(listed)),
        kind=inbox.Kind(listed.kind),
        title=listed.title,
        body=listed.body,
        occurred_at=listed.occurred_at,
    )


@router.get("/cards/{member_id}/inbox", tags=["cards"], responses=problems(403))
async def get_inbox(
    member_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_LIMIT)] = inbox.DEFAULT_LIMIT,
) -> InboxOut:
    """The member's own inbox, newest first, `limit` items a page; `next_after` continues with
    the older ones. Anyone but the member themself gets 403 (whatever the id: nothing is probed)."""
    if not principal.is_member(member_id):
        raise Forbidden("the inbox is the member's own: only they read it")
    try:
        position = inbox.decode_cursor(after) if after is not None else None
    except inbox.InvalidCursor as exc:
        raise InvalidInput(str(exc)) from None
    deps = deps_of(request, Deps)
    today = inbox.today_in_china(datetime.now(UTC))
    async with deps.pool.acquire() as conn:
        stored, cases = await inbox_page(conn, deps.live_schema, member_id, position, limit, today)
    listed = [inbox.Listed(r["event_id"], r["occurred_at"], r["kind"], r["title"], r["body"]) for r in stored]
    near = [
        item
        for c in cases
        if (item := inbox.deadline_item(
            c["case_id"], c["case_no"], c["kind"], c["next_deadline"], c["next_due_on"], today
        )) is not None
    ]  # fmt: skip
    shown = inbox.page(listed, near, position, limit)
    # A full page may have more behind it; a short one is the end.
    next_after = inbox.encode_cursor(inbox.position(shown[-1])) if len(shown) == limit else None
    return InboxOut(items=[_item(x) for x in shown], next_after=next_after)
