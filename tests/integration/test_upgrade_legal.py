"""Legal's database as the previous main left it, with data in the old shape, upgraded by the new
migrations: the published versions continue, the trail is readable through shared.audit, the
deadlines became durable timers (a pending one fires once), nothing else changed."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from services.legal.app import MIGRATIONS
from services.legal.handlers.common import Deps
from services.legal.handlers.deadlines import deadline_timer
from services.legal.store.calendar import CalendarCache
from shared import audit
from shared.contracts import decode_event
from shared.contracts.legal import DeadlineApproaching, LetterKind, SupervisionLetterSent
from shared.db import open_pool
from shared.events import EventWriter, Trace
from tests.integration.upgrade import create_at_previous_main

pytestmark = pytest.mark.integration

TOPIC = "upgrade.legal.events.v1"
NOW = datetime.now(UTC)
UNION, MEMBER, CASE, COUNSEL, SUPERVISION = (uuid.uuid4() for _ in range(5))
DUE_NOTICE, LATER_NOTICE, FIRED_NOTICE, CANCELLED_NOTICE, LETTER_NOTICE = (uuid.uuid4() for _ in range(5))
DUE_ON = date(2026, 12, 31)


async def _seed_old_shape(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """INSERT INTO unions (union_id, name, kind, region, path, path_names)
           VALUES ($1, '物流工会', 'grassroots', 'hangzhou', ARRAY[$1::uuid], ARRAY['物流工会'])""",
        UNION,
    )
    await conn.execute(
        "INSERT INTO members (member_id, version, name, base_union_id, status) VALUES ($1, 2, '王五', $2, 'active')",
        MEMBER, UNION,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO counsel (counsel_id, name, role, union_id, capacity) VALUES ($1, '李律师', 'lawyer', $2, 5)",
        COUNSEL, UNION,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO cases (case_id, case_no, member_id, member_ids, union_id, kind, employer,
               amount_claimed_fen, learned_on, migrant_worker, description, priority, priority_reasons,
               stage, disposition, counsel_id, filed_by, filed_at)
           VALUES ($1, '维权2026-000001', $2, ARRAY[$2::uuid], $3, 'wage_arrears', '某厂', 100000,
                   '2026-01-05', true, '欠薪', 'urgent', ARRAY['农民工欠薪'], 'consultation', 'accept',
                   $4, 'cadre', $5)""",
        CASE, MEMBER, UNION, COUNSEL, NOW - timedelta(days=3),
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO supervisions (supervision_id, union_id, employer, case_id, status, issue, reminded_on,
               opinion_sent_on, opinion_reply_due, created_by, created_at)
           VALUES ($1, $2, '某厂', $3, 'opinion_sent', '欠薪', '2026-01-10', '2026-01-12', '2026-02-02',
                   'cadre', $4)""",
        SUPERVISION, UNION, CASE, NOW - timedelta(days=2),
    )  # fmt: skip
    # The versions legal published: the member's case events, the union's letters.
    await conn.executemany(
        "INSERT INTO event_sequences (subject, version) VALUES ($1, $2)", [(str(MEMBER), 7), (str(UNION), 3)]
    )
    await conn.executemany(
        """INSERT INTO audit_log (at, actor, action, case_id, subject, reason, correlation_id, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)""",
        [
            (NOW - timedelta(days=3), "member", "case.filed", CASE, f"case:{CASE}", None, "c-1",
             json.dumps({"case_no": "维权2026-000001"})),
            (NOW - timedelta(days=2), "cadre", "intake.accept", CASE, f"case:{CASE}", "属实", "c-2",
             json.dumps({"referral": None})),
            (NOW - timedelta(days=2), "cadre", "counsel.registered", None, f"counsel:{COUNSEL}", None, "c-3",
             json.dumps({"capacity": 5})),
        ],
    )  # fmt: skip
    await conn.executemany(
        """INSERT INTO deadlines (deadline_id, case_id, supervision_id, name, due_on, notice, fire_at,
               status, fired_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [
            (DUE_NOTICE, CASE, None, "arbitration_limit", DUE_ON, "approaching",
             NOW - timedelta(minutes=1), "pending", None),
            (LATER_NOTICE, CASE, None, "arbitration_limit", DUE_ON, "missed",
             NOW + timedelta(days=300), "pending", None),
            (FIRED_NOTICE, CASE, None, "mediation_window", date(2026, 2, 1), "approaching",
             NOW - timedelta(days=1), "fired", NOW - timedelta(days=1)),
            (CANCELLED_NOTICE, CASE, None, "mediation_window", date(2026, 2, 1), "missed",
             NOW + timedelta(days=1), "cancelled", None),
            (LETTER_NOTICE, None, SUPERVISION, "opinion_reply", date(2026, 2, 2), "missed",
             NOW + timedelta(days=2), "pending", None),
        ],
    )  # fmt: skip


