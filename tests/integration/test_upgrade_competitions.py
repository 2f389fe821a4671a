"""Upgrading a competitions database from the previous main onto the service kit: the per-member
event versions already published continue in `event_versions`, the trail moves into
`audit_trail` (the competition becoming record_id), and nothing else changes."""

import json
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest

from services.competitions.app import MIGRATIONS
from shared import audit, membership
from shared.contracts.competitions import HonourKind, HonourRevoked
from shared.db import open_pool
from shared.events import EventWriter, Trace
from tests.integration.upgrade import create_at_previous_main

pytestmark = pytest.mark.integration

ROOT, DISTRICT = uuid.uuid4(), uuid.uuid4()
LEAVER, STAYER = uuid.uuid4(), uuid.uuid4()
COMPETITION, STAGE = uuid.uuid4(), uuid.uuid4()
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


async def _seed_old_shape(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """INSERT INTO unions (union_id, name, kind, parent_id, region, path, path_names) VALUES
           ($1, '全国', 'national', NULL, '000000', ARRAY[$1]::uuid[], ARRAY['全国']),
           ($2, '区总工会', 'district', $1, '330106', ARRAY[$1, $2]::uuid[], ARRAY['全国', '区总工会'])""",
        ROOT, DISTRICT,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO members (member_id, version, name, base_union_id, status) VALUES
           ($1, 3, '李师傅', $3, 'left'), ($2, 1, '王师傅', $3, 'active')""",
        LEAVER, STAYER, DISTRICT,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO event_sequences (member_id, version) VALUES ($1, 7), ($2, 2)", LEAVER, STAYER
    )
    await conn.execute(
        """INSERT INTO competitions (competition_id, name, kind, union_id, criteria, created_by, created_at)
           VALUES ($1, '叉车技能比武', 'skills', $2, $3::jsonb, 'cadre:c1', $4)""",
        COMPETITION, DISTRICT, json.dumps([{"key": "t", "name": "技能", "weight": 1, "max_points": "100"}]), AT,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO stages (stage_id, competition_id, seq, name, judges, chief_judge, blind, expert_weight,
               public_weight, spread_gap, objection_days, status)
           VALUES ($1, $2, 1, '第一季度', ARRAY['j-li'], 'j-li', true, 1, 0, 20, 5, 'scoring')""",
        STAGE, COMPETITION,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO audit_log (at, actor, action, competition_id, subject, reason, correlation_id, detail)
           VALUES ($1, 'cadre:c1', 'competition_created', $2, $3, NULL, 'corr-1', '{"stages": 1}'),
                  ($1 + interval '1 minute', 'cadre:c1', 'entry_registered', $2, 'entry:x', NULL, 'corr-2',
                   '{"entry_no": 1}'),
                  ($1 + interval '2 minutes', 'cadre:c2', 'honour_revoked', NULL, 'honour:h1', '考核不合格',
                   'corr-3', '{}')""",
        AT, COMPETITION, f"competition:{COMPETITION}",
    )  # fmt: skip


async def test_an_old_database_upgrades_with_nothing_lost(scratch_dsn: str) -> None:
    await create_at_previous_main(scratch_dsn, MIGRATIONS)
    old = await asyncpg.connect(scratch_dsn)
    try:
        await _seed_old_shape(old)
    finally:
        await old.close()

    pool = await open_pool(scratch_dsn, "competitions", [MIGRATIONS, membership.MIGRATIONS])
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT subject, version FROM event_versions")
            versions = {r["subject"]: r["version"] for r in rows}
            assert versions == {str(LEAVER): 7, str(STAYER): 2}
            async with conn.transaction():
                writer = EventWriter("competitions", "competitions.events.v1")
                revoked = HonourRevoked(
                    member_id=LEAVER, honour_id=uuid.uuid4(), kind=HonourKind.MODEL_WORKER, title="劳模",
                    revoked_on=date(2026, 3, 2),
                )  # fmt: skip
                assert await writer.emit(conn, Trace("test", "corr-4"), LEAVER, revoked) == 8

            trail = await audit.trail_of_record(conn, COMPETITION)
            assert [(t.action, t.subject, t.actor, t.detail) for t in trail] == [
                ("competition_created", f"competition:{COMPETITION}", "cadre:c1", {"stages": 1}),
                ("entry_registered", "entry:x", "cadre:c1", {"entry_no": 1}),
            ]
            assert trail[0].at == AT
            [revocation] = await audit.trail_of_subject(conn, "honour:h1")
            assert (revocation.reason, revocation.actor) == ("考核不合格", "cadre:c2")
            moved = await conn.fetch("SELECT correlation_id FROM audit_trail ORDER BY id")
            assert [r["correlation_id"] for r in moved] == ["corr-1", "corr-2", "corr-3"]
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("DELETE FROM audit_trail")

            # The old tables and their trigger function are gone; the rest is as it was.
            gone = await conn.fetchval(
                """SELECT count(*) FROM pg_class WHERE relname IN ('event_sequences', 'audit_log')"""
            )
            assert gone == 0
            assert (
                await conn.fetchval("SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_is_append_only'")
                == 0
            )
            member = await membership.get_member(conn, LEAVER)
            assert member is not None and (member.version, member.status.value) == (3, "left")
            union = await membership.get_union(conn, DISTRICT)
            assert union is not None and union.path == [ROOT, DISTRICT]
            stage = await conn.fetchrow(
                "SELECT competition_id, status, judges FROM stages WHERE stage_id = $1", STAGE
            )
            assert stage is not None and dict(stage.items()) == {
                "competition_id": COMPETITION,
                "status": "scoring",
                "judges": ["j-li"],
            }
            assert await conn.fetchval(
                "SELECT name FROM competitions WHERE competition_id = $1", COMPETITION
            ) == ("叉车技能比武")
    finally:
        await pool.close()

    # A restart applies nothing again (the checksums of the applied files still match).
    again = await open_pool(scratch_dsn, "competitions", [MIGRATIONS, membership.MIGRATIONS])
    await again.close()


async def test_a_fresh_database_ends_in_the_same_shape(scratch_dsn: str) -> None:
    pool = await open_pool(scratch_dsn, "competitions", [MIGRATIONS, membership.MIGRATIONS])
    try:
        tables = {
            r["relname"]
            for r in await pool.fetch(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
        }
        assert {"event_versions", "audit_trail", "unions", "members", "competitions", "entries"} <= tables
        assert not tables & {"event_sequences", "audit_log"}
    finally:
        await pool.close()
