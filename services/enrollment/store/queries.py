"""SQL for enrollment. Every function takes the connection of the caller's transaction."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.enrollment.domain.applications import ApplicationStatus
from services.enrollment.domain.membership import Membership, Period
from shared.contracts.enrollment import (
    ApplicationChannel,
    EmploymentType,
    MembershipPeriod,
    MemberSnapshot,
    PeriodEnd,
    UnionKind,
    UnionRef,
)
from shared.db import Conn


@dataclass(frozen=True)
class UnionRow:
    union_id: uuid.UUID
    name: str
    kind: UnionKind
    parent_id: uuid.UUID | None
    region: str
    path: list[uuid.UUID]
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
    status = await conn.execute(
        """INSERT INTO unions (union_id, name, kind, parent_id, region, path, path_names)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
        union.union_id, union.name, union.kind.value, union.parent_id, union.region,
        union.path, union.path_names,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


async def subtree(conn: Conn, union_id: uuid.UUID) -> list[UnionRow]:
    rows = await conn.fetch(
        "SELECT * FROM unions WHERE path @> ARRAY[$1::uuid] ORDER BY array_length(path, 1), name",
        union_id,
    )
    return [_union(r) for r in rows]


@dataclass(frozen=True)
class PersonRow:
    person_id: uuid.UUID
    national_id_masked: str
    version: int


async def lock_or_create_person(conn: Conn, national_id_hash: bytes, cipher: bytes, masked: str) -> PersonRow:
    """Find the person by keyed hash, creating them if new; the row stays locked until commit,
    so concurrent submissions for one person are serialised."""
    await conn.execute(
        """INSERT INTO persons (person_id, national_id_hash, national_id_cipher, national_id_masked)
           VALUES ($1, $2, $3, $4) ON CONFLICT (national_id_hash) DO NOTHING""",
        uuid.uuid4(), national_id_hash, cipher, masked,
    )  # fmt: skip
    row = await conn.fetchrow(
        "SELECT person_id, national_id_masked, version FROM persons WHERE national_id_hash = $1 FOR UPDATE",
        national_id_hash,
    )
    assert row is not None
    return PersonRow(row["person_id"], row["national_id_masked"], row["version"])


async def lock_person(conn: Conn, person_id: uuid.UUID) -> PersonRow | None:
    row = await conn.fetchrow(
        "SELECT person_id, national_id_masked, version FROM persons WHERE person_id = $1 FOR UPDATE",
        person_id,
    )
    return PersonRow(row["person_id"], row["national_id_masked"], row["version"]) if row else None


async def audit_and_next_version(
    conn: Conn,
    person_id: uuid.UUID,
    actor: str,
    action: str,
    subject: str,
    correlation_id: str,
    **detail: Any,
) -> int:
    """The audit row and the person's next event version, in one statement (one round trip)."""
    version = await conn.fetchval(
        """WITH trail AS (
               INSERT INTO audit_log (actor, action, subject, correlation_id, detail)
               VALUES ($2, $3, $4, $5, $6::jsonb))
           UPDATE persons SET version = version + 1 WHERE person_id = $1 RETURNING version""",
        person_id, actor, action, subject, correlation_id, json.dumps(detail, default=str),
    )  # fmt: skip
    return int(version)


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
) -> None:
    await conn.execute(
        """UPDATE applications SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4
           WHERE application_id = $1""",
        application_id, status.value, decided_by, reason,
    )  # fmt: skip


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


async def allocate_numbers(conn: Conn) -> tuple[int, int]:
    row = await conn.fetchrow("SELECT nextval('membership_number_seq') AS m, nextval('card_number_seq') AS c")
    assert row is not None
    return int(row["m"]), int(row["c"])


@dataclass(frozen=True)
class MemberRow:
    member_id: uuid.UUID
    name: str
    phone: str
    employer: str
    employment_type: EmploymentType
    membership_number: str
    card_number: str
    national_id_masked: str
    membership: Membership


