"""SQL for 金秋助学: windows, evidence files, applications and their objections."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.relief.domain.student_aid import ApplicationStatus, EligibleBy, Evidence
from shared.contracts.relief_programmes import SchoolType
from shared.db import Conn

# Windows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowRow:
    window_id: uuid.UUID
    union_id: uuid.UUID
    union_name: str | None
    union_path: list[uuid.UUID]
    academic_year: int
    title: str
    opens_at: datetime
    closes_at: datetime
    amounts_fen: dict[SchoolType, int]
    disclosure_days: int
    created_by: str
    created_at: datetime
    closed_at: datetime | None


_WINDOW = """SELECT w.*, u.name AS union_name, coalesce(u.path, ARRAY[w.union_id]) AS union_path
             FROM student_aid_windows w LEFT JOIN unions u ON u.union_id = w.union_id"""


def _window(r: asyncpg.Record) -> WindowRow:
    amounts = {SchoolType(k): int(v) for k, v in json.loads(r["amounts_fen"]).items()}
    return WindowRow(
        r["window_id"], r["union_id"], r["union_name"], list(r["union_path"]), r["academic_year"], r["title"],
        r["opens_at"], r["closes_at"], {t: amounts[t] for t in SchoolType if t in amounts},
        r["disclosure_days"], r["created_by"], r["created_at"], r["closed_at"],
    )  # fmt: skip


async def insert_window(conn: Conn, w: WindowRow) -> None:
    await conn.execute(
        """INSERT INTO student_aid_windows (window_id, union_id, academic_year, title, opens_at, closes_at,
               amounts_fen, disclosure_days, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)""",
        w.window_id, w.union_id, w.academic_year, w.title, w.opens_at, w.closes_at,
        json.dumps({t.value: fen for t, fen in w.amounts_fen.items()}), w.disclosure_days, w.created_by,
        w.created_at,
    )  # fmt: skip


async def get_window(conn: Conn, window_id: uuid.UUID, *, for_share: bool = False) -> WindowRow | None:
    # FOR SHARE OF w: an application waits for the timer closing its window, and sees it closed.
    lock = " FOR SHARE OF w" if for_share else ""
    row = await conn.fetchrow(f"{_WINDOW} WHERE w.window_id = $1{lock}", window_id)
    return _window(row) if row else None


async def close_window(conn: Conn, window_id: uuid.UUID, at: datetime) -> bool:
    status = await conn.execute(
        "UPDATE student_aid_windows SET closed_at = $2 WHERE window_id = $1 AND closed_at IS NULL",
        window_id,
        at,
    )
    return status == "UPDATE 1"


async def windows_concerning(
    conn: Conn, union_id: uuid.UUID, path: list[uuid.UUID], open_at: datetime | None, after: int, limit: int
) -> list[WindowRow]:
    """Windows of the union, of a union above it (its members apply there) or inside its subtree;
    with `open_at`, only those open then."""
    rows = await conn.fetch(
        f"""{_WINDOW}
            WHERE (w.union_id = ANY($2::uuid[]) OR $1 = ANY(u.path))
              AND ($3::timestamptz IS NULL
                   OR (w.closed_at IS NULL AND w.opens_at <= $3 AND $3 < w.closes_at))
            ORDER BY w.opens_at DESC, w.window_id OFFSET $4 LIMIT $5""",
        union_id, path, open_at, after, limit,
    )  # fmt: skip
    return [_window(r) for r in rows]


# Evidence ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    file_id: uuid.UUID
    file_name: str
    content_type: str
    size: int
    sha256: bytes
    uploaded_by: str
    uploader_member_id: uuid.UUID | None
    uploaded_at: datetime

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()


_EVIDENCE_COLUMNS = (
    "file_id, file_name, content_type, size, sha256, uploaded_by, uploader_member_id, uploaded_at"
)


def _evidence(r: asyncpg.Record) -> EvidenceRow:
    return EvidenceRow(
        r["file_id"], r["file_name"], r["content_type"], r["size"], bytes(r["sha256"]), r["uploaded_by"],
        r["uploader_member_id"], r["uploaded_at"],
    )  # fmt: skip


async def insert_evidence(
    conn: Conn,
    file_id: uuid.UUID,
    e: Evidence,
    data: bytes,
    by: str,
    member_id: uuid.UUID | None,
    at: datetime,
) -> EvidenceRow:
    row = await conn.fetchrow(
        f"""INSERT INTO student_aid_evidence (file_id, file_name, content_type, size, sha256, data,
                uploaded_by, uploader_member_id, uploaded_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_EVIDENCE_COLUMNS}""",
        file_id, e.file_name, e.content_type, e.size, e.sha256, data, by, member_id, at,
    )  # fmt: skip
    assert row is not None
    return _evidence(row)


async def get_evidence(conn: Conn, file_id: uuid.UUID) -> EvidenceRow | None:
    row = await conn.fetchrow(
        f"SELECT {_EVIDENCE_COLUMNS} FROM student_aid_evidence WHERE file_id = $1", file_id
    )
    return _evidence(row) if row else None


async def evidence_bytes(conn: Conn, file_id: uuid.UUID) -> bytes:
    return bytes(await conn.fetchval("SELECT data FROM student_aid_evidence WHERE file_id = $1", file_id))


async def applications_with_evidence(
    conn: Conn, file_id: uuid.UUID
) -> list[tuple[uuid.UUID, list[uuid.UUID]]]:
    """(member, union path) of each application the file is the evidence of."""
    rows = await conn.fetch(
        """SELECT a.member_id, coalesce(u.path, ARRAY[a.union_id]) AS path
           FROM student_aid_applications a LEFT JOIN unions u ON u.union_id = a.union_id
           WHERE a.evidence_file_id = $1""",
        file_id,
    )
    return [(r["member_id"], list(r["path"])) for r in rows]


# Applications -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationRow:
    application_id: uuid.UUID
    window_id: uuid.UUID
    window_title: str
    academic_year: int
    member_id: uuid.UUID
    member_name: str
    union_id: uuid.UUID
    union_name: str | None
    union_path: list[uuid.UUID]
    student_name: str
    school_name: str
    school_type: SchoolType
    admission_year: int
    amount_fen: int
    eligible_by: EligibleBy
    household_size: int | None
    monthly_income_fen: int | None
    evidence_file_id: uuid.UUID
    status: ApplicationStatus
    decision_reason: str | None
    filed_by: str
    filed_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    disclosure_ends_at: datetime | None
    approved_at: datetime | None
    payment_id: uuid.UUID | None
    budget_union_id: uuid.UUID | None
    paid_by: str | None
    paid_at: datetime | None
    request_hash: bytes | None


_APPLICATION = """SELECT a.*, w.title AS window_title, coalesce(m.name, '') AS member_name,
                         u.name AS union_name, coalesce(u.path, ARRAY[a.union_id]) AS union_path
                  FROM student_aid_applications a
                  JOIN student_aid_windows w ON w.window_id = a.window_id
                  LEFT JOIN members m ON m.member_id = a.member_id
                  LEFT JOIN unions u ON u.union_id = a.union_id"""


def _application(r: asyncpg.Record) -> ApplicationRow:
    return ApplicationRow(
        r["application_id"], r["window_id"], r["window_title"], r["academic_year"], r["member_id"],
        r["member_name"], r["union_id"], r["union_name"], list(r["union_path"]), r["student_name"],
        r["school_name"], SchoolType(r["school_type"]), r["admission_year"], r["amount_fen"],
        EligibleBy(r["eligible_by"]), r["household_size"], r["monthly_income_fen"], r["evidence_file_id"],
        ApplicationStatus(r["status"]), r["decision_reason"], r["filed_by"], r["filed_at"], r["reviewed_by"],
        r["reviewed_at"], r["disclosure_ends_at"], r["approved_at"], r["payment_id"], r["budget_union_id"],
        r["paid_by"], r["paid_at"], bytes(r["request_hash"]) if r["request_hash"] is not None else None,
    )  # fmt: skip


@dataclass(frozen=True)
class NewApplication:
    application_id: uuid.UUID
    window_id: uuid.UUID
    academic_year: int
    member_id: uuid.UUID
    union_id: uuid.UUID
    student_name: str
    student_hash: bytes
    school_name: str
    school_type: SchoolType
    admission_year: int
    amount_fen: int
    eligible_by: EligibleBy
    household_size: int | None
    monthly_income_fen: int | None
    evidence_file_id: uuid.UUID
    filed_by: str
    filed_at: datetime


async def insert_application(conn: Conn, a: NewApplication) -> None:
    await conn.execute(
        """INSERT INTO student_aid_applications (application_id, window_id, academic_year, member_id,
               union_id, student_name, student_hash, school_name, school_type, admission_year, amount_fen,
               eligible_by, household_size, monthly_income_fen, evidence_file_id, status, filed_by, filed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'submitted', $16,
                   $17)""",
        a.application_id, a.window_id, a.academic_year, a.member_id, a.union_id, a.student_name,
        a.student_hash,
        a.school_name, a.school_type.value, a.admission_year, a.amount_fen, a.eligible_by.value,
        a.household_size, a.monthly_income_fen, a.evidence_file_id, a.filed_by, a.filed_at,
    )  # fmt: skip


async def student_has_live_application(conn: Conn, student_hash: bytes, academic_year: int) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT FROM student_aid_applications
                              WHERE student_hash = $1 AND academic_year = $2 AND status <> 'declined')""",
            student_hash,
            academic_year,
        )
    )


