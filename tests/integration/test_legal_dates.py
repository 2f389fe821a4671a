"""Legal dates on the real stack: a stage date before the filing or in the future is refused and
changes nothing; how mediation ended gates arbitration; the working-day calendar is administered
by an API whose change reschedules running deadlines, is published as an event and is what a
second replica counts with; a deadline counted into a year not published is provisional until
the year is published.

The letters whose deadlines the calendar moves are sent by the handler in this process on a
clock of its own, in years decades ahead that no other test counts in: the service's scheduler
(on the real clock) leaves their notices pending, and no test depends on today's date."""

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.legal.domain.clocks import PROVISIONAL_LABEL, WorkCalendar, opinion_reply_due
from services.legal.domain.letters import LetterAction
from services.legal.handlers import letters
from services.legal.store.calendar import CalendarCache
from shared.auth import Caller, Principal, Role
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_legal import TODAY, Legal, _deps

pytestmark = pytest.mark.integration


@pytest.fixture
def legal(stack_env: Stack, http: httpx.AsyncClient) -> Legal:
    return Legal(Api(stack_env, http))


async def _rows(conn: asyncpg.Connection, case_id: uuid.UUID) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was: the case, its timers, its trail."""
    case = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    timers = await conn.fetch(
        "SELECT timer_id, status, fire_at FROM timers WHERE subject = $1 ORDER BY timer_id", f"case:{case_id}"
    )
    trail = await conn.fetchval("SELECT count(*) FROM audit_trail WHERE record_id = $1", case_id)
    return dict(case or {}), [dict(t) for t in timers], trail


async def _accepted_case(legal: Legal) -> tuple[str, dict[str, str]]:
    units = await legal.api.tree()
    member = await legal.member_known(units["logistics"])
    cadre = legal.cadre(units["logistics"])
    case = await legal.ok(await legal.file(legal.member(member["member_id"])), 201)
    await legal.ok(
        await legal.post(f"/cases/{case['case_id']}/disposition", cadre, {"disposition": "accept"})
    )
    return case["case_id"], cadre


async def test_a_tribunal_acceptance_before_the_filing_or_in_the_future_is_refused_and_changes_nothing(
    legal: Legal,
) -> None:
    cid, cadre = await _accepted_case(legal)
    conn = await asyncpg.connect(legal.s.services["legal"].dsn)
    try:
        # A stage before the filing (the filing is today) is refused like a tribunal's step.
        before = await _rows(conn, uuid.UUID(cid))
        r = await legal.post(
            f"/cases/{cid}/stage", cadre, {"stage": "arbitration", "on": str(TODAY - timedelta(days=1))}
        )
        assert r.status_code == 422 and f"cannot be before the filing ({TODAY})" in r.json()["detail"]
        assert await _rows(conn, uuid.UUID(cid)) == before

        await legal.ok(await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "arbitration"}))
        before = await _rows(conn, uuid.UUID(cid))
        a_year_before = str(TODAY - timedelta(days=365))
        r = await legal.post(f"/cases/{cid}/arbitration/accepted", cadre, {"on": a_year_before})
        assert r.status_code == 422
        assert (
            f"the tribunal's acceptance cannot be before the application for arbitration ({TODAY})"
            in (r.json()["detail"])
        )
        tomorrow = str(TODAY + timedelta(days=1))
        r = await legal.post(f"/cases/{cid}/arbitration/accepted", cadre, {"on": tomorrow})
        assert r.status_code == 422 and f"cannot be after today ({TODAY}, China time)" in r.json()["detail"]
        assert await _rows(conn, uuid.UUID(cid)) == before  # no acceptance, no award deadline, no trail

        accepted = await legal.ok(await legal.post(f"/cases/{cid}/arbitration/accepted", cadre, {}))
        assert accepted["arbitration_accepted_on"] == str(TODAY)
        r = await legal.post(
            f"/cases/{cid}/arbitration/awarded", cadre, {"on": str(TODAY - timedelta(days=2))}
        )
        assert r.status_code == 422 and f"before the tribunal's acceptance ({TODAY})" in r.json()["detail"]
    finally:
        await conn.close()


async def test_arbitration_follows_a_failed_mediation_never_an_agreement(legal: Legal) -> None:
    cid, cadre = await _accepted_case(legal)
    await legal.ok(await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "mediation"}))
    conn = await asyncpg.connect(legal.s.services["legal"].dsn)
    try:
        before = await _rows(conn, uuid.UUID(cid))
        early = await legal.post(f"/cases/{cid}/mediation/outcome", cadre, {"outcome": "window_passed"})
        assert early.status_code == 422 and "has not passed" in early.json()["detail"]
        assert await _rows(conn, uuid.UUID(cid)) == before

        agreed = await legal.ok(
            await legal.post(f"/cases/{cid}/mediation/outcome", cadre, {"outcome": "agreement"})
        )
        assert agreed["mediation_outcome"] == "agreement" and agreed["mediation_outcome_label"] == "达成协议"
        window = [d for d in agreed["deadlines"] if d["name"] == "mediation_window"]
        assert {d["status"] for d in window} == {"cancelled"}  # mediation is over: its window stops

        before = await _rows(conn, uuid.UUID(cid))
        r = await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "arbitration"})
        assert r.status_code == 409 and "达成协议" in r.json()["detail"]
        r = await legal.post(f"/cases/{cid}/mediation/outcome", cadre, {"outcome": "failed"})
        assert r.status_code == 409 and "ended already" in r.json()["detail"]
        assert await _rows(conn, uuid.UUID(cid)) == before
        # Settled by the agreement, the case closes.
        closed = await legal.ok(await legal.post(f"/cases/{cid}/close", cadre, {"outcome": "settled"}))
        assert closed["stage"] == "closed"
    finally:
        await conn.close()
    events = await legal.events_until(agreed["member_id"], "legal.MediationEnded")
    ended = [p for e, p in events if e.event_type == "legal.MediationEnded"]
    assert [(p.outcome, p.on) for p in ended] == [("agreement", TODAY)]


async def _calendar_events(legal: Legal, mine: Callable[[Any], bool], count: int = 1) -> list[Any]:
    """The WorkingCalendarChanged events this test caused, once `count` of them are on the topic."""

    async def found() -> list[Any] | None:
        events = [
            p
            for e, p in await legal.events_of("working-calendar")
            if e.event_type.endswith("CalendarChanged")
        ]
        matching = [p for p in events if mine(p)]
        return matching if len(matching) >= count else None

    result: list[Any] = await eventually(found, timeout=20)
    return result


def _first_working_day_after(cal: Any, day: date) -> date:
    day += timedelta(days=1)
    while not cal.is_working_day(day):
        day += timedelta(days=1)
    return day


async def _opinion_sent_on(legal: Legal, union_id: uuid.UUID, sent: date) -> str:
    """A supervision opened through the API, its opinion letter sent on `sent` by the handler on
    a clock that reads that day (10:00 China time); the supervision's id."""
    cadre = legal.cadre(union_id)
    body = {"union_id": str(union_id), "employer": "某物流公司", "issue": "超时加班"}

    async def opened() -> dict[str, Any] | None:
        r = await legal.post("/supervisions", cadre, body)
        return r.json() if r.status_code == 201 else None  # the union reaches legal by its events

    sup: dict[str, Any] = await eventually(opened, timeout=20)
    pool, deps = await _deps(legal.s)
    try:
        on_that_day = dataclasses.replace(
            deps, now=lambda: datetime(sent.year, sent.month, sent.day, 2, tzinfo=UTC)
        )
        caller = Caller(
            Principal(sub="cadre-test", role=Role.CADRE, union_id=union_id), f"test-{uuid.uuid4()}"
        )
        await letters.letter_step(
            on_that_day, caller, uuid.UUID(sup["supervision_id"]), LetterAction.SEND_OPINION, None
        )
    finally:
        await pool.close()
    return str(sup["supervision_id"])


