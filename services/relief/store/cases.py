"""SQL for cases and everything recorded on them. Every function takes the connection of the
caller's transaction."""

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from services.relief.domain.eligibility import Criterion, Override
from services.relief.domain.exit import Guarantee
from services.relief.domain.intake import Cause, Household
from shared.contracts.relief import AidType, ApprovalStep, CaseStatus, IntakeChannel, Tier
from shared.db import Conn

CLOSED_SQL = "('declined', 'exited', 'withdrawn')"


@dataclass(frozen=True)
class CaseRow:
    case_id: uuid.UUID
    member_id: uuid.UUID
    union_id: uuid.UUID
    household_no_masked: str
    channel: IntakeChannel
    status: CaseStatus
    suspended_from: CaseStatus | None
    flag_reason: str | None
    household: Household
    causes: tuple[Cause, ...]
    cause_note: str
    tier: Tier | None
    previous_case_id: uuid.UUID | None
    pending_transfer_to: uuid.UUID | None
    opened_at: datetime
    verified_at: datetime | None
    disclosure_no: str | None
    disclosure_starts_at: datetime | None
    disclosure_ends_at: datetime | None
    proposed_aid: tuple[AidType, ...]
    plan_aid: tuple[AidType, ...]
    plan_summary: str
    approved_at: datetime | None
    next_review_due: date | None
    exited_at: datetime | None
    closed_at: datetime | None
    # Joined from the membership view and the union tree, not stored on the case.
    member_name: str = ""
    union_name: str | None = None
    union_region: str = ""
    union_path: tuple[uuid.UUID, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.flag_reason is not None


def _case(row: asyncpg.Record) -> CaseRow:
    return CaseRow(
        case_id=row["case_id"],
        member_id=row["member_id"],
        union_id=row["union_id"],
        household_no_masked=row["household_no_masked"],
        channel=IntakeChannel(row["channel"]),
        status=CaseStatus(row["status"]),
        suspended_from=CaseStatus(row["suspended_from"]) if row["suspended_from"] else None,
        flag_reason=row["flag_reason"],
        household=Household(row["household_size"], row["monthly_income_fen"]),
        causes=tuple(Cause(c) for c in row["causes"]),
        cause_note=row["cause_note"],
        tier=Tier(row["tier"]) if row["tier"] else None,
        previous_case_id=row["previous_case_id"],
        pending_transfer_to=row["pending_transfer_to"],
        opened_at=row["opened_at"],
        verified_at=row["verified_at"],
        disclosure_no=row["disclosure_no"],
        disclosure_starts_at=row["disclosure_starts_at"],
        disclosure_ends_at=row["disclosure_ends_at"],
        proposed_aid=tuple(AidType(a) for a in row["proposed_aid"]),
        plan_aid=tuple(AidType(a) for a in row["plan_aid"]),
        plan_summary=row["plan_summary"],
        approved_at=row["approved_at"],
        next_review_due=row["next_review_due"],
        exited_at=row["exited_at"],
        closed_at=row["closed_at"],
        member_name=row["member_name"] or "",
        union_name=row["union_name"],
        union_region=row["union_region"] or "",
        # A union not (yet) known from enrollment's events: only its own cadres are in scope.
        union_path=tuple(row["union_path"] or [row["union_id"]]),
    )


_SELECT = """SELECT c.*, m.name AS member_name, u.name AS union_name, u.region AS union_region,
                    u.path AS union_path
             FROM cases c
             LEFT JOIN members m ON m.member_id = c.member_id
             LEFT JOIN unions u ON u.union_id = c.union_id"""


async def get_case(conn: Conn, case_id: uuid.UUID, *, for_update: bool = False) -> CaseRow | None:
    lock = " FOR UPDATE OF c" if for_update else ""
    row = await conn.fetchrow(f"{_SELECT} WHERE c.case_id = $1{lock}", case_id)
    return _case(row) if row else None


async def open_case_of_member(
    conn: Conn, member_id: uuid.UUID, *, for_update: bool = False
) -> CaseRow | None:
    lock = " FOR UPDATE OF c" if for_update else ""
    row = await conn.fetchrow(
        f"{_SELECT} WHERE c.member_id = $1 AND c.status NOT IN {CLOSED_SQL}{lock}", member_id
    )
    return _case(row) if row else None


async def open_case_of_household(conn: Conn, household_hash: bytes) -> CaseRow | None:
    row = await conn.fetchrow(
        f"{_SELECT} WHERE c.household_hash = $1 AND c.status NOT IN {CLOSED_SQL}", household_hash
    )
    return _case(row) if row else None


async def last_closed_case(conn: Conn, member_id: uuid.UUID) -> uuid.UUID | None:
    value = await conn.fetchval(
        f"""SELECT case_id FROM cases WHERE member_id = $1 AND status IN {CLOSED_SQL}
            ORDER BY closed_at DESC NULLS LAST, opened_at DESC LIMIT 1""",
        member_id,
    )
    return value if isinstance(value, uuid.UUID) else None


async def insert_case(conn: Conn, c: CaseRow, household_hash: bytes) -> None:
    await conn.execute(
        """INSERT INTO cases (case_id, member_id, union_id, household_hash, household_no_masked, channel,
               status, household_size, monthly_income_fen, causes, cause_note, previous_case_id, opened_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        c.case_id, c.member_id, c.union_id, household_hash, c.household_no_masked, c.channel.value,
        c.status.value, c.household.size, c.household.monthly_income_fen, [x.value for x in c.causes],
        c.cause_note, c.previous_case_id, c.opened_at,
    )  # fmt: skip


async def save_case(conn: Conn, c: CaseRow) -> None:
    """Write every field a command may change; the caller holds the row lock."""
    await conn.execute(
        """UPDATE cases SET union_id = $2, status = $3, suspended_from = $4, flagged = $5, flag_reason = $6,
               household_size = $7, monthly_income_fen = $8, causes = $9, tier = $10,
               pending_transfer_to = $11, verified_at = $12, disclosure_no = $13,
               disclosure_starts_at = $14, disclosure_ends_at = $15, proposed_aid = $16, plan_aid = $17,
               plan_summary = $18, approved_at = $19, next_review_due = $20, exited_at = $21,
               closed_at = $22, updated_at = now()
           WHERE case_id = $1""",
        c.case_id, c.union_id, c.status.value, c.suspended_from.value if c.suspended_from else None,
        c.flagged, c.flag_reason, c.household.size, c.household.monthly_income_fen,
        [x.value for x in c.causes], c.tier.value if c.tier else None, c.pending_transfer_to,
        c.verified_at, c.disclosure_no, c.disclosure_starts_at, c.disclosure_ends_at,
        [a.value for a in c.proposed_aid], [a.value for a in c.plan_aid], c.plan_summary, c.approved_at,
        c.next_review_due, c.exited_at, c.closed_at,
    )  # fmt: skip


async def touch_if_status(conn: Conn, case_id: uuid.UUID, status: CaseStatus) -> bool:
    """Lock the case and confirm its status in one statement (for writers that do not lock first)."""
    done = await conn.fetchval(
        "UPDATE cases SET updated_at = now() WHERE case_id = $1 AND status = $2 RETURNING true",
        case_id,
        status.value,
    )
    return bool(done)


async def next_disclosure_sequence(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval('disclosure_number_seq')"))


# Reports, visits, overrides --------------------------------------------------------------------


async def insert_report(
    conn: Conn,
    case_id: uuid.UUID,
    member_id: uuid.UUID,
    channel: IntakeChannel,
    reported_by: str,
    household: Household,
    causes: tuple[Cause, ...],
    note: str,
    *,
    joined: bool,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO case_reports (report_id, case_id, member_id, channel, reported_by, household_size,
               monthly_income_fen, causes, note, joined, reported_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        uuid.uuid4(), case_id, member_id, channel.value, reported_by, household.size,
        household.monthly_income_fen, [c.value for c in causes], note, joined, at,
    )  # fmt: skip


@dataclass(frozen=True)
class VisitRow:
    visit_id: uuid.UUID
    purpose: str
    visited_on: date
    visited_by: str
    household_size: int
    monthly_income_fen: int
    causes: tuple[Cause, ...]
    findings: str
    guarantees: dict[str, bool] | None
    recorded_at: datetime


async def insert_visit(
    conn: Conn,
    case_id: uuid.UUID,
    purpose: str,
    visited_on: date,
    visited_by: str,
    household: Household,
    causes: tuple[Cause, ...],
    findings: str,
    guarantees: Mapping[Guarantee, bool] | None,
    at: datetime,
) -> uuid.UUID:
    visit_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO visits (visit_id, case_id, purpose, visited_on, visited_by, household_size,
               monthly_income_fen, causes, findings, guarantees, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)""",
        visit_id, case_id, purpose, visited_on, visited_by, household.size, household.monthly_income_fen,
        [c.value for c in causes], findings,
        json.dumps({g.value: v for g, v in guarantees.items()}) if guarantees is not None else None, at,
    )  # fmt: skip
    return visit_id


async def visits(conn: Conn, case_id: uuid.UUID) -> list[VisitRow]:
    rows = await conn.fetch("SELECT * FROM visits WHERE case_id = $1 ORDER BY recorded_at", case_id)
    return [
        VisitRow(
            visit_id=r["visit_id"],
            purpose=r["purpose"],
            visited_on=r["visited_on"],
            visited_by=r["visited_by"],
            household_size=r["household_size"],
            monthly_income_fen=r["monthly_income_fen"],
            causes=tuple(Cause(c) for c in r["causes"]),
            findings=r["findings"],
            guarantees=json.loads(r["guarantees"]) if r["guarantees"] else None,
            recorded_at=r["recorded_at"],
        )
        for r in rows
    ]


async def count_visits(conn: Conn, case_id: uuid.UUID, purpose: str) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM visits WHERE case_id = $1 AND purpose = $2", case_id, purpose
        )
    )


