"""SQL for roster imports (import_jobs, import_lines) and the reads their checks need. Every
function takes the connection of the caller's transaction."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from shared.db import Conn


@dataclass(frozen=True)
class ImportJob:
    import_id: uuid.UUID
    union_id: uuid.UUID
    actor: str
    correlation_id: str
    file_name: str
    sha256: bytes
    format: str
    status: str
    total: int
    ok: int
    refused: int
    done: int
    committed_by: str | None
    created_at: datetime
    committed_at: datetime | None


@dataclass(frozen=True)
class LineRow:
    line: int
    outcome: str
    reason: str


@dataclass(frozen=True)
class PendingLine:
    line: int
    row_cipher: bytes


def _job(row: asyncpg.Record) -> ImportJob:
    return ImportJob(**{f: row[f] for f in ImportJob.__dataclass_fields__})


async def insert_job(conn: Conn, job: ImportJob, lines: Sequence[tuple[int, str, str, bytes | None]]) -> None:
    await conn.execute(
        """INSERT INTO import_jobs (import_id, union_id, actor, correlation_id, file_name, sha256, format,
               status, total, ok, refused, done, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12)""",
        job.import_id, job.union_id, job.actor, job.correlation_id, job.file_name, job.sha256, job.format,
        job.status, job.total, job.ok, job.refused, job.created_at,
    )  # fmt: skip
    await conn.copy_records_to_table(
        "import_lines",
        records=[(job.import_id, *line) for line in lines],
        columns=["import_id", "line", "outcome", "reason", "row_cipher"],
    )


async def get_job(conn: Conn, import_id: uuid.UUID, *, for_update: bool = False) -> ImportJob | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM import_jobs WHERE import_id = $1{lock}", import_id)
    return _job(row) if row else None


async def claim_committing(conn: Conn, import_id: uuid.UUID) -> ImportJob | None:
    """The job, locked, if it is committing and no other replica holds it."""
    row = await conn.fetchrow(
        "SELECT * FROM import_jobs WHERE import_id = $1 AND status = 'committing' FOR UPDATE SKIP LOCKED",
        import_id,
    )
    return _job(row) if row else None


async def committing_jobs(conn: Conn) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT import_id FROM import_jobs WHERE status = 'committing' ORDER BY created_at"
    )
    return [r["import_id"] for r in rows]


async def start_commit(conn: Conn, import_id: uuid.UUID, committed_by: str) -> ImportJob:
    row = await conn.fetchrow(
        """UPDATE import_jobs SET status = 'committing', committed_by = $2
           WHERE import_id = $1 RETURNING *""",
        import_id, committed_by,
    )  # fmt: skip
    assert row is not None
    return _job(row)


async def next_lines(conn: Conn, import_id: uuid.UUID, limit: int) -> list[PendingLine]:
    rows = await conn.fetch(
        """SELECT line, row_cipher FROM import_lines
           WHERE import_id = $1 AND outcome = 'ok' AND NOT done ORDER BY line LIMIT $2""",
        import_id, limit,
    )  # fmt: skip
    return [PendingLine(r["line"], r["row_cipher"]) for r in rows]


async def finish_lines(
    conn: Conn,
    import_id: uuid.UUID,
    imported: Sequence[int],
    skipped: Sequence[int],
    imported_reason: str,
    skipped_reason: str,
) -> None:
    """Mark the batch's lines done and forget their personal data; count them in `done`."""
    await conn.execute(
        """WITH l AS (
               UPDATE import_lines SET done = true, row_cipher = NULL,
                   outcome = CASE WHEN line = ANY($3::int[]) THEN 'refused' ELSE outcome END,
                   reason = CASE WHEN line = ANY($3::int[]) THEN $5 ELSE $4 END
               WHERE import_id = $1 AND (line = ANY($2::int[]) OR line = ANY($3::int[])))
           UPDATE import_jobs SET done = done + cardinality($2::int[]) + cardinality($3::int[])
           WHERE import_id = $1""",
        import_id, list(imported), list(skipped), imported_reason, skipped_reason,
    )  # fmt: skip


async def complete(conn: Conn, import_id: uuid.UUID, at: datetime) -> None:
    await conn.execute(
        """WITH l AS (UPDATE import_lines SET row_cipher = NULL
                      WHERE import_id = $1 AND row_cipher IS NOT NULL)
           UPDATE import_jobs SET status = 'committed', committed_at = $2, purged_at = $2
           WHERE import_id = $1""",
        import_id, at,
    )  # fmt: skip


