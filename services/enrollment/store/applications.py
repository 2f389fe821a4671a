"""SQL for membership applications. Every function takes the connection of the caller's transaction."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.enrollment.domain.applications import ApplicationStatus
from shared.contracts.enrollment import ApplicationChannel, EmploymentType
from shared.db import Conn


@dataclass(frozen=True)
class ApplicationRow:
    application_id: uuid.UUID
    person_id: uuid.UUID
    name: str
    phone: str
    employer: str
    employment_type: EmploymentType
    base_union_id: uuid.UUID
    channel: ApplicationChannel
    status: ApplicationStatus
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


def _application(row: asyncpg.Record) -> ApplicationRow:
    return ApplicationRow(
        application_id=row["application_id"],
        person_id=row["person_id"],
        name=row["name"],
        phone=row["phone"],
        employer=row["employer"],
        employment_type=EmploymentType(row["employment_type"]),
        base_union_id=row["base_union_id"],
        channel=ApplicationChannel(row["channel"]),
        status=ApplicationStatus(row["status"]),
        submitted_at=row["submitted_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        decision_reason=row["decision_reason"],
    )


async def pending_application(conn: Conn, person_id: uuid.UUID) -> ApplicationRow | None:
    row = await conn.fetchrow(
        "SELECT * FROM applications WHERE person_id = $1 AND status = 'pending'", person_id
    )
    return _application(row) if row else None


async def insert_application(conn: Conn, app: ApplicationRow, submitted_by: str) -> None:
    await conn.execute(
        """INSERT INTO applications (application_id, person_id, name, phone, employer,
               employment_type, base_union_id, channel, status, submitted_by, submitted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)""",
        app.application_id, app.person_id, app.name, app.phone, app.employer,
        app.employment_type.value, app.base_union_id, app.channel.value, submitted_by, app.submitted_at,
    )  # fmt: skip


async def get_application(
    conn: Conn, application_id: uuid.UUID, *, for_update: bool = False
) -> ApplicationRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM applications WHERE application_id = $1{lock}", application_id)
    return _application(row) if row else None


async def decide_application(
    conn: Conn,
    application_id: uuid.UUID,
    status: ApplicationStatus,
    decided_by: str,
    reason: str | None,
) -> ApplicationRow:
    """Record the decision; the application as it now stands."""
    row = await conn.fetchrow(
        """UPDATE applications SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4
           WHERE application_id = $1 RETURNING *""",
        application_id, status.value, decided_by, reason,
    )  # fmt: skip
    assert row is not None
    return _application(row)


async def list_applications(
    conn: Conn, union_id: uuid.UUID, status: ApplicationStatus | None, limit: int
) -> list[ApplicationRow]:
    rows = await conn.fetch(
        """SELECT a.* FROM applications a JOIN unions u ON u.union_id = a.base_union_id
           WHERE u.path @> ARRAY[$1::uuid] AND ($2::text IS NULL OR a.status = $2)
           ORDER BY a.submitted_at LIMIT $3""",
        union_id, status.value if status else None, limit,
    )  # fmt: skip
    return [_application(r) for r in rows]


async def of_person(conn: Conn, person_id: uuid.UUID) -> list[ApplicationRow]:
    rows = await conn.fetch(
        "SELECT * FROM applications WHERE person_id = $1 ORDER BY submitted_at", person_id
    )
    return [_application(r) for r in rows]