async def get_override(conn: Conn, case_id: uuid.UUID) -> Override | None:
    row = await conn.fetchrow("SELECT * FROM eligibility_overrides WHERE case_id = $1", case_id)
    if row is None:
        return None
    return Override(
        criterion=Criterion(row["criterion"]),
        reason=row["reason"],
        tier=Tier(row["tier"]) if row["tier"] else None,
        by=row["overridden_by"],
        at=row["overridden_at"],
    )


async def insert_override(conn: Conn, case_id: uuid.UUID, o: Override) -> None:
    await conn.execute(
        """INSERT INTO eligibility_overrides (case_id, criterion, reason, tier, overridden_by, overridden_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        case_id, o.criterion.value, o.reason, o.tier.value if o.tier else None, o.by, o.at,
    )  # fmt: skip


# Approval steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    step_id: uuid.UUID
    step: ApprovalStep
    requested_by: str
    requested_at: datetime
    request_note: str
    decision: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


def _step(r: asyncpg.Record) -> StepRow:
    return StepRow(
        r["step_id"], ApprovalStep(r["step"]), r["requested_by"], r["requested_at"], r["request_note"],
        r["decision"], r["decided_by"], r["decided_at"], r["decision_note"],
    )  # fmt: skip


async def insert_step(
    conn: Conn, case_id: uuid.UUID, step: ApprovalStep, requested_by: str, note: str, at: datetime
) -> StepRow:
    row = await conn.fetchrow(
        """INSERT INTO approval_steps (step_id, case_id, step, requested_by, requested_at, request_note)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        uuid.uuid4(), case_id, step.value, requested_by, at, note,
    )  # fmt: skip
    assert row is not None
    return _step(row)