async def _pending(pool: asyncpg.Pool, sid: str) -> list[tuple[str, str, bool]]:
    """The supervision's pending deadline notices: (notice, due_on, provisional)."""
    async with pool.acquire() as conn:
        timers = await conn.fetch(
            """SELECT payload->>'notice' AS notice, payload->>'due_on' AS due_on,
                      (payload->>'provisional')::boolean AS provisional
               FROM timers WHERE subject = $1 AND status = 'pending'""",
            f"supervision:{sid}",
        )
    return sorted((t["notice"], t["due_on"], t["provisional"]) for t in timers)


async def test_a_calendar_change_reschedules_running_deadlines_and_a_second_replica_counts_with_it(
    legal: Legal,
) -> None:
    units = await legal.api.tree()
    cadre = legal.cadre(units["logistics"])
    admin = legal.s.headers(Role.ADMIN)
    url = f"{legal.url}/calendar"

    shipped = await legal.ok(await legal.http.get(f"{url}/2026", headers=cadre))
    assert shipped["published"] and shipped["source"] == "国务院办公厅关于2026年部分节假日安排的通知"
    spring = {d["day"]: d["kind"] for d in shipped["days"] if d["name"].startswith("春节")}
    assert spring["2026-02-14"] == "workday" and spring["2026-02-28"] == "workday"
    assert [d for d, k in spring.items() if k == "holiday"] == [f"2026-02-{n}" for n in range(15, 24)]
    unknown = await legal.ok(await legal.http.get(f"{url}/2031", headers=cadre))
    assert unknown["published"] is False and unknown["days"] == []

    # A year of this test's own, published (with no holiday yet) so its count is not provisional.
    year = TODAY.year + 20
    new_year = {"source": "测试用通知", "days": [{"day": f"{year}-01-01", "kind": "holiday", "name": "元旦"}]}
    await legal.ok(await legal.http.put(f"{url}/{year}", json=new_year, headers=admin))

    # A second replica's calendar, loaded before the change.
    pool = await asyncpg.create_pool(legal.s.services["legal"].dsn, min_size=1, max_size=1)
    assert pool is not None
    replica = CalendarCache()
    async with pool.acquire() as conn, conn.transaction():
        old = await replica.current(conn)

    # An opinion letter sent on 2 March of that year: its reply deadline runs.
    sent_on = date(year, 3, 2)
    sid = await _opinion_sent_on(legal, units["logistics"], sent_on)
    sent = await legal.ok(await legal.get(f"/supervisions/{sid}", cadre))
    due = date.fromisoformat(sent["opinion_reply_due"])
    assert due == opinion_reply_due(sent_on, old) and sent["opinion_reply_provisional"] is False
    assert sent["opinion_reply_due_note"] is None

    # Refused: not an administrator; a weekday as a make-up day; a year not published. Nothing changes.
    holiday = _first_working_day_after(old, sent_on)
    path = f"{url}/{year}/days/{holiday}"
    body = {"change": "holiday", "name": "临时休假", "reason": "更正"}
    async with pool.acquire() as conn:
        revision = await conn.fetchval("SELECT revision FROM working_calendar_revision")
        rows = await conn.fetchval("SELECT count(*) FROM working_calendar")
    assert (await legal.http.put(path, json=body, headers=cadre)).status_code == 403
    weekday = await legal.http.put(path, json={**body, "change": "workday"}, headers=admin)
    assert weekday.status_code == 422 and "weekday" in weekday.json()["detail"]
    r = await legal.http.put(f"{url}/2031/days/2031-01-01", json=body, headers=admin)
    assert r.status_code == 409 and "PUT /calendar/2031" in r.json()["detail"]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT revision FROM working_calendar_revision") == revision
        assert await conn.fetchval("SELECT count(*) FROM working_calendar") == rows

    try:
        changed = await legal.ok(await legal.http.put(path, json=body, headers=admin))
        assert changed["revision"] == revision + 1 and changed["rescheduled"] >= 1
        assert {"day": str(holiday), "kind": "holiday"} in [
            {"day": d["day"], "kind": d["kind"]} for d in changed["days"]
        ]
        # The second replica counts with the committed calendar: the deadline is one day later.
        async with pool.acquire() as conn, conn.transaction():
            new = await replica.current(conn)
        assert new == dataclasses.replace(old, holidays=old.holidays | {holiday})
        moved = opinion_reply_due(sent_on, new)
        assert moved == _first_working_day_after(old, due)
        after = await legal.ok(await legal.get(f"/supervisions/{sid}", cadre))
        assert after["opinion_reply_due"] == str(moved)
        assert await _pending(pool, sid) == [
            ("approaching", str(moved), False),
            ("missed", str(moved), False),
        ]
        async with pool.acquire() as conn:
            trail = await conn.fetch(
                "SELECT action, reason FROM audit_trail WHERE subject = $1 ORDER BY id", f"calendar:{year}"
            )
            assert ("calendar.day_changed", "更正") in [(t["action"], t["reason"]) for t in trail]

        mine = await _calendar_events(legal, lambda p: p.revision == revision + 1)
        assert len(mine) == 1 and mine[0].days[0].day == holiday and mine[0].days[0].kind == "holiday"
        assert mine[0].rescheduled == changed["rescheduled"]
    finally:
        # Put the calendar back: the letter's deadline returns to its first day.
        back = await legal.http.put(path, json={"change": "remove", "reason": "撤销测试"}, headers=admin)
        await pool.close()
    assert back.status_code == 200, back.text
    restored = await legal.ok(await legal.get(f"/supervisions/{sid}", cadre))
    assert restored["opinion_reply_due"] == str(due)


