"""SQL for members and their membership periods. Every function takes the connection of the
caller's transaction."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.enrollment.domain.membership import Membership, Period
from shared.contracts.enrollment import EmploymentType, MembershipPeriod, MemberSnapshot, PeriodEnd
from shared.db import Conn
from shared.rows import from_row


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


async def allocate_numbers(conn: Conn) -> tuple[int, int]:
    """The next membership and card sequence numbers (never reused)."""
    row = await conn.fetchrow("SELECT nextval('membership_number_seq') AS m, nextval('card_number_seq') AS c")
    assert row is not None
    return int(row["m"]), int(row["c"])


async def get_member(conn: Conn, member_id: uuid.UUID, *, for_update: bool = False) -> MemberRow | None:
    """The member with its periods (one statement); with for_update, the member row stays locked.
    An erased member is not found: nothing is left to show or to change."""
    lock = " FOR UPDATE OF m" if for_update else ""
    row = await conn.fetchrow(
        f"""SELECT m.*, p.national_id_masked,
                   ARRAY(SELECT ROW(mp.union_id, mp.started_at, mp.ended_at, mp.end_reason, mp.end_note)
                         FROM membership_periods mp WHERE mp.member_id = m.member_id
                         ORDER BY mp.seq) AS periods
            FROM members m
            JOIN persons p ON p.person_id = m.member_id
            WHERE m.member_id = $1 AND p.erased_at IS NULL{lock}""",
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
    """The member as its events carry it."""
    m = member.membership
    return from_row(
        MemberSnapshot, member, base_union_id=m.base_union_id, status=m.status, member_since=m.member_since,
        periods=[from_row(MembershipPeriod, p) for p in m.periods],
    )  # fmt: skip


async def erase_person(conn: Conn, person_id: uuid.UUID, at: datetime, scrambled_hash: bytes) -> None:
    """Clear every personal column of the person, their member row and their applications; keep
    the ids, numbers, periods and decisions. The ID's keyed hash is replaced by random bytes, so
    the ID no longer finds this person (a later application starts afresh)."""
    await conn.execute(
        """WITH p AS (
               UPDATE persons SET national_id_hash = $3, national_id_cipher = ''::bytea,
                   national_id_masked = '', erased_at = $2
               WHERE person_id = $1),
           m AS (UPDATE members SET name = '', phone = '', employer = '', updated_at = $2
                 WHERE member_id = $1)
           UPDATE applications SET name = '', phone = '', employer = '' WHERE person_id = $1""",
        person_id, at, scrambled_hash,
    )  # fmt: skip


async def erased_on_the_topic_only(conn: Conn) -> list[uuid.UUID]:
    """Persons whose PersonErased is on the topic though this database holds their data: a
    point-in-time restore to before the erasure (the event is an orphan, shared/outbox_reconcile.py)."""
    rows = await conn.fetch(
        """SELECT DISTINCT p.person_id FROM outbox_orphans o
           JOIN persons p ON p.person_id::text = o.subject
           WHERE o.event_type = 'enrollment.PersonErased' AND p.erased_at IS NULL"""
    )
    return [r["person_id"] for r in rows]
