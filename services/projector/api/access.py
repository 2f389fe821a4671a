"""Who may read a member's card (and what hangs off it): the member, a cadre of their union or
above, an admin. The one check every card route makes."""

import uuid
from typing import Any

from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound


def refuse_other_members(principal: Principal, member_id: uuid.UUID) -> bool:
    """True if the caller is the member; a member asking for anyone else gets 404 (the same answer
    as for an id with no card: a member cannot probe which ids exist)."""
    own = principal.is_member(member_id)
    if principal.role is Role.MEMBER and not own:
        raise NotFound(f"no card for member {member_id}")
    return own


def require_readable(
    principal: Principal, member_id: uuid.UUID, row: dict[str, Any] | None, own: bool
) -> dict[str, Any]:
    """The card's row if the caller may read it; 404 without a card, 403 out of scope. `own` is
    what refuse_other_members answered (asked first: it decides what the card read fetches)."""
    if row is None:
        if own:
            raise NotFound("no card yet: your application may still be on its way")
        raise NotFound(f"no card for member {member_id}")
    if not own:
        path = row["union_path"] or row["application_union_path"] or []
        if not principal.covers_union(path):
            raise Forbidden("this member is outside your scope")
    return row
