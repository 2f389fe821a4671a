"""Reads of the reports' read model (in a `generations.reading` transaction). A subtree is the
unions whose path holds its root (`path @> ARRAY[root]`, the GIN index on unions.path)."""

import uuid
from dataclasses import dataclass
from datetime import date

from shared.db import Conn

SUBTREE = "JOIN unions su ON su.union_id = {col} AND su.path @> ARRAY[$1]::uuid[]"
# Relief cases counted as current households: every case not closed and not suspended.
CLOSED_RELIEF = ("declined", "exited", "withdrawn", "suspended")


@dataclass(frozen=True)
class UnionInfo:
    union_id: uuid.UUID
    name: str
    path: list[uuid.UUID]


async def union(conn: Conn, union_id: uuid.UUID) -> UnionInfo | None:
    row = await conn.fetchrow("SELECT union_id, name, path FROM unions WHERE union_id = $1", union_id)
    return UnionInfo(row["union_id"], row["name"], list(row["path"])) if row else None


@dataclass(frozen=True)
class CoverageRow:
    union_id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    depth: int
    kind: str
    members: int
    employers: int
    employers_should: int
    employers_with_union: int
    workforce: int
    workforce_covered: int


async def coverage(conn: Conn, root: uuid.UUID, max_depth: int | None = None) -> list[CoverageRow]:
    """Each union of root's subtree (to max_depth below root) with its own subtree's figures:
    active members; employers it or a union below it is responsible for, those that should have a
    union, those of them with one; their workforce, and that of the employers with a union."""
    rows = await conn.fetch(
        """WITH nodes AS (
               SELECT union_id, parent_id, path, name, kind,
                      cardinality(path) - array_position(path, $1) AS depth
               FROM unions WHERE path @> ARRAY[$1]::uuid[]),
           mem AS (SELECT base_union_id AS u, count(*) AS n FROM members WHERE status = 'active' GROUP BY 1),
           emp AS (SELECT responsible_union_id AS u, count(*) AS employers,
                          count(*) FILTER (WHERE should_have_union) AS should,
                          count(*) FILTER (WHERE should_have_union
                                                   AND base_union_id IS NOT NULL) AS with_union,
                          sum(workforce) AS workforce,
                          coalesce(sum(workforce) FILTER (WHERE base_union_id IS NOT NULL), 0) AS covered
                   FROM employers GROUP BY 1),
           own AS (SELECT n.union_id, n.path, coalesce(mem.n, 0) AS members,
                          coalesce(emp.employers, 0) AS employers, coalesce(emp.should, 0) AS should,
                          coalesce(emp.with_union, 0) AS with_union, coalesce(emp.workforce, 0) AS workforce,
                          coalesce(emp.covered, 0) AS covered
                   FROM nodes n LEFT JOIN mem ON mem.u = n.union_id LEFT JOIN emp ON emp.u = n.union_id)
           SELECT n.union_id, n.name, n.parent_id, n.depth, n.kind,
                  sum(o.members) AS members, sum(o.employers) AS employers, sum(o.should) AS should,
                  sum(o.with_union) AS with_union, sum(o.workforce) AS workforce, sum(o.covered) AS covered
           FROM nodes n JOIN own o ON o.path @> ARRAY[n.union_id]
           WHERE $2::int IS NULL OR n.depth <= $2
           GROUP BY n.union_id, n.name, n.parent_id, n.depth, n.kind, n.path
           ORDER BY n.depth, n.name, n.union_id""",
        root, max_depth,
    )  # fmt: skip
    return [
        CoverageRow(
            r["union_id"],
            r["name"],
            r["parent_id"],
            int(r["depth"]),
            r["kind"],
            int(r["members"]),
            int(r["employers"]),
            int(r["should"]),
            int(r["with_union"]),
            int(r["workforce"]),
            int(r["covered"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Flow:
    measure: str
    dim: str
    month: date
    count: int  # facts
    amount: int  # their sum (fen for money measures; the count otherwise)


async def flows(conn: Conn, root: uuid.UUID, measures: list[str], start: date, end: date) -> list[Flow]:
    """The monthly facts of these measures in root's subtree, months start..end included."""
    rows = await conn.fetch(
        f"""SELECT f.measure, f.dim, f.month, count(*) AS n, sum(f.amount) AS amount
            FROM facts f {SUBTREE.format(col="f.union_id")}
            WHERE f.measure = ANY($2::text[]) AND f.month BETWEEN $3 AND $4
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        root, measures, start, end,
    )  # fmt: skip
    return [Flow(r["measure"], r["dim"], r["month"], int(r["n"]), int(r["amount"])) for r in rows]


async def totals_before(conn: Conn, root: uuid.UUID, measures: list[str], before: date) -> dict[str, int]:
    """The sum of each measure's facts in root's subtree in every month before `before`."""
    rows = await conn.fetch(
        f"""SELECT f.measure, sum(f.amount) AS amount
            FROM facts f {SUBTREE.format(col="f.union_id")}
            WHERE f.measure = ANY($2::text[]) AND f.month < $3
            GROUP BY 1""",
        root, measures, before,
    )  # fmt: skip
    return {r["measure"]: int(r["amount"]) for r in rows}


async def relief_households(conn: Conn, root: uuid.UUID) -> list[tuple[str | None, str | None, int]]:
    """(tier, cause, households) of the current cases in root's subtree: a case with several
    causes counts once under each; a case whose causes are not known under None."""
    rows = await conn.fetch(
        f"""SELECT c.tier, cause, count(*) AS n
            FROM relief_cases c {SUBTREE.format(col="c.union_id")}
            LEFT JOIN LATERAL unnest(CASE WHEN cardinality(c.causes) > 0 THEN c.causes
                                          ELSE ARRAY[NULL]::text[] END) AS cause ON true
            WHERE c.status <> ALL($2::text[])
            GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2 NULLS LAST""",
        root, list(CLOSED_RELIEF),
    )  # fmt: skip
    return [(r["tier"], r["cause"], int(r["n"])) for r in rows]


async def relief_by_tier(conn: Conn, root: uuid.UUID) -> dict[str | None, int]:
    rows = await conn.fetch(
        f"""SELECT c.tier, count(*) AS n FROM relief_cases c {SUBTREE.format(col="c.union_id")}
            WHERE c.status <> ALL($2::text[]) GROUP BY 1""",
        root, list(CLOSED_RELIEF),
    )  # fmt: skip
    return {r["tier"]: int(r["n"]) for r in rows}


async def budgets(conn: Conn, root: uuid.UUID, years: list[int]) -> dict[str, int]:
    """The budgets of root's subtree for those years, summed per aid type (fen)."""
    rows = await conn.fetch(
        f"""SELECT b.aid_type, sum(b.total_fen) AS total FROM budgets b {SUBTREE.format(col="b.union_id")}
            WHERE b.year = ANY($2::int[]) GROUP BY 1""",
        root, years,
    )  # fmt: skip
    return {r["aid_type"]: int(r["total"]) for r in rows}


async def disputes_by_stage(conn: Conn, root: uuid.UUID) -> dict[str, int]:
    rows = await conn.fetch(
        f"""SELECT l.stage, count(*) AS n FROM legal_cases l {SUBTREE.format(col="l.union_id")} GROUP BY 1""",
        root,
    )
    return {r["stage"]: int(r["n"]) for r in rows}
