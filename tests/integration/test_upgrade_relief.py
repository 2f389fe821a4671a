"""Relief's move onto the kit's tables, on a database as the previous main left it: the versions
it published continue in event_versions, its trail is read through shared.audit, and nothing
else it holds changes."""

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from services.relief.app import MIGRATIONS
from shared import audit, membership
from shared.contracts.relief import CaseResumed, CaseSnapshot, CaseStatus, Tier
from shared.db import Conn, open_pool
from shared.events import EventWriter, Trace
from tests.integration.upgrade import create_at_previous_main

pytestmark = pytest.mark.integration

# As app.py lists them: the service's own migrations, then the kit packages it opts into.
RELIEF_MIGRATIONS = [MIGRATIONS, membership.MIGRATIONS]

MEMBER = uuid.UUID("00000000-0000-4000-8000-000000000001")
QUIET_MEMBER = uuid.UUID("00000000-0000-4000-8000-000000000002")
UNION = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
CASE = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
OPENED_AT = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
DECIDED_AT = datetime(2025, 3, 9, 6, 30, tzinfo=UTC)


async def _seed_old_shape(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """INSERT INTO unions (union_id, name, kind, parent_id, region, path, path_names)
           VALUES ($1, '物流公司工会', 'enterprise', NULL, '330100', ARRAY[$1::uuid], ARRAY['物流公司工会'])""",
        UNION,
    )
    await conn.execute(
        """INSERT INTO members (member_id, version, name, base_union_id, status)
           VALUES ($1, 3, '张伟', $2, 'active'), ($3, 1, '李娜', $2, 'active')""",
        MEMBER, UNION, QUIET_MEMBER,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO cases (case_id, member_id, union_id, household_hash, household_no_masked, channel,
               status, household_size, monthly_income_fen, causes, tier, opened_at, verified_at)
           VALUES ($1, $2, $3, '\\x0102'::bytea, '********2345', 'grid_report', 'verified', 3, 180000,
                   ARRAY['illness'], 'relative', $4, $5)""",
        CASE, MEMBER, UNION, OPENED_AT, DECIDED_AT,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO budgets (union_id, year, aid_type, total_fen, spent_fen, set_by)
           VALUES ($1, 2025, 'medical', 500000, 0, 'cadre:grid-wang')""",
        UNION,
    )
    # Relief had published seven events about the member.
    await conn.execute("INSERT INTO event_sequences (member_id, version) VALUES ($1, 7)", MEMBER)
    await conn.execute(
        """INSERT INTO audit_log (at, actor, action, case_id, subject, reason, correlation_id, detail)
           VALUES ($1, 'cadre:grid-wang', 'case.opened', $3, $4, NULL, 'corr-1', $5::jsonb),
                  ($2, 'cadre:grid-li', 'step.approved', $3, $4, '核实无误', 'corr-2', $6::jsonb),
                  ($2, 'cadre:grid-li', 'budget.set', NULL, 'budget:x/2025/medical', NULL, 'corr-3', $7::jsonb)""",
        OPENED_AT, DECIDED_AT, CASE, f"case:{CASE}",
        json.dumps({"status": "reported", "channel": "grid_report"}),
        json.dumps({"status": "verified", "step": "verification", "tier": "relative"}),
        json.dumps({"total_fen": 500000, "previous_total_fen": None}),
    )  # fmt: skip


async def _other_data(conn: Conn) -> list[list[asyncpg.Record]]:
    return [
        await conn.fetch(f"SELECT * FROM {table} ORDER BY 1")
        for table in ("unions", "members", "cases", "budgets", "case_reports")
    ]


def _snapshot(member_id: uuid.UUID) -> CaseSnapshot:
    return CaseSnapshot(
        case_id=CASE, member_id=member_id, status=CaseStatus.VERIFIED, tier=Tier.RELATIVE, union_id=UNION,
        aid_year=2025, aid_paid_fen=0,
    )  # fmt: skip


async def test_an_old_relief_database_keeps_its_versions_and_trail_on_the_kit_tables(
    scratch_dsn: str,
) -> None:
    await create_at_previous_main(scratch_dsn, "services.relief.migrations")
    conn = await asyncpg.connect(scratch_dsn)
    try:
        await _seed_old_shape(conn)
        before = await _other_data(conn)
    finally:
        await conn.close()

    pool = await open_pool(scratch_dsn, "relief", RELIEF_MIGRATIONS)
    try:
        async with pool.acquire() as db:
            for gone in ("event_sequences", "audit_log"):
                assert await db.fetchval("SELECT to_regclass($1)", gone) is None
            assert not await db.fetchval(
                "SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_is_append_only'"
            )
            # The old columns as they were (members gained employment_type since).
            upgraded = await _other_data(db)
            assert [[{k: r[k] for k in dict(old)} for old, r in zip(b, a, strict=True)]
                    for b, a in zip(before, upgraded, strict=True)] == [[dict(r) for r in b] for b in before]  # fmt: skip

            # The trail, through shared.audit: every entry kept, oldest first, the case id its record id.
            trail = await audit.trail_of_record(db, CASE)
            assert [(t.at, t.actor, t.action, t.subject, t.reason) for t in trail] == [
                (OPENED_AT, "cadre:grid-wang", "case.opened", f"case:{CASE}", None),
                (DECIDED_AT, "cadre:grid-li", "step.approved", f"case:{CASE}", "核实无误"),
            ]
            assert trail[1].detail == {"status": "verified", "step": "verification", "tier": "relative"}
            budget = await audit.trail_of_subject(db, "budget:x/2025/medical")
            assert [(b.action, b.detail["total_fen"]) for b in budget] == [("budget.set", 500000)]
            correlation_ids = await db.fetch("SELECT correlation_id FROM audit_trail ORDER BY id")
            assert [r["correlation_id"] for r in correlation_ids] == ["corr-1", "corr-2", "corr-3"]
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await db.execute("DELETE FROM audit_trail WHERE record_id = $1", CASE)

            # The next event about the member continues the published sequence; another starts at 1.
            events = EventWriter("relief", "t.relief.events.v1")
            trace = Trace("cadre:grid-wang", "corr-after-upgrade")
            resumed_at = datetime.now(UTC)
            async with db.transaction():
                after = await events.emit(
                    db, trace, MEMBER, CaseResumed(case=_snapshot(MEMBER), resumed_at=resumed_at)
                )
                first = await events.emit(
                    db,
                    trace,
                    QUIET_MEMBER,
                    CaseResumed(case=_snapshot(QUIET_MEMBER), resumed_at=resumed_at),
                )
            assert (after, first) == (8, 1)

            applied = {r["name"] for r in await db.fetch("SELECT name FROM schema_migrations")}
            assert {"services.relief.migrations:0002_onto_the_kit_tables.sql",
                    "shared.membership.migrations:0001_membership_view.sql"} <= applied  # fmt: skip
    finally:
        await pool.close()


async def test_a_fresh_relief_database_ends_on_the_kit_tables_only(scratch_dsn: str) -> None:
    pool = await open_pool(scratch_dsn, "relief", RELIEF_MIGRATIONS)
    try:
        async with pool.acquire() as db:
            tables = {"event_sequences", "audit_log", "event_versions", "audit_trail", "unions", "members"}
            present = {t for t in tables if await db.fetchval("SELECT to_regclass($1)", t) is not None}
            assert present == {"event_versions", "audit_trail", "unions", "members"}
    finally:
        await pool.close()