async def test_a_deadline_counted_into_a_year_not_published_is_provisional_until_the_year_is_published(
    legal: Legal,
) -> None:
    units = await legal.api.tree()
    cadre = legal.cadre(units["logistics"])
    admin = legal.s.headers(Role.ADMIN)
    year = TODAY.year + 21  # not published: counted by weekends alone
    unknown = await legal.ok(await legal.http.get(f"{legal.url}/calendar/{year}", headers=cadre))
    assert unknown["published"] is False

    sent_on = date(year, 3, 2)
    sid = await _opinion_sent_on(legal, units["logistics"], sent_on)
    weekends_only = WorkCalendar()
    due = opinion_reply_due(sent_on, weekends_only)
    sent = await legal.ok(await legal.get(f"/supervisions/{sid}", cadre))
    assert sent["opinion_reply_due"] == str(due) and sent["opinion_reply_provisional"] is True
    assert (
        sent["opinion_reply_due_note"]
        == PROVISIONAL_LABEL
        == "暂按周末推算，待国务院公布当年节假日安排后自动调整"
    )
    pool = await asyncpg.create_pool(legal.s.services["legal"].dsn, min_size=1, max_size=1)
    assert pool is not None
    try:
        assert await _pending(pool, sid) == [("approaching", str(due), True), ("missed", str(due), True)]

        async def opinion_sent() -> list[Any] | None:
            events = await legal.events_of(str(units["logistics"]))
            mine = [p for e, p in events if e.event_type == "legal.SupervisionLetterSent"
                    and str(p.supervision_id) == sid and p.letter == "opinion"]  # fmt: skip
            return mine or None

        opinion = await eventually(opinion_sent, timeout=20)
        assert [(p.reply_due_on, p.reply_due_provisional) for p in opinion] == [(due, True)]

        # The year is published with a holiday on the letter's path: the deadline moves a
        # working day later and is no longer provisional.
        holiday = _first_working_day_after(weekends_only, sent_on)
        arrangement = {
            "source": "测试用通知",
            "days": [{"day": str(holiday), "kind": "holiday", "name": "测试假日"}],
        }
        published = await legal.ok(
            await legal.http.put(f"{legal.url}/calendar/{year}", json=arrangement, headers=admin)
        )
        assert published["published"] and published["rescheduled"] >= 1
        moved = _first_working_day_after(weekends_only, due)
        after = await legal.ok(await legal.get(f"/supervisions/{sid}", cadre))
        assert after["opinion_reply_due"] == str(moved) and after["opinion_reply_provisional"] is False
        assert after["opinion_reply_due_note"] is None
        assert await _pending(pool, sid) == [
            ("approaching", str(moved), False),
            ("missed", str(moved), False),
        ]
        async with pool.acquire() as conn:
            trail = await conn.fetch(
                """SELECT detail->>'from_due_on' AS was, detail->>'due_on' AS due_on,
                          (detail->>'was_provisional')::boolean AS was_provisional,
                          (detail->>'provisional')::boolean AS provisional
                   FROM audit_trail WHERE subject = $1 AND action = 'deadline.rescheduled'""",
                f"supervision:{sid}",
            )
        assert [tuple(t) for t in trail] == [(str(due), str(moved), True, False)]
    finally:
        await pool.close()


