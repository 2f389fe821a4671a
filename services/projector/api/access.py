"""Who may read a member's card (and what hangs off it): the member, a cadre of their union or
above, an admin. The one check every card route makes."""

import uuid
from typing import Any

import asyncpg
from fastapi import Request

from services.projector.store import cards
from shared.auth import Principal, Role, forbid
from shared.db import Conn
from shared.errors import NotFound


def pool_of(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def refuse_other_members(principal: Principal, member_id: uuid.UUID) -> bool:
    """True if the caller is the member; a member asking for anyone else gets 404 (the same answer
    as for an id with no card: a member cannot probe which ids exist)."""
    own = principal.is_member(member_id)
    if principal.role is Role.MEMBER and not own:
        raise NotFound(f"no card for member {member_id}")
    return own


async def readable_card(
    conn: Conn, principal: Principal, member_id: uuid.UUID
) -> tuple[dict[str, Any], bool]:
    """The card's row and whether the caller is the member; 404 without a card, 403 out of scope."""
    own = refuse_other_members(principal, member_id)
    row = await cards.get_card(conn, member_id)
    if row is None:
        if own:
            raise NotFound("no card yet: your application may still be on its way")
        raise NotFound(f"no card for member {member_id}")
    if not own:
        path = row["union_path"] or row["application_union_path"] or []
        if not principal.covers_union(path):
            raise forbid("this member is outside your scope")
    return row, own