async def test_an_existing_legal_database_moves_onto_the_kit_with_nothing_lost(scratch_dsn: str) -> None:
    await create_at_previous_main(scratch_dsn, "services.legal.migrations")
    old = await asyncpg.connect(scratch_dsn)
    try:
        await _seed_old_shape(old)
        before = {t: await old.fetch(f"SELECT * FROM {t} ORDER BY 1") for t in _UNTOUCHED}
    finally:
        await old.close()

    pool = await open_pool(scratch_dsn, "legal", MIGRATIONS)
    try:
        async with pool.acquire() as conn:
            for dropped in ("event_sequences", "audit_log", "deadlines"):
                assert await conn.fetchval("SELECT to_regclass($1)", dropped) is None
            assert await conn.fetchval("SELECT to_regproc('audit_log_is_append_only')") is None
            for table, rows in before.items():
                now = await conn.fetch(f"SELECT * FROM {table} ORDER BY 1")
                # The old columns as they were (0004 adds two to cases: how mediation ended).
                assert [{k: r[k] for k in dict(old)} for r, old in zip(now, rows, strict=True)] == [
                    dict(r) for r in rows
                ], table
            assert [
                dict(r) for r in await conn.fetch("SELECT mediation_outcome, mediation_ended_on FROM cases")
            ] == [{"mediation_outcome": None, "mediation_ended_on": None}]
            # The shipped calendar: 2025 and 2026 published, the Spring Festival 2026 among its days.
            assert [r["year"] for r in await conn.fetch("SELECT year FROM working_calendar_years ORDER BY 1")] == [
                2025, 2026]  # fmt: skip
            spring = await conn.fetch(
                "SELECT day, kind FROM working_calendar WHERE day BETWEEN '2026-02-14' AND '2026-02-28' ORDER BY day"
            )
            assert [(r["day"].day, r["kind"]) for r in spring] == [
                (14, "workday"), *((d, "holiday") for d in range(15, 24)), (28, "workday")]  # fmt: skip

            versions = {r["subject"]: r["version"] for r in await conn.fetch("SELECT * FROM event_versions")}
            assert versions == {str(MEMBER): 7, str(UNION): 3}

            trail = await audit.trail_of_record(conn, CASE)
            assert [(t.action, t.actor, t.reason, t.subject) for t in trail] == [
                ("case.filed", "member", None, f"case:{CASE}"),
                ("intake.accept", "cadre", "属实", f"case:{CASE}"),
            ]
            assert trail[0].detail == {"case_no": "维权2026-000001"} and trail[0].at == NOW - timedelta(
                days=3
            )
            registered = await audit.trail_of_subject(conn, f"counsel:{COUNSEL}")
            assert [(t.action, t.detail) for t in registered] == [("counsel.registered", {"capacity": 5})]
            correlations = [
                r["correlation_id"]
                for r in await conn.fetch("SELECT correlation_id FROM audit_trail ORDER BY id")
            ]
            assert correlations == ["c-1", "c-2", "c-3"]

            timers = {r["timer_id"]: r for r in await conn.fetch("SELECT * FROM timers")}
            assert set(timers) == {DUE_NOTICE, LATER_NOTICE, FIRED_NOTICE, CANCELLED_NOTICE, LETTER_NOTICE}
            assert {t["kind"] for t in timers.values()} == {"legal.deadline"}
            assert timers[LETTER_NOTICE]["subject"] == f"supervision:{SUPERVISION}"
            assert json.loads(timers[DUE_NOTICE]["payload"]) == {
                "name": "arbitration_limit", "due_on": "2026-12-31", "notice": "approaching"}  # fmt: skip
            assert [(timers[i]["status"], timers[i]["subject"]) for i in (DUE_NOTICE, FIRED_NOTICE, CANCELLED_NOTICE)] == [
                ("pending", f"case:{CASE}"), ("fired", f"case:{CASE}"), ("cancelled", f"case:{CASE}")]  # fmt: skip
            assert timers[FIRED_NOTICE]["fired_at"] == NOW - timedelta(days=1)
            assert timers[LATER_NOTICE]["fire_at"] == NOW + timedelta(days=300)

        # The pending notice that is due fires once, as the next version of the member's events,
        # with the nearest deadline still running on the case's snapshot.
        deps = Deps(pool=pool, events=EventWriter("legal", TOPIC), calendar=CalendarCache())
        assert await deadline_timer(deps, 1).fire_due() == 1
        assert await deadline_timer(deps, 1).fire_due() == 0
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT key, value FROM outbox WHERE topic = $1", TOPIC)
            assert len(rows) == 1 and rows[0]["key"] == str(MEMBER)
            envelope, payload = decode_event(bytes(rows[0]["value"]))
            assert envelope.event_type == "legal.DeadlineApproaching" and envelope.subject_version == 8
            assert isinstance(payload, DeadlineApproaching) and payload.deadline_id == DUE_NOTICE
            assert payload.case is not None and payload.case.next_deadline is not None
            assert payload.case.next_deadline.due_on == DUE_ON
            assert await conn.fetchval("SELECT status FROM timers WHERE timer_id = $1", DUE_NOTICE) == "fired"
            assert [t.action for t in await audit.trail_of_record(conn, CASE)][-1] == "deadline.approaching"

            # The union's letters continue their own sequence.
            letter = SupervisionLetterSent(
                supervision_id=SUPERVISION, union_id=UNION, employer="某厂", letter=LetterKind.RECOMMENDATION,
                reply_due_on=date(2026, 3, 1), sent_at=NOW,
            )  # fmt: skip
            async with conn.transaction():
                assert await deps.events.emit(conn, Trace("cadre", "c-4"), str(UNION), letter) == 4
    finally:
        await pool.close()


_UNTOUCHED = ("unions", "members", "counsel", "cases", "supervisions", "filing_keys", "counsel_assignments")