async def test_an_administrator_publishes_a_year_whole_and_bad_arrangements_change_nothing(
    legal: Legal,
) -> None:
    units = await legal.api.tree()
    admin = legal.s.headers(Role.ADMIN)
    url = f"{legal.url}/calendar/2032"  # a year no other test counts in
    good = {"source": "测试用通知", "days": [
        {"day": "2032-01-01", "kind": "holiday", "name": "元旦"}, {"day": "2032-01-04", "kind": "workday"}]}  # fmt: skip
    conn = await asyncpg.connect(legal.s.services["legal"].dsn)
    try:

        async def state() -> tuple[Any, ...]:
            return (
                await conn.fetchval("SELECT revision FROM working_calendar_revision"),
                await conn.fetchval("SELECT count(*) FROM working_calendar"),
                await conn.fetchval("SELECT count(*) FROM working_calendar_years"),
                await conn.fetchval("SELECT count(*) FROM audit_trail WHERE subject LIKE 'calendar:%'"),
            )

        before = await state()
        assert (
            await legal.http.put(url, json=good, headers=legal.cadre(units["district"]))
        ).status_code == 403
        for days, why in [
            ([{"day": "2031-12-31", "kind": "holiday"}], "not in 2032"),
            ([{"day": "2032-01-05", "kind": "workday"}], "weekday"),
            ([{"day": "2032-01-01", "kind": "holiday"}, {"day": "2032-01-01", "kind": "holiday"}], "twice"),
        ]:
            r = await legal.http.put(url, json={"source": "通知", "days": days}, headers=admin)
            assert r.status_code == 422 and why in r.json()["detail"], r.text
        r = await legal.http.put(
            url, json={**good, "days": [{"day": "2032-02-30", "kind": "holiday"}]}, headers=admin
        )
        assert r.status_code == 422
        assert await state() == before

        published = await legal.ok(await legal.http.put(url, json=good, headers=admin))
        assert published["published"] and published["source"] == "测试用通知"
        assert [(d["day"], d["kind"], d["name"]) for d in published["days"]] == [
            ("2032-01-01", "holiday", "元旦"), ("2032-01-04", "workday", "调休上班")]  # fmt: skip
        assert published["revision"] == before[0] + 1 and published["rescheduled"] == 0
        # Now a day of it may be corrected.
        removed = await legal.ok(
            await legal.http.put(
                f"{url}/days/2032-01-04", json={"change": "remove", "reason": "更正"}, headers=admin
            )
        )
        assert [d["day"] for d in removed["days"]] == ["2032-01-01"]
    finally:
        await conn.close()
    changes = await _calendar_events(legal, lambda p: p.year == 2032, count=2)
    assert [(p.published, len(p.days)) for p in changes] == [(True, 2), (False, 1)]
