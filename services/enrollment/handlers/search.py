"""Member search for cadres: within their subtree, names shown, IDs only masked."""

import uuid

from services.enrollment.domain.search import member_query
from services.enrollment.handlers.common import Deps
from services.enrollment.handlers.employers import union_in_scope
from services.enrollment.store import search
from shared.auth import Caller
from shared.errors import Forbidden


async def search_members(
    deps: Deps, caller: Caller, words: str, union_id: uuid.UUID | None, limit: int
) -> list[search.FoundMember]:
    """Members of `union_id`'s subtree (default: the cadre's own union; an admin without one
    searches everywhere) that `words` find."""
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden("只有工会干部可以查找会员")
    query = member_query(words)
    scope = union_id or caller.principal.union_id
    async with deps.pool.acquire() as conn:
        if scope is not None:
            await union_in_scope(conn, caller, scope)
        return await search.search_members(conn, scope, query, limit)