async def pending_step(conn: Conn, case_id: uuid.UUID) -> StepRow | None:
    row = await conn.fetchrow(
        "SELECT * FROM approval_steps WHERE case_id = $1 AND decision = 'pending'", case_id
    )
    return _step(row) if row else None


async def steps(conn: Conn, case_id: uuid.UUID) -> list[StepRow]:
    rows = await conn.fetch("SELECT * FROM approval_steps WHERE case_id = $1 ORDER BY requested_at", case_id)
    return [_step(r) for r in rows]


async def decide_step(
    conn: Conn, step_id: uuid.UUID, approved: bool, decided_by: str, note: str, at: datetime
) -> None:
    await conn.execute(
        """UPDATE approval_steps SET decision = $2, decided_by = $3, decision_note = $4, decided_at = $5
           WHERE step_id = $1 AND decision = 'pending'""",
        step_id, "approved" if approved else "rejected", decided_by, note, at,
    )  # fmt: skip


async def cancel_pending_step(conn: Conn, case_id: uuid.UUID, by: str, note: str, at: datetime) -> bool:
    done = await conn.fetchval(
        """UPDATE approval_steps
           SET decision = 'cancelled', decided_by = $2, decision_note = $3, decided_at = $4
           WHERE case_id = $1 AND decision = 'pending' RETURNING true""",
        case_id, by, note, at,
    )  # fmt: skip
    return bool(done)


# Objections and follow-ups ----------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectionRow:
    objection_id: uuid.UUID
    case_id: uuid.UUID
    objector: str
    content: str
    recorded_by: str
    raised_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None


def _objection(r: asyncpg.Record) -> ObjectionRow:
    return ObjectionRow(
        r["objection_id"], r["case_id"], r["objector"], r["content"], r["recorded_by"], r["raised_at"],
        r["answer"], r["answered_by"], r["answered_at"],
    )  # fmt: skip


