"""SQL for the union tree. Every function takes the connection of the caller's transaction."""

import uuid
from dataclasses import dataclass

import asyncpg

from shared.contracts.enrollment import UnionKind, UnionRef
from shared.db import Conn


@dataclass(frozen=True)
class UnionRow:
    union_id: uuid.UUID
    name: str
    kind: UnionKind
    parent_id: uuid.UUID | None
    region: str
    path: list[uuid.UUID]  # root .. this union
    path_names: list[str]

    @property
    def refs(self) -> list[UnionRef]:
        return [UnionRef(union_id=u, name=n) for u, n in zip(self.path, self.path_names, strict=True)]


def _union(row: asyncpg.Record) -> UnionRow:
    return UnionRow(
        union_id=row["union_id"],
        name=row["name"],
        kind=UnionKind(row["kind"]),
        parent_id=row["parent_id"],
        region=row["region"],
        path=list(row["path"]),
        path_names=list(row["path_names"]),
    )


async def get_union(conn: Conn, union_id: uuid.UUID) -> UnionRow | None:
    row = await conn.fetchrow("SELECT * FROM unions WHERE union_id = $1", union_id)
    return _union(row) if row else None


async def insert_union(conn: Conn, union: UnionRow) -> bool:
    """False when a union of that id, or of that name under the same parent, exists already:
    nothing was written then, so the caller must not announce it."""
    row = await conn.fetchrow(
        """INSERT INTO unions (union_id, name, kind, parent_id, region, path, path_names)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING union_id""",
        union.union_id, union.name, union.kind.value, union.parent_id, union.region,
        union.path, union.path_names,
    )  # fmt: skip
    return row is not None


async def sibling_named(conn: Conn, parent_id: uuid.UUID | None, name: str) -> uuid.UUID | None:
    """The union of that name under that parent (None: top level), as the unique index sees it."""
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT union_id FROM unions WHERE parent_id IS NOT DISTINCT FROM $1 AND name = $2", parent_id, name
    )
    return found


async def subtree(conn: Conn, union_id: uuid.UUID) -> list[UnionRow]:
    rows = await conn.fetch(
        "SELECT * FROM unions WHERE path @> ARRAY[$1::uuid] ORDER BY array_length(path, 1), name",
        union_id,
    )
    return [_union(r) for r in rows]


async def directory(
    conn: Conn, words: str | None, region_prefix: str | None, after: uuid.UUID | None, limit: int
) -> list[UnionRow]:
    """Base unions (the ones a worker joins) whose name or whose parents' names contain `words`
    (a plain substring: no pattern characters), in a region starting with `region_prefix`, by id."""
    rows = await conn.fetch(
        """
        SELECT * FROM unions
        WHERE kind = 'base'
          AND ($1::text IS NULL OR strpos(lower(array_to_string(path_names, ' ')), lower($1)) > 0)
          AND ($2::text IS NULL OR starts_with(region, $2))
          AND ($3::uuid IS NULL OR union_id > $3)
        ORDER BY union_id
        LIMIT $4
        """,
        words, region_prefix, after, limit,
    )  # fmt: skip
    return [_union(r) for r in rows]