async def get_application(
    conn: Conn, application_id: uuid.UUID, *, for_update: bool = False
) -> ApplicationRow | None:
    lock = " FOR UPDATE OF a" if for_update else ""
    row = await conn.fetchrow(f"{_APPLICATION} WHERE a.application_id = $1{lock}", application_id)
    return _application(row) if row else None


async def application_by_key(conn: Conn, idempotency_key: str) -> ApplicationRow | None:
    row = await conn.fetchrow(f"{_APPLICATION} WHERE a.idempotency_key = $1", idempotency_key)
    return _application(row) if row else None


async def applications_in(
    conn: Conn,
    union_id: uuid.UUID,
    window_id: uuid.UUID | None,
    status: ApplicationStatus | None,
    after: int,
    limit: int,
) -> list[ApplicationRow]:
    """Applications of members of the union's subtree, oldest first."""
    rows = await conn.fetch(
        f"""{_APPLICATION}
            WHERE $1 = ANY(coalesce(u.path, ARRAY[a.union_id]))
              AND ($2::uuid IS NULL OR a.window_id = $2) AND ($3::text IS NULL OR a.status = $3)
            ORDER BY a.filed_at, a.application_id OFFSET $4 LIMIT $5""",
        union_id, window_id, status.value if status else None, after, limit,
    )  # fmt: skip
    return [_application(r) for r in rows]