async def fail(conn: Conn, import_id: uuid.UUID) -> None:
    await conn.execute("UPDATE import_jobs SET status = 'failed' WHERE import_id = $1", import_id)


async def purge_older_than(conn: Conn, before: datetime, at: datetime) -> int:
    """Forget the checked rows of jobs created before `before` (the 7-day rule); how many jobs."""
    rows = await conn.fetch(
        """WITH j AS (
               UPDATE import_jobs SET purged_at = $2
               WHERE purged_at IS NULL AND created_at < $1 AND status <> 'committing'
               RETURNING import_id)
           UPDATE import_lines l SET row_cipher = NULL FROM j
           WHERE l.import_id = j.import_id AND l.row_cipher IS NOT NULL
           RETURNING j.import_id""",
        before, at,
    )  # fmt: skip
    return len({r["import_id"] for r in rows})


async def is_purged(conn: Conn, import_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval("SELECT purged_at IS NOT NULL FROM import_jobs WHERE import_id = $1", import_id)
    )


async def lines(
    conn: Conn, import_id: uuid.UUID, outcome: str | None, after: int | None, limit: int
) -> list[LineRow]:
    rows = await conn.fetch(
        """SELECT line, outcome, reason FROM import_lines
           WHERE import_id = $1 AND ($2::text IS NULL OR outcome = $2) AND ($3::int IS NULL OR line > $3)
           ORDER BY line LIMIT $4""",
        import_id, outcome, after, limit,
    )  # fmt: skip
    return [LineRow(r["line"], r["outcome"], r["reason"]) for r in rows]


# Reads the checks need -----------------------------------------------------------------------


@dataclass(frozen=True)
class UnionFacts:
    union_id: uuid.UUID
    name: str
    kind: str
    path: list[uuid.UUID]


async def unions_for_check(conn: Conn, scope: uuid.UUID, named_ids: Sequence[uuid.UUID]) -> list[UnionFacts]:
    """The unions of the scope's subtree, and the unions the file names by id anywhere."""
    rows = await conn.fetch(
        """SELECT union_id, name, kind, path FROM unions
           WHERE path @> ARRAY[$1::uuid] OR union_id = ANY($2::uuid[])""",
        scope, list(named_ids),
    )  # fmt: skip
    return [UnionFacts(r["union_id"], r["name"], r["kind"], list(r["path"])) for r in rows]


@dataclass(frozen=True)
class KnownPerson:
    national_id_hash: bytes
    active_union_path: list[uuid.UUID] | None  # the active membership's base union
    pending_union_path: list[uuid.UUID] | None  # the pending application's base union


async def known_persons(conn: Conn, hashes: Sequence[bytes]) -> list[KnownPerson]:
    """The persons of these keyed hashes with an active membership or a pending application."""
    rows = await conn.fetch(
        """SELECT p.national_id_hash, mu.path AS active_path, au.path AS pending_path
           FROM persons p
           LEFT JOIN members m ON m.member_id = p.person_id AND m.status = 'active'
           LEFT JOIN unions mu ON mu.union_id = m.base_union_id
           LEFT JOIN applications a ON a.person_id = p.person_id AND a.status = 'pending'
           LEFT JOIN unions au ON au.union_id = a.base_union_id
           WHERE p.national_id_hash = ANY($1::bytea[]) AND p.erased_at IS NULL
             AND (m.member_id IS NOT NULL OR a.application_id IS NOT NULL)""",
        list(hashes),
    )  # fmt: skip
    return [
        KnownPerson(
            r["national_id_hash"],
            list(r["active_path"]) if r["active_path"] is not None else None,
            list(r["pending_path"]) if r["pending_path"] is not None else None,
        )
        for r in rows
    ]


# The member list export -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListedMember:
    name: str
    national_id_masked: str
    phone: str
    card_number: str
    membership_number: str
    base_union_name: str
    status: str
    member_since: date


async def members_of_subtree(conn: Conn, union_id: uuid.UUID) -> list[ListedMember]:
    rows = await conn.fetch(
        """SELECT m.name, p.national_id_masked, m.phone, m.card_number, m.membership_number,
                  u.name AS base_union_name, m.status, m.member_since
           FROM members m
           JOIN unions u ON u.union_id = m.base_union_id
           JOIN persons p ON p.person_id = m.member_id
           WHERE u.path @> ARRAY[$1::uuid] AND p.erased_at IS NULL
           ORDER BY u.name, m.membership_number""",
        union_id,
    )  # fmt: skip
    return [ListedMember(**dict(r)) for r in rows]
