"""Union commands: registering a union in the tree."""

import uuid
from dataclasses import dataclass, field

from services.enrollment.domain.unions import check_child_kind, union_name, union_region
from services.enrollment.handlers.common import Deps, existing_union, require_may_register_under
from services.enrollment.store import unions
from shared import audit
from shared.auth import Caller
from shared.contracts.enrollment import UnionKind, UnionRegistered
from shared.errors import Conflict
from shared.events import Trace


@dataclass(frozen=True)
class RegisterUnion:
    name: str
    kind: UnionKind
    parent_id: uuid.UUID | None
    region: str | None
    union_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def register_union(deps: Deps, caller: Caller, cmd: RegisterUnion) -> unions.UnionRow:
    name = union_name(cmd.name)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        parent = await existing_union(conn, cmd.parent_id) if cmd.parent_id else None
        require_may_register_under(caller, parent)
        check_child_kind(parent.kind if parent else None, cmd.kind)
        union = unions.UnionRow(
            union_id=cmd.union_id,
            name=name,
            kind=cmd.kind,
            parent_id=parent.union_id if parent else None,
            region=union_region(cmd.region, parent.region if parent else None),
            path=[*(parent.path if parent else []), cmd.union_id],
            path_names=[*(parent.path_names if parent else []), name],
        )
        if not await unions.insert_union(conn, union):
            # Nothing was written: no trail entry, no UnionRegistered, no 201 (a phantom id).
            existing = await unions.sibling_named(conn, union.parent_id, name)
            raise Conflict(
                f"a union named {name} already exists there",
                existing_union_id=str(existing) if existing else None,
            )
        version = await audit.record_and_next_version(
            conn, trace, union.union_id, "union.registered", str(union.union_id), name=name
        )
        payload = UnionRegistered(
            union_id=union.union_id, name=name, kind=union.kind, parent_id=union.parent_id,
            region=union.region, path=union.refs,
        )  # fmt: skip
        await deps.events.emit(conn, trace, union.union_id, payload, version=version)
        return union