async def applications_of_member(
    conn: Conn, member_id: uuid.UUID, after: int, limit: int
) -> list[ApplicationRow]:
    rows = await conn.fetch(
        f"""{_APPLICATION} WHERE a.member_id = $1
            ORDER BY a.filed_at DESC, a.application_id OFFSET $2 LIMIT $3""",
        member_id, after, limit,
    )  # fmt: skip
    return [_application(r) for r in rows]


async def in_disclosure(
    conn: Conn, union_id: uuid.UUID, window_id: uuid.UUID | None, after: int, limit: int
) -> list[ApplicationRow]:
    rows = await conn.fetch(
        f"""{_APPLICATION}
            WHERE a.status = 'in_disclosure' AND $1 = ANY(coalesce(u.path, ARRAY[a.union_id]))
              AND ($2::uuid IS NULL OR a.window_id = $2)
            ORDER BY a.disclosure_ends_at, a.application_id OFFSET $3 LIMIT $4""",
        union_id, window_id, after, limit,
    )  # fmt: skip
    return [_application(r) for r in rows]


async def review(
    conn: Conn,
    application_id: uuid.UUID,
    status: ApplicationStatus,
    reason: str | None,
    by: str,
    at: datetime,
    disclosure_ends_at: datetime | None,
) -> None:
    await conn.execute(
        """UPDATE student_aid_applications SET status = $2, decision_reason = $3, reviewed_by = $4,
               reviewed_at = $5, disclosure_ends_at = $6 WHERE application_id = $1""",
        application_id, status.value, reason, by, at, disclosure_ends_at,
    )  # fmt: skip


