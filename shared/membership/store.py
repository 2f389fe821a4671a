"""A service's own view of the union tree and of membership, kept from enrollment's events.

Every service that needs "is this person an active member, and of which union?" keeps this view
in its own database (tables `unions` and `members`, created by its migrations) instead of asking
the enrollment service: services meet only through events."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.contracts.enrollment import EmploymentType, MembershipStatus, MemberSnapshot, UnionRegistered
from shared.db import Conn


@dataclass(frozen=True)
class UnionRow:
    union_id: uuid.UUID
    name: str
    region: str
    path: list[uuid.UUID]


def _union(row: asyncpg.Record) -> UnionRow:
    return UnionRow(row["union_id"], row["name"], row["region"], list(row["path"]))


async def upsert_union(conn: Conn, e: UnionRegistered) -> None:
    await conn.execute(
        """INSERT INTO unions (union_id, name, kind, parent_id, region, path, path_names)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (union_id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region,
               path = EXCLUDED.path, path_names = EXCLUDED.path_names""",
        e.union_id, e.name, e.kind.value, e.parent_id, e.region,
        [r.union_id for r in e.path], [r.name for r in e.path],
    )  # fmt: skip


async def get_union(conn: Conn, union_id: uuid.UUID) -> UnionRow | None:
    row = await conn.fetchrow("SELECT union_id, name, region, path FROM unions WHERE union_id = $1", union_id)
    return _union(row) if row else None


@dataclass(frozen=True)
class MemberRow:
    member_id: uuid.UUID
    version: int
    name: str
    base_union_id: uuid.UUID
    status: MembershipStatus
    # None: held from before the view kept it, and not refreshed yet (shared/membership/refresh.py).
    employment_type: EmploymentType | None = EmploymentType.EMPLOYEE

    @property
    def active(self) -> bool:
        return self.status is MembershipStatus.ACTIVE


def _member(row: asyncpg.Record) -> MemberRow:
    return MemberRow(
        row["member_id"], row["version"], row["name"], row["base_union_id"], MembershipStatus(row["status"]),
        EmploymentType(row["employment_type"]) if row["employment_type"] else None,
    )  # fmt: skip


async def upsert_member(conn: Conn, version: int, m: MemberSnapshot) -> bool:
    """Keep the newest snapshot; True when this one was newer than what was held."""
    status = await conn.execute(
        """INSERT INTO members (member_id, version, name, base_union_id, status, employment_type)
           SELECT $1, $2, $3, $4, $5, $6
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name,
               base_union_id = EXCLUDED.base_union_id, status = EXCLUDED.status,
               employment_type = EXCLUDED.employment_type, updated_at = now()
           WHERE members.version < EXCLUDED.version""",
        m.member_id, version, m.name, m.base_union_id, m.status.value, m.employment_type.value,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


async def get_member(conn: Conn, member_id: uuid.UUID, *, for_update: bool = False) -> MemberRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM members WHERE member_id = $1{lock}", member_id)
    return _member(row) if row else None


async def erase_member(conn: Conn, member_id: uuid.UUID, version: int, at: datetime) -> None:
    """An erased person's name goes; the id, union and status stay for the records that need them
    (aid paid, decisions, honours), which from then on name no one."""
    # The version moves on and the id is recorded, so an older snapshot delivered late cannot
    # bring the name back, whether or not the member was held yet.
    await conn.execute(
        """WITH e AS (INSERT INTO erased_members (member_id, erased_at) VALUES ($1, $3)
                      ON CONFLICT (member_id) DO NOTHING)
           UPDATE members SET name = '', version = greatest(version, $2), updated_at = now()
           WHERE member_id = $1""",
        member_id, version, at,
    )  # fmt: skip
