"""Enrollment's database upgrades onto the service kit in place: a database as the previous main
left it (event versions in persons.version, decisions in audit_log) is migrated by the new code
with nothing lost, and the first event after the upgrade continues each subject's sequence, so
the card still follows."""

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from scripts import stack
from scripts.stack import free_port
from services.enrollment.app import SERVICE
from shared import audit
from shared.auth import Role
from shared.contracts import decode_event, encode_event, new_envelope
from shared.contracts.enrollment import (
    EmploymentType,
    MemberEnrolled,
    MembershipPeriod,
    MembershipStatus,
    MemberSnapshot,
    UnionKind,
    UnionRef,
    UnionRegistered,
)
from shared.contracts.envelope import EventPayload
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.db import open_pool
from shared.events import EventWriter, Trace, next_version
from tests.integration.conftest import RunningService, Stack, eventually, read_topic
from tests.integration.upgrade import create_at_previous_main

pytestmark = pytest.mark.integration

MIGRATIONS = ["services.enrollment.migrations"]  # as services/enrollment/app.py opens its pool
VERSION = 3  # the member's events so far: submitted (1), an earlier rejection (2), enrolled (3)
JOINED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """What the previous main had written for one union tree and one member."""

    city: uuid.UUID
    logistics: uuid.UUID
    riders: uuid.UUID
    member_id: uuid.UUID
    application_id: uuid.UUID
    tag: str

    def union_events(self) -> list[tuple[uuid.UUID, UnionRegistered]]:
        city = UnionRef(union_id=self.city, name=f"杭州市总工会-{self.tag}")
        base = [(self.logistics, "某物流公司工会"), (self.riders, "外卖骑手网格工会")]
        events = [
            (self.city, UnionRegistered(
                union_id=self.city, name=city.name, kind=UnionKind.CITY, parent_id=None, region="330100",
                path=[city],
            )),
        ]  # fmt: skip
        for union_id, name in base:
            ref = UnionRef(union_id=union_id, name=name)
            events.append((union_id, UnionRegistered(
                union_id=union_id, name=name, kind=UnionKind.BASE, parent_id=self.city, region="330100",
                path=[city, ref],
            )))  # fmt: skip
        return events

    def enrolled(self) -> MemberEnrolled:
        member = MemberSnapshot(
            member_id=self.member_id, name="王五", national_id_masked="3301**********1234",
            membership_number=f"ZJ9{self.tag[:9]}", card_number=f"88609{self.tag[:11]}",
            base_union_id=self.logistics, status=MembershipStatus.ACTIVE, member_since=JOINED.date(),
            employer="某物流公司", employment_type=EmploymentType.EMPLOYEE,
            periods=[MembershipPeriod(union_id=self.logistics, started_at=JOINED)],
        )  # fmt: skip
        return MemberEnrolled(application_id=self.application_id, decided_by="test-cadre", member=member)