async def set_status(
    conn: Conn, application_id: uuid.UUID, status: ApplicationStatus, at: datetime, reason: str | None = None
) -> None:
    await conn.execute(
        """UPDATE student_aid_applications
           SET status = $2, decision_reason = coalesce($4, decision_reason),
               approved_at = CASE WHEN $2 = 'approved' THEN $3 ELSE approved_at END
           WHERE application_id = $1""",
        application_id, status.value, at, reason,
    )  # fmt: skip


async def mark_paid(
    conn: Conn,
    application_id: uuid.UUID,
    payment_id: uuid.UUID,
    budget_union_id: uuid.UUID,
    by: str,
    at: datetime,
    idempotency_key: str,
    request_hash: bytes,
) -> None:
    await conn.execute(
        """UPDATE student_aid_applications SET status = 'paid', payment_id = $2, budget_union_id = $3,
               paid_by = $4, paid_at = $5, idempotency_key = $6, request_hash = $7
           WHERE application_id = $1""",
        application_id, payment_id, budget_union_id, by, at, idempotency_key, request_hash,
    )  # fmt: skip


# Objections -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectionRow:
    objection_id: uuid.UUID
    application_id: uuid.UUID
    text: str
    raised_by: str
    raised_at: datetime
    answer: str | None
    upheld: bool | None
    answered_by: str | None
    answered_at: datetime | None


def _objection(r: asyncpg.Record) -> ObjectionRow:
    return ObjectionRow(
        r["objection_id"], r["application_id"], r["text"], r["raised_by"], r["raised_at"], r["answer"],
        r["upheld"], r["answered_by"], r["answered_at"],
    )  # fmt: skip


async def insert_objection(
    conn: Conn, application_id: uuid.UUID, text: str, by: str, at: datetime
) -> ObjectionRow:
    row = await conn.fetchrow(
        """INSERT INTO student_aid_objections (objection_id, application_id, text, raised_by, raised_at)
           VALUES ($1, $2, $3, $4, $5) RETURNING *""",
        uuid.uuid4(), application_id, text, by, at,
    )  # fmt: skip
    assert row is not None
    return _objection(row)


async def get_objection(conn: Conn, objection_id: uuid.UUID) -> ObjectionRow | None:
    row = await conn.fetchrow("SELECT * FROM student_aid_objections WHERE objection_id = $1", objection_id)
    return _objection(row) if row else None


async def answer_objection(
    conn: Conn, objection_id: uuid.UUID, upheld: bool, answer: str, by: str, at: datetime
) -> ObjectionRow:
    row = await conn.fetchrow(
        """UPDATE student_aid_objections SET upheld = $2, answer = $3, answered_by = $4, answered_at = $5
           WHERE objection_id = $1 RETURNING *""",
        objection_id, upheld, answer, by, at,
    )  # fmt: skip
    assert row is not None
    return _objection(row)


async def objections_of(conn: Conn, application_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ObjectionRow]]:
    rows = await conn.fetch(
        "SELECT * FROM student_aid_objections WHERE application_id = ANY($1::uuid[]) ORDER BY raised_at",
        application_ids,
    )
    found: dict[uuid.UUID, list[ObjectionRow]] = {a: [] for a in application_ids}
    for r in rows:
        found[r["application_id"]].append(_objection(r))
    return found


async def unanswered_objections(conn: Conn, application_id: uuid.UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM student_aid_objections WHERE application_id = $1 AND answered_at IS NULL",
            application_id,
        )
    )


# The relief register ----------------------------------------------------------------------------


async def in_register(conn: Conn, member_id: uuid.UUID) -> bool:
    """The member's household has a file in the relief register (建档)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT FROM cases WHERE member_id = $1
                              AND status IN ('in_register', 'exit_requested'))""",
            member_id,
        )
    )