async def get_member(conn: Conn, member_id: uuid.UUID, *, for_update: bool = False) -> MemberRow | None:
    """The member with its periods (one statement); with for_update, the member row stays locked."""
    lock = " FOR UPDATE OF m" if for_update else ""
    row = await conn.fetchrow(
        f"""SELECT m.*, p.national_id_masked,
                   ARRAY(SELECT ROW(mp.union_id, mp.started_at, mp.ended_at, mp.end_reason, mp.end_note)
                         FROM membership_periods mp WHERE mp.member_id = m.member_id
                         ORDER BY mp.seq) AS periods
            FROM members m
            JOIN persons p ON p.person_id = m.member_id WHERE m.member_id = $1{lock}""",
        member_id,
    )
    if row is None:
        return None
    membership = Membership(
        member_id=member_id,
        periods=tuple(
            Period(
                union_id=union_id,
                started_at=started_at,
                ended_at=ended_at,
                end_reason=PeriodEnd(end_reason) if end_reason else None,
                end_note=end_note,
            )
            for union_id, started_at, ended_at, end_reason, end_note in row["periods"]
        ),
    )
    return MemberRow(
        member_id=member_id,
        name=row["name"],
        phone=row["phone"],
        employer=row["employer"],
        employment_type=EmploymentType(row["employment_type"]),
        membership_number=row["membership_number"],
        card_number=row["card_number"],
        national_id_masked=row["national_id_masked"],
        membership=membership,
    )


async def save_member(conn: Conn, member: MemberRow) -> None:
    """Write the member and its periods in one statement; the stored status is recomputed here on
    every write. Periods are written in order, so a period is ended before the next one opens
    (one open period per member is a unique index)."""
    m = member.membership
    periods = list(enumerate(m.periods))
    await conn.execute(
        """WITH member AS (
               INSERT INTO members (member_id, name, phone, employer, employment_type,
                   membership_number, card_number, base_union_id, status, member_since)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (member_id) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone,
                   employer = EXCLUDED.employer, employment_type = EXCLUDED.employment_type,
                   base_union_id = EXCLUDED.base_union_id, status = EXCLUDED.status,
                   member_since = EXCLUDED.member_since, updated_at = now())
           INSERT INTO membership_periods
               (member_id, seq, union_id, started_at, ended_at, end_reason, end_note)
           SELECT $1, p.seq, p.union_id, p.started_at, p.ended_at, p.end_reason, p.end_note
           FROM unnest($11::int[], $12::uuid[], $13::timestamptz[], $14::timestamptz[], $15::text[],
                       $16::text[]) AS p(seq, union_id, started_at, ended_at, end_reason, end_note)
           ORDER BY p.seq
           ON CONFLICT (member_id, seq) DO UPDATE SET ended_at = EXCLUDED.ended_at,
               end_reason = EXCLUDED.end_reason, end_note = EXCLUDED.end_note""",
        member.member_id, member.name, member.phone, member.employer, member.employment_type.value,
        member.membership_number, member.card_number, m.base_union_id, m.status.value, m.member_since,
        [seq for seq, _ in periods],
        [p.union_id for _, p in periods],
        [p.started_at for _, p in periods],
        [p.ended_at for _, p in periods],
        [p.end_reason.value if p.end_reason else None for _, p in periods],
        [p.end_note for _, p in periods],
    )  # fmt: skip


def snapshot(member: MemberRow) -> MemberSnapshot:
    m = member.membership
    return MemberSnapshot(
        member_id=member.member_id,
        name=member.name,
        national_id_masked=member.national_id_masked,
        membership_number=member.membership_number,
        card_number=member.card_number,
        base_union_id=m.base_union_id,
        status=m.status,
        member_since=m.member_since,
        employer=member.employer,
        employment_type=member.employment_type,
        periods=[
            MembershipPeriod(
                union_id=p.union_id,
                started_at=p.started_at,
                ended_at=p.ended_at,
                end_reason=p.end_reason,
            )
            for p in m.periods
        ],
    )


async def audit(
    conn: Conn,
    actor: str,
    action: str,
    subject: str,
    correlation_id: str,
    **detail: Any,
) -> None:
    await conn.execute(
        """INSERT INTO audit_log (actor, action, subject, correlation_id, detail)
           VALUES ($1, $2, $3, $4, $5::jsonb)""",
        actor, action, subject, correlation_id, json.dumps(detail, default=str),
    )  # fmt: skip