async def seed_previous_main(dsn: str) -> Seeded:
    """Rows in the previous main's shape, as its enrollment wrote them."""
    tag = f"{secrets.randbelow(10**11):011d}"
    s = Seeded(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), tag)
    enrolled = s.enrolled().member
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for union_id, e in s.union_events():
                await conn.execute(
                    """INSERT INTO unions (union_id, name, kind, parent_id, region, path, path_names)
                       VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                    union_id, e.name, e.kind.value, e.parent_id, e.region,
                    [r.union_id for r in e.path], [r.name for r in e.path],
                )  # fmt: skip
                await _old_audit(conn, "union.registered", str(union_id), name=e.name)
            await conn.execute(
                """INSERT INTO persons (person_id, national_id_hash, national_id_cipher, national_id_masked,
                       version) VALUES ($1, $2, $3, $4, $5)""",
                s.member_id, secrets.token_bytes(32), secrets.token_bytes(48), enrolled.national_id_masked,
                VERSION,
            )  # fmt: skip
            await conn.execute(
                """INSERT INTO applications (application_id, person_id, name, phone, employer,
                       employment_type, base_union_id, status, submitted_by, submitted_at, decided_by,
                       decided_at, channel)
                   VALUES ($1, $2, '王五', '13800138000', '某物流公司', 'employee', $3, 'approved',
                       'test-admin', $4, 'test-cadre', $5, 'wechat')""",
                s.application_id, s.member_id, s.logistics, JOINED - timedelta(days=2), JOINED,
            )  # fmt: skip
            await conn.execute(
                """INSERT INTO members (member_id, name, phone, employer, employment_type,
                       membership_number, card_number, base_union_id, status, member_since)
                   VALUES ($1, '王五', '13800138000', '某物流公司', 'employee', $2, $3, $4, 'active', $5)""",
                s.member_id, enrolled.membership_number, enrolled.card_number, s.logistics, JOINED.date(),
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO membership_periods (member_id, seq, union_id, started_at) VALUES ($1, 0, $2, $3)",
                s.member_id, s.logistics, JOINED,
            )  # fmt: skip
            app = str(s.application_id)
            await _old_audit(conn, "application.submitted", app, union_id=str(s.logistics))
            await _old_audit(conn, "application.rejected", app, reason="材料不全")
            await _old_audit(conn, "application.approved", app)
    finally:
        await conn.close()
    return s


async def _old_audit(conn: asyncpg.Connection, action: str, subject: str, **detail: Any) -> None:
    await conn.execute(
        """INSERT INTO audit_log (actor, action, subject, correlation_id, detail)
           VALUES ('test-cadre', $1, $2, $3, $4::jsonb)""",
        action, subject, f"corr-{action}", json.dumps(detail, ensure_ascii=False),
    )  # fmt: skip


UNTOUCHED = {
    "unions": "SELECT to_jsonb(t) FROM unions t ORDER BY union_id",
    # version: dropped by the upgrade; erased_at: added later (0005), and null for everyone (below).
    "persons": "SELECT to_jsonb(t) - 'version' - 'erased_at' FROM persons t ORDER BY person_id",
    "applications": "SELECT to_jsonb(t) FROM applications t ORDER BY application_id",
    "members": "SELECT to_jsonb(t) FROM members t ORDER BY member_id",
    "membership_periods": "SELECT to_jsonb(t) FROM membership_periods t ORDER BY member_id, seq",
}


async def _contents(dsn: str) -> dict[str, list[Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        return {table: [json.loads(r[0]) for r in await conn.fetch(sql)] for table, sql in UNTOUCHED.items()}
    finally:
        await conn.close()


@pytest.fixture
async def previous_main_db(scratch_dsn: str) -> str:
    """A fresh enrollment database at the previous main."""
    await create_at_previous_main(scratch_dsn, MIGRATIONS[0])
    return scratch_dsn


async def test_the_upgrade_carries_versions_and_audit_rows_over_and_leaves_the_rest(
    previous_main_db: str,
) -> None:
    dsn = previous_main_db
    s = await seed_previous_main(dsn)
    before = await _contents(dsn)

    pool = await open_pool(dsn, SERVICE, MIGRATIONS)
    try:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch("SELECT subject, version FROM event_versions")
            versions = {r["subject"]: r["version"] for r in rows}
            assert versions == {str(s.member_id): VERSION, **{str(u): 1 for u, _ in s.union_events()}}
            # The next event of each subject continues its published sequence.
            writer = EventWriter(SERVICE, "upgrade-test.enrollment.events")
            payload: EventPayload = s.enrolled()
            trace = Trace("test-admin", "corr-after-upgrade")
            assert await writer.emit(conn, trace, str(s.member_id), payload) == VERSION + 1
            assert await next_version(conn, str(s.riders)) == 2

            trail = await audit.trail_of_subject(conn, str(s.application_id))
            assert [(e.action, e.actor, e.reason, e.detail) for e in trail] == [
                ("application.submitted", "test-cadre", None, {"union_id": str(s.logistics)}),
                ("application.rejected", "test-cadre", "材料不全", {}),
                ("application.approved", "test-cadre", None, {}),
            ]
            assert [e.action for e in await audit.trail_of_record(conn, s.member_id)] == [
                "application.submitted", "application.rejected", "application.approved",
            ]  # fmt: skip
            union_trail = await audit.trail_of_record(conn, s.riders)
            assert [(e.action, e.subject, e.detail) for e in union_trail] == [
                ("union.registered", str(s.riders), {"name": "外卖骑手网格工会"})
            ]
            correlation = await conn.fetch("SELECT correlation_id FROM audit_trail ORDER BY id")
            assert [r[0] for r in correlation][-3:] == [
                "corr-application.submitted", "corr-application.rejected", "corr-application.approved",
            ]  # fmt: skip

            # The old copies are gone.
            assert await conn.fetchval("SELECT to_regclass('audit_log')") is None
            assert not await conn.fetchval(
                "SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_is_append_only'"
            )
            assert not await conn.fetchval(
                """SELECT count(*) FROM information_schema.columns
                   WHERE table_name = 'persons' AND column_name = 'version'"""
            )
    finally:
        await pool.close()
    assert await _contents(dsn) == before
    after = await asyncpg.connect(dsn)
    try:
        assert await after.fetchval("SELECT count(*) FROM persons WHERE erased_at IS NOT NULL") == 0
    finally:
        await after.close()


async def test_after_the_upgrade_the_next_event_moves_the_card(
    previous_main_db: str,
    stack_env: Stack,
    kafka_producer: AIOKafkaProducer,
    http: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    s = await seed_previous_main(previous_main_db)
    mid = str(s.member_id)
    topic = stack_env.topic(ENROLLMENT_EVENTS)
    # What the previous main published for these rows, at their versions.
    published: list[tuple[str, int, EventPayload]] = [
        (str(union_id), 1, e) for union_id, e in s.union_events()
    ]
    published.append((mid, VERSION, s.enrolled()))
    for subject, version, payload in published:
        envelope = new_envelope(
            payload, source=SERVICE, subject=subject, subject_version=version, correlation_id="before-upgrade"
        )
        await kafka_producer.send_and_wait(topic, encode_event(envelope), key=subject.encode())

    cards = stack_env.services["projector"].url
    admin = stack_env.headers(Role.ADMIN)

    async def card_in(union_name: str) -> dict[str, Any] | None:
        r = await http.get(f"{cards}/cards/{mid}", headers=admin)
        body: dict[str, Any] = r.json() if r.status_code == 200 else {}
        m = body.get("membership")
        return body if m and m["base_union"]["name"] == union_name else None

    await eventually(lambda: card_in("某物流公司工会"))

    # The new enrollment, on the old database: it upgrades it as it starts.
    port = free_port()
    spec = next(spec for spec in stack.SERVICES if spec.name == SERVICE)
    env = {**stack_env.services[SERVICE].env, "DATABASE_URL": previous_main_db, "HTTP_PORT": str(port)}
    upgraded = RunningService(
        spec, port, previous_main_db.rsplit("/", 1)[-1], env, tmp_path / "enrollment.log"
    )
    upgraded.start()
    try:
        moved = await http.post(
            f"{upgraded.url}/members/{mid}/transfers",
            json={"to_union_id": str(s.riders), "reason": "换工作成为骑手"},
            headers=admin,
        )
        # Both unions hang under the city union: accepted at once.
        assert moved.status_code == 200 and moved.json()["status"] == "accepted", moved.text
        card = await eventually(lambda: card_in("外卖骑手网格工会"))
        assert card["membership"]["card_number"] == s.enrolled().member.card_number
    finally:
        upgraded.stop()

    records = await read_topic(stack_env.bootstrap, topic)
    decoded = [decode_event(r.value) for r in records if r.key == mid.encode()]
    steps = [(meta.subject_version, meta.event_type) for meta, _ in decoded if meta.subject_version > VERSION]
    assert steps == [
        (VERSION + 1, "enrollment.TransferAccepted"),
        (VERSION + 2, "enrollment.MemberTransferred"),
    ]
