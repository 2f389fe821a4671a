"""Reads of the enrollment service: the union tree, applications, a member, transfer inboxes."""

import uuid

from services.enrollment.domain.applications import ApplicationStatus
from services.enrollment.domain.transfers import Direction, Transfer
from services.enrollment.handlers.common import Deps, existing_union, member_in_scope, require_scope
from services.enrollment.store import applications, members, transfers, unions
from shared.auth import Caller
from shared.contracts.enrollment import TransferStatus
from shared.regions import region_prefix


async def union_subtree(deps: Deps, caller: Caller, union_id: uuid.UUID) -> list[unions.UnionRow]:
    async with deps.pool.acquire() as conn:
        require_scope(caller, await existing_union(conn, union_id))
        return await unions.subtree(conn, union_id)


async def list_applications(
    deps: Deps, caller: Caller, union_id: uuid.UUID, status: ApplicationStatus | None, limit: int
) -> list[applications.ApplicationRow]:
    async with deps.pool.acquire() as conn:
        require_scope(caller, await existing_union(conn, union_id))
        return await applications.list_applications(conn, union_id, status, limit)


async def get_member(deps: Deps, caller: Caller, member_id: uuid.UUID) -> members.MemberRow:
    async with deps.pool.acquire() as conn:
        return await member_in_scope(conn, caller, member_id, self_allowed=True, lock=False)


async def list_transfers(
    deps: Deps,
    caller: Caller,
    union_id: uuid.UUID,
    direction: Direction,
    status: TransferStatus | None,
    limit: int,
) -> list[Transfer]:
    async with deps.pool.acquire() as conn:
        require_scope(caller, await existing_union(conn, union_id))
        return await transfers.inbox(conn, union_id, direction, status, limit)


async def union_directory(
    deps: Deps, words: str | None, region: str | None, after: uuid.UUID | None, limit: int
) -> list[unions.UnionRow]:
    """The public directory of base unions (我要入会 chooses one): names and regions only."""
    async with deps.pool.acquire() as conn:
        return await unions.directory(conn, words, region_prefix(region) if region else None, after, limit)
