"""What the enrollment handlers share: their dependencies and the access checks."""

import uuid
from dataclasses import dataclass, field

import asyncpg

from services.enrollment.handlers.sealing import SealingWriter
from services.enrollment.store import members, unions
from shared.auth import Caller, Role
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.events import Clock, utcnow
from shared.personal_data import Source
from shared.pii import PiiProtector


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    pii: PiiProtector
    events: SealingWriter  # the kit's EventWriter, sealing personal fields
    now: Clock = field(default=utcnow)
    export_sources: tuple[Source, ...] = ()  # the other services' sections of a person's export


def require_scope(caller: Caller, union: unions.UnionRow) -> None:
    if not caller.principal.covers_union(union.path):
        raise Forbidden(f"union {union.name} is outside your scope")


def require_may_register_under(caller: Caller, parent: unions.UnionRow | None) -> None:
    """Only an admin registers a top-level union; a cadre registers below the unions in their scope."""
    if parent is not None:
        require_scope(caller, parent)
    elif caller.principal.role is not Role.ADMIN:
        raise Forbidden("only an admin may register a top-level union")


async def existing_union(conn: Conn, union_id: uuid.UUID) -> unions.UnionRow:
    union = await unions.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} does not exist")
    return union


async def member_in_scope(
    conn: Conn, caller: Caller, member_id: uuid.UUID, *, self_allowed: bool, lock: bool
) -> members.MemberRow:
    """The member, if the caller's scope covers their union (or, where allowed, it is themselves)."""
    member = await existing_member(conn, member_id, lock=lock)
    if self_allowed and caller.principal.is_member(member_id):
        return member
    require_scope(caller, await existing_union(conn, member.membership.base_union_id))
    return member


async def existing_member(conn: Conn, member_id: uuid.UUID, *, lock: bool) -> members.MemberRow:
    member = await members.get_member(conn, member_id, for_update=lock)
    if member is None:
        raise NotFound(f"member {member_id} does not exist")
    return member
