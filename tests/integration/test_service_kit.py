"""The service kit end to end, through the greeter (tests/kit_example), a service written from
docs/new-service.md: the builder's wiring, the membership view, the durable timer, per-subject
event versions, the audit trail and the one error body, on the real broker and database."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from scripts.stack import database_url, free_port
from shared import timers
from shared.auth import Role
from shared.contracts import decode_event
from shared.db import open_pool
from shared.events import EventWriter, Trace, next_version_cte, utcnow
from shared.timers import DurableTimer
from tests.conftest import DEV_TOKEN_PUBLIC_KEY
from tests.integration.conftest import PERSON_KEY_SECRET, Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api
from tests.kit_example.app import GreeterSettings, create_app
from tests.kit_example.contracts import GREETER_EVENTS, WelcomeDue

pytestmark = pytest.mark.integration


class Greeter:
    def __init__(self, url: str, dsn: str) -> None:
        self.url = url
        self.dsn = dsn


@pytest.fixture(scope="module")
async def greeter(stack_env: Stack) -> AsyncIterator[Greeter]:
    port = free_port()
    dsn = database_url(stack_env.postgres_dsn, f"zt_{stack_env.run_id}_greeter")
    settings = GreeterSettings(
        database_url=dsn,
        person_key_secret=PERSON_KEY_SECRET,
        dev_token_public_key=DEV_TOKEN_PUBLIC_KEY,
        kafka_bootstrap_servers=stack_env.bootstrap,
        topic_prefix=stack_env.topic_prefix,
        topic_partitions=3,
        http_port=port,
        welcome_after_seconds=0.5,
        timer_interval_seconds=0.2,
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool | None:
        if task.done():
            task.result()  # it stopped while starting: show why
            raise RuntimeError("the greeter stopped while starting")
        return server.started or None

    await eventually(started, timeout=60)
    try:
        yield Greeter(f"http://127.0.0.1:{port}", dsn)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)


async def welcome_events(s: Stack, member_id: str) -> list[Any]:
    records = await read_topic(s.bootstrap, s.topic(GREETER_EVENTS), timeout=3)
    events = [decode_event(r.value) for r in records]
    return [(meta, p) for meta, p in events if isinstance(p, WelcomeDue) and str(p.member_id) == member_id]


async def test_a_new_member_is_welcomed_once_with_versions_and_a_trail(
    stack_env: Stack, http: httpx.AsyncClient, greeter: Greeter
) -> None:
    api = Api(stack_env, http)
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    mid = member["member_id"]

    async def welcomed() -> dict[str, Any] | None:
        r = await http.get(f"{greeter.url}/welcomes/{mid}", headers=api.admin)
        body: dict[str, Any] = r.json()
        return body if r.status_code == 200 and body["done_at"] else None

    welcome = await eventually(welcomed, timeout=30)
    assert [e["action"] for e in welcome["trail"]] == ["welcome.scheduled", "welcome.due"]
    assert welcome["trail"][0]["actor"] == "enrollment:enrollment.MemberEnrolled"
    events = await eventually(lambda: welcome_events(stack_env, mid), timeout=15)
    assert len(events) == 1
    meta, payload = events[0]
    assert (meta.source, meta.subject, meta.subject_version) == ("greeter", mid, 1)
    assert str(payload.union_id) == str(units["logistics"])

    # A transfer is a newer snapshot of an active member: no second welcome. Wait until the
    # greeter's membership view holds it, then look.
    moved = await http.post(  # both unions are under the district: accepted at once
        f"{api.enrollment}/members/{mid}/transfers",
        json={"to_union_id": str(units["riders"]), "reason": "换工作成为骑手"},
        headers=api.cadre(units["district"]),
    )
    assert moved.status_code == 200, moved.text
    conn = await asyncpg.connect(greeter.dsn)
    try:

        async def view_moved() -> bool | None:
            union = await conn.fetchval(
                "SELECT base_union_id FROM members WHERE member_id = $1", uuid.UUID(mid)
            )
            return True if union == units["riders"] else None

        await eventually(view_moved, timeout=30)
        subject = f"member:{mid}"
        assert await conn.fetchval("SELECT count(*) FROM timers WHERE subject = $1", subject) == 1
    finally:
        await conn.close()
    assert len(await welcome_events(stack_env, mid)) == 1


async def test_every_refusal_is_problem_details(
    stack_env: Stack, http: httpx.AsyncClient, greeter: Greeter
) -> None:
    unknown = uuid.uuid4()
    admin = stack_env.headers(Role.ADMIN)
    cases = [
        (f"/welcomes/{unknown}", admin, 404, "not_found"),
        (f"/welcomes/{unknown}", {}, 401, "unauthorized"),
        ("/welcomes/not-a-uuid", admin, 422, "invalid_request"),
        ("/no-such-route", admin, 404, "not_found"),
    ]
    for path, headers, status, code in cases:
        r = await http.get(f"{greeter.url}{path}", headers=headers)
        assert r.status_code == status, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:zhijia:problem:{code}")
        assert body["instance"] == path and body["detail"] and body["title"]
    invalid = (await http.get(f"{greeter.url}/welcomes/not-a-uuid", headers=admin)).json()
    assert invalid["errors"][0]["loc"] == ["path", "member_id"]
    assert "input" not in invalid["errors"][0]  # what the caller sent is not echoed back


async def test_out_of_scope_is_forbidden(stack_env: Stack, http: httpx.AsyncClient, greeter: Greeter) -> None:
    api = Api(stack_env, http)
    units = await api.tree()
    mid = (await api.enrolled_member(units["logistics"]))["member_id"]
    url = f"{greeter.url}/welcomes/{mid}"
    await eventually(lambda: _ok(http, url, api.admin), timeout=30)
    r = await http.get(url, headers=api.cadre(units["other_city"]))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    own = await http.get(url, headers=stack_env.headers(Role.MEMBER, member_id=uuid.UUID(mid)))
    assert own.status_code == 200


async def _ok(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> bool | None:
    return True if (await http.get(url, headers=headers)).status_code == 200 else None


async def test_timers_fire_once_across_replicas_and_a_failed_attempt(greeter: Greeter) -> None:
    pool = await open_pool(greeter.dsn, "greeter", min_size=2, max_size=6)
    try:
        kind, subject = f"kit.test.{uuid.uuid4().hex[:8]}", f"batch:{uuid.uuid4()}"
        due = utcnow() - timedelta(seconds=1)
        planned = [timers.Timer(uuid.uuid4(), kind, subject, due, {"n": n}) for n in range(40)]
        later = timers.Timer(uuid.uuid4(), kind, subject, utcnow() + timedelta(days=1), {"n": -1})
        async with pool.acquire() as conn:
            await timers.schedule(conn, [*planned, later])
        fired: list[uuid.UUID] = []
        failing = {planned[7].timer_id}

        async def handle(conn: Any, timer: timers.Timer) -> None:
            await conn.execute("SELECT pg_sleep(0.005)")  # let the replicas interleave
            if timer.timer_id in failing:
                raise RuntimeError("the handler failed: the timer stays pending")
            fired.append(timer.timer_id)

        replicas = [DurableTimer(pool, {kind: handle}, interval_seconds=0.05) for _ in range(2)]
        results = await asyncio.gather(*(r.fire_due() for r in replicas), return_exceptions=True)
        assert any(isinstance(r, RuntimeError) for r in results)
        failing.clear()
        while await replicas[0].fire_due():
            pass
        assert sorted(fired) == sorted(t.timer_id for t in planned)  # each once, the failed one too
        assert [t.timer_id for t in await _pending(pool, kind, subject)] == [later.timer_id]
        async with pool.acquire() as conn:
            assert await timers.cancel(conn, kind, subject) == 1
        assert await _pending(pool, kind, subject) == []

        # Cancelling by payload: any of the patterns, in one statement; no pattern, nothing.
        far = utcnow() + timedelta(days=1)
        three = [timers.Timer(uuid.uuid4(), kind, subject, far, {"name": name}) for name in ("a", "b", "c")]
        async with pool.acquire() as conn:
            await timers.schedule(conn, three)
            assert await timers.cancel(conn, kind, subject, where=[]) == 0
            assert await timers.cancel(conn, kind, subject, where=[{"name": "a"}, {"name": "c"}]) == 2
        assert [t.timer_id for t in await _pending(pool, kind, subject)] == [three[1].timer_id]
    finally:
        await pool.close()


async def _pending(pool: asyncpg.Pool, kind: str, subject: str) -> list[timers.Timer]:
    async with pool.acquire() as conn:
        return await timers.pending(conn, kind, subject)


async def test_versions_count_per_subject_in_one_table(greeter: Greeter) -> None:
    conn = await asyncpg.connect(greeter.dsn)
    try:
        writer = EventWriter("greeter", "unused.topic")
        member_id = uuid.uuid4()
        payload = WelcomeDue(member_id=member_id, union_id=uuid.uuid4(), due_at=utcnow())
        trace = Trace("test", "kit-versions")
        async with conn.transaction():
            versions = [await writer.emit(conn, trace, member_id, payload) for _ in range(3)]
            folded = await conn.fetchval(
                f"WITH {next_version_cte('v', '$1::text')} SELECT version FROM v", str(member_id)
            )
            await conn.execute("DELETE FROM outbox WHERE topic = 'unused.topic'")
        assert versions == [1, 2, 3] and folded == 4
    finally:
        await conn.close()