async def insert_objection(
    conn: Conn, case_id: uuid.UUID, objector: str, content: str, recorded_by: str, at: datetime
) -> ObjectionRow:
    row = await conn.fetchrow(
        """INSERT INTO objections (objection_id, case_id, objector, content, recorded_by, raised_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        uuid.uuid4(), case_id, objector, content, recorded_by, at,
    )  # fmt: skip
    assert row is not None
    return _objection(row)


async def get_objection(conn: Conn, objection_id: uuid.UUID) -> ObjectionRow | None:
    row = await conn.fetchrow("SELECT * FROM objections WHERE objection_id = $1 FOR UPDATE", objection_id)
    return _objection(row) if row else None


async def answer_objection(
    conn: Conn, objection_id: uuid.UUID, answer: str, answered_by: str, at: datetime
) -> ObjectionRow:
    row = await conn.fetchrow(
        """UPDATE objections SET answer = $2, answered_by = $3, answered_at = $4
           WHERE objection_id = $1 RETURNING *""",
        objection_id, answer, answered_by, at,
    )  # fmt: skip
    assert row is not None
    return _objection(row)


async def objections(conn: Conn, case_id: uuid.UUID) -> list[ObjectionRow]:
    rows = await conn.fetch("SELECT * FROM objections WHERE case_id = $1 ORDER BY raised_at", case_id)
    return [_objection(r) for r in rows]


async def unanswered_objections(conn: Conn, case_id: uuid.UUID) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM objections WHERE case_id = $1 AND answer IS NULL", case_id)
    )


async def insert_follow_up(
    conn: Conn, case_id: uuid.UUID, contacted_on: date, channel: str, notes: str, by: str, at: datetime
) -> uuid.UUID:
    follow_up_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO follow_ups
               (follow_up_id, case_id, contacted_on, channel, notes, recorded_by, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        follow_up_id, case_id, contacted_on, channel, notes, by, at,
    )  # fmt: skip
    return follow_up_id


# Lists ------------------------------------------------------------------------------------------


async def list_cases(
    conn: Conn, union_id: uuid.UUID, status: CaseStatus | None, flagged: bool | None, limit: int
) -> list[CaseRow]:
    rows = await conn.fetch(
        f"""{_SELECT}
            WHERE (u.path @> ARRAY[$1::uuid] OR c.union_id = $1)
              AND ($2::text IS NULL OR c.status = $2) AND ($3::boolean IS NULL OR c.flagged = $3)
            ORDER BY c.opened_at LIMIT $4""",
        union_id, status.value if status else None, flagged, limit,
    )  # fmt: skip
    return [_case(r) for r in rows]


async def cases_of_member(conn: Conn, member_id: uuid.UUID) -> list[CaseRow]:
    rows = await conn.fetch(f"{_SELECT} WHERE c.member_id = $1 ORDER BY c.opened_at", member_id)
    return [_case(r) for r in rows]


async def due_reviews(conn: Conn, union_id: uuid.UUID, on: date, limit: int) -> list[CaseRow]:
    rows = await conn.fetch(
        f"""{_SELECT}
            WHERE c.status = 'in_register' AND c.next_review_due <= $2
              AND (u.path @> ARRAY[$1::uuid] OR c.union_id = $1)
            ORDER BY c.next_review_due, c.case_id LIMIT $3""",
        union_id, on, limit,
    )  # fmt: skip
    return [_case(r) for r in rows]


@dataclass(frozen=True)
class DisclosureRow:
    disclosure_no: str
    member_name: str
    union_name: str | None
    tier: Tier | None
    proposed_aid: tuple[AidType, ...]
    starts_at: datetime
    ends_at: datetime


async def open_disclosures(conn: Conn, union_id: uuid.UUID, now: datetime) -> list[DisclosureRow]:
    rows = await conn.fetch(
        """SELECT c.disclosure_no, m.name AS member_name, u.name AS union_name, c.tier, c.proposed_aid,
                  c.disclosure_starts_at, c.disclosure_ends_at
           FROM cases c
           LEFT JOIN members m ON m.member_id = c.member_id
           LEFT JOIN unions u ON u.union_id = c.union_id
           WHERE c.status = 'in_disclosure' AND c.disclosure_starts_at <= $2 AND c.disclosure_ends_at > $2
             AND (u.path @> ARRAY[$1::uuid] OR c.union_id = $1)
           ORDER BY c.disclosure_no""",
        union_id,
        now,
    )
    return [
        DisclosureRow(
            r["disclosure_no"],
            r["member_name"] or "",
            r["union_name"],
            Tier(r["tier"]) if r["tier"] else None,
            tuple(AidType(a) for a in r["proposed_aid"]),
            r["disclosure_starts_at"],
            r["disclosure_ends_at"],
        )
        for r in rows
    ]
