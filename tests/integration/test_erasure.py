"""Erasure (删除个人信息) end to end on the real stack: after a former member is erased, their
name, national ID (clear and masked) and phone are in no service's database, no service's log
and no answer, while the other members' cards and the relief and legal records stay as they were."""

import asyncio
import os
import random
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from scripts import stack
from services.enrollment.domain.national_id import check_char
from shared import membership
from shared.auth import Role
from shared.contracts import ContractError, decode_event
from shared.contracts.enrollment import (
    PERSON_PARTS,
    EmploymentType,
    MemberEnrolled,
    MembershipPeriod,
    MembershipStatus,
    MemberSnapshot,
    PersonErased,
)
from shared.contracts.envelope import EventPayload
from shared.contracts.topics import ENROLLMENT_EVENTS, ENROLLMENT_STATE, PERSON_KEYS
from shared.db import open_pool
from shared.membership.store import erase_member
from shared.person_keys import KeyBook
from shared.pii import mask_national_id, mask_phone
from shared.shredding import Sealed
from tests.integration.conftest import PERSON_KEY_SECRET, PII_KEY, Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_projector_rebuild import run_rebuild

pytestmark = pytest.mark.integration

# The services that keep a view of membership, hence a copy of the name.
MEMBERSHIP_VIEWS = ("relief", "legal", "competitions")


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


def distinct_person(rng: random.Random) -> dict[str, str]:
    """Someone whose name, ID and phone no other test uses: a rare surname and given name, an ID
    from Xinjiang (the other tests' people are from Hangzhou), so a find is theirs alone."""
    given = "翀翊翕翔翘翙翚翛翜翝翞翟"
    first17 = (
        f"650102{date(1980, 1, 1) + timedelta(days=rng.randrange(9000)):%Y%m%d}{rng.randrange(1000):03d}"
    )
    return {
        "name": "欧阳" + "".join(rng.choice(given) for _ in range(2)),
        "national_id": first17 + check_char(first17),
        "phone": f"19{rng.randrange(10**9):09d}",
        "employer": "某外卖配送站",
        "employment_type": "migrant",
    }


def needles(p: dict[str, str]) -> list[str]:
    return [
        p["name"],
        p["national_id"],
        mask_national_id(p["national_id"]),
        p["phone"],
        mask_phone(p["phone"]),
    ]


async def personal_data_found(dsn: str, find: list[str]) -> list[str]:
    """Every table of the database (every schema, so every projector generation too) whose rows,
    read as text (all columns, jsonb and arrays included), contain one of `find`."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE'
                 AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
        )
        found = []
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            hits = await conn.fetchval(
                f"SELECT count(*) FROM {name} r WHERE r::text LIKE ANY($1::text[])",
                [f"%{n}%" for n in find],
            )
            if hits:
                found.append(f"{name}: {hits} row(s)")
        return found
    finally:
        await conn.close()


def _irregular_ids(s: Stack, union_id: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(stack.ROOT),
        "DATABASE_URL": s.services["enrollment"].dsn, "PII_KEY": PII_KEY,
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "services.enrollment.irregular_ids", "--union", union_id],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def rows(dsn: str, query: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def replay_of_the_run(s: Stack, *people: str) -> tuple[list[bytes], list[EventPayload]]:
    """Every record of every topic of the run (events, state, person keys, dead letters) as
    bytes, and every event among them decoded and opened as a consumer opens it: with a
    brand-new follower of the person keys. No dead letter is about one of `people`."""
    await eventually(lambda: _outbox_empty(s.services["enrollment"].dsn))
    admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith(s.topic_prefix))
    finally:
        await admin.close()
    assert s.topic(ENROLLMENT_EVENTS) in topics and s.topic(ENROLLMENT_STATE) in topics
    records = {t: await read_topic(s.bootstrap, t) for t in topics}
    raw = [r.value for t in topics for r in records[t] if r.value]
    # A consumer that cannot open a field (the person erased) applies the event all the same.
    dead = [r.key for t in topics if ".deadletter." in t for r in records[t]]
    assert [k for k in dead if k and k.decode() in people] == []
    keys = KeyBook(s.bootstrap, s.topic(PERSON_KEYS), PERSON_KEY_SECRET, 1)
    await keys.start()
    try:
        events = []
        for value in raw:
            try:
                envelope, payload = decode_event(value)
            except ContractError:
                continue  # a person key, a dead letter's own record
            if str(envelope.subject) not in people:
                # Other tests' records on the session's topics (some from services started with
                # other secrets, whose keys this follower cannot open): their bytes are searched
                # above all the same.
                continue
            events.append(await asyncio.wait_for(keys.open_sealed(payload), 15))
    finally:
        await keys.stop()
    return raw, events


def personal_fields_of(events: list[EventPayload], person: str) -> set[str]:
    """The name, masked ID and employer every enrollment event about the person carries."""
    found: set[str] = set()
    for e in events:
        about = getattr(e, "member", None) or e
        if str(getattr(about, "member_id", getattr(about, "person_id", ""))) == person:
            found |= {
                str(getattr(about, f))
                for f in ("name", "national_id_masked", "employer")
                if hasattr(about, f)
            }
    return found


async def topics_forget(
    s: Stack, gone: str, gone_person: dict[str, str], kept: str, kept_person: dict[str, str]
) -> None:
    """After the erasure, a replay of every topic of the run reads nothing personal of the erased
    person, while the other member's fields still open; and what compaction keeps of enrollment's
    state topic (the latest record per key) is PersonErased under each of their keys."""
    find = needles(gone_person)
    raw, events = await replay_of_the_run(s, gone, kept)
    assert [v for v in raw if any(n.encode() in v for n in find)] == []
    assert personal_fields_of(events, gone) == {""}  # sealed, and the key is gone
    assert {kept_person["name"], kept_person["employer"]} <= personal_fields_of(events, kept)
    records = await read_topic(s.bootstrap, s.topic(ENROLLMENT_STATE))
    latest = {r.key.decode(): r.value for r in records}  # per partition in offset order: a key's last
    for part in PERSON_PARTS:
        _, payload = decode_event(latest[f"{gone}:{part}"])
        assert isinstance(payload, PersonErased) and str(payload.person_id) == gone
    _, kept_member = decode_event(latest[f"{kept}:member"])
    assert isinstance(kept_member, MemberEnrolled) and isinstance(kept_member.member.name, Sealed)


async def _outbox_empty(dsn: str) -> bool:
    return not await rows(dsn, "SELECT 1 FROM outbox")


async def test_an_erased_member_is_nowhere_and_everyone_else_is_as_before(api: Api, stack_env: Stack) -> None:
    s = stack_env
    rng = random.Random()
    units = await api.tree()
    union = units["riders"]
    cadre = api.cadre(union)
    gone_person, kept_person = distinct_person(rng), distinct_person(rng)
    gone = (await api.enrolled_member(union, **gone_person))["member_id"]
    kept = (await api.enrolled_member(union, **kept_person))["member_id"]
    relief, legal = s.services["relief"].url, s.services["legal"].url
    db = {name: svc.dsn for name, svc in s.services.items() if svc.database}

    # Each has a relief case and a legal case: records the law wants kept, without the name.
    for mid in (gone, kept):
        report = {"member_id": mid, "household_register_no": f"6501{rng.randrange(10**8):08d}",
                  "household_size": 3, "monthly_income_fen": 240_000, "causes": ["illness"]}  # fmt: skip
        filing = {"kind": "wage_arrears", "employer": "某外卖配送站", "amount_claimed_fen": 680_000,
                  "learned_on": (date.today() - timedelta(days=20)).isoformat(), "migrant_worker": True}  # fmt: skip
        me = s.headers(Role.MEMBER, member_id=uuid.UUID(mid))

        async def opened(url: str, body: dict[str, Any], headers: dict[str, str]) -> bool:
            r = await api.http.post(url, json=body, headers=headers)
            return r.status_code == 201  # the service learns of the member from events

        await eventually(lambda: opened(f"{relief}/cases", report, cadre))  # noqa: B023
        await eventually(lambda: opened(f"{legal}/cases", filing, me))  # noqa: B023
    # The erased one has left first: erasure is for former members.
    left = await api.http.post(
        f"{api.enrollment}/members/{gone}/leave", json={"reason": "离职"}, headers=cadre
    )
    assert left.status_code == 200, left.text
    await api.card_when(gone, "left")

    async def gone_case_suspended() -> bool:
        found = await rows(db["relief"], "SELECT status FROM cases WHERE member_id = $1", uuid.UUID(gone))
        return bool(found) and found[0]["status"] == "suspended"

    await eventually(gone_case_suspended)
    # Before the erasure a replay opens the person's fields (so the checks after it can fail),
    # though no record carries them in clear.
    raw, events = await replay_of_the_run(s, gone, kept)
    assert not [v for v in raw if any(n.encode() in v for n in needles(gone_person))]
    assert {gone_person["name"], gone_person["employer"]} <= personal_fields_of(events, gone)
    ids = [uuid.UUID(gone), uuid.UUID(kept)]
    relief_cases = "SELECT * FROM cases WHERE member_id = ANY($1::uuid[]) ORDER BY case_id"
    legal_cases = "SELECT * FROM cases WHERE member_id = ANY($1::uuid[]) ORDER BY case_id"
    today = date.today()
    month = {
        "union_id": str(union),
        "start": (today - timedelta(days=30)).isoformat(),
        "end": (today + timedelta(days=1)).isoformat(),
    }

    async def totals() -> dict[str, Any]:
        """The relief and legal summaries of the union, as their cadres read them."""
        answers = {
            "relief": await api.http.get(
                f"{relief}/reports/summary",
                params={"union_id": str(union), "year": today.year},
                headers=cadre,
            ),
            "legal": await api.http.get(f"{legal}/reports/summary", params=month, headers=cadre),
        }
        for answer in answers.values():
            assert answer.status_code == 200, answer.text
        return {k: a.json() for k, a in answers.items()}

    before = {
        "totals": await totals(),
        "kept_card": (await api.card(kept)).json(),
        "relief": await rows(db["relief"], relief_cases, ids),
        "legal": await rows(db["legal"], legal_cases, ids),
        "enrollment": await rows(db["enrollment"], "SELECT * FROM members WHERE member_id = $1", ids[1]),
    }
    assert len(before["relief"]) == 2 and len(before["legal"]) == 2
    # The totals count these cases (the union is this test's own), so a change would show.
    assert sum(before["totals"]["relief"]["open_cases_by_status"].values()) >= 1
    assert before["totals"]["legal"]["by_kind_and_stage"]

    # Refused: an active member (409), a cadre of another union (403), the member themselves
    # (403), no reason (422). Nothing changes.
    for target, headers, body, refused in (
        (kept, cadre, {"reason": "本人申请"}, 409),
        (gone, api.cadre(units["other_city"]), {"reason": "本人申请"}, 403),
        (gone, s.headers(Role.MEMBER, member_id=uuid.UUID(gone)), {"reason": "本人申请"}, 403),
        (gone, cadre, {"reason": ""}, 422),
    ):
        r = await api.http.post(f"{api.enrollment}/members/{target}/erasure", json=body, headers=headers)
        assert r.status_code == refused, r.text
    assert (
        await rows(db["enrollment"], "SELECT * FROM members WHERE member_id = $1", ids[1])
        == before["enrollment"]
    )
    assert await personal_data_found(db["enrollment"], needles(gone_person))  # still there

    # Refused while the former member has applied again: approving that application after the
    # erasure would bring back a nameless member. Decided, the erasure may go on.
    again_applied = await api.apply(union, **gone_person)
    assert again_applied.status_code == 201, again_applied.text
    gone_rows = "SELECT to_jsonb(a) FROM applications a WHERE person_id = $1 ORDER BY application_id"
    held = await rows(db["enrollment"], gone_rows, ids[0])
    r = await api.http.post(
        f"{api.enrollment}/members/{gone}/erasure", json={"reason": "本人申请"}, headers=cadre
    )
    assert r.status_code == 409 and "pending" in r.text
    assert await rows(db["enrollment"], gone_rows, ids[0]) == held
    rejected = await api.http.post(
        f"{api.enrollment}/applications/{again_applied.json()['application']['application_id']}/reject",
        json={"reason": "本人撤回"},
        headers=cadre,
    )
    assert rejected.status_code == 200, rejected.text

    inbox = "SELECT kind, title FROM public.inbox WHERE member_id = $1"
    assert await eventually(lambda: rows(db["projector"], inbox, ids[0]))  # their inbox, to be erased
    erased = await api.http.post(
        f"{api.enrollment}/members/{gone}/erasure", json={"reason": "本人申请删除，已离会"}, headers=cadre
    )
    assert erased.status_code == 204, erased.text

    # Every service has had PersonErased once the membership views hold no name for them.
    async def purged_everywhere() -> bool:
        for service in MEMBERSHIP_VIEWS:
            names = await rows(db[service], "SELECT name FROM members WHERE member_id = $1", ids[0])
            if names != [{"name": ""}]:
                return False
        return (await api.card(gone)).status_code == 404

    await eventually(purged_everywhere)
    await topics_forget(s, gone, gone_person, kept, kept_person)

    find = needles(gone_person)
    for service, dsn in db.items():
        assert await personal_data_found(dsn, find) == [], f"{service} still holds the erased person's data"
    for service, svc in s.services.items():
        log = svc.log_path.read_text(encoding="utf-8", errors="replace")
        assert not [n for n in find if n in log], f"{service}'s log names the erased person"

    # The ID check passes the erased person by (their number is gone on purpose, not unreadable).
    checked = _irregular_ids(s, str(union))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "0 of 1 members have an ID number that breaks the rule"

    # Answers: the member and the card are not found; the cases answer without the name.
    assert (await api.http.get(f"{api.enrollment}/members/{gone}", headers=api.admin)).status_code == 404
    assert (await api.card(gone)).status_code == 404
    for url in (
        f"{relief}/cases/{before['relief'][0]['case_id']}",
        f"{relief}/cases/{before['relief'][1]['case_id']}",
    ):
        answer = await api.http.get(url, headers=cadre)
        assert answer.status_code == 200, answer.text
        assert not [n for n in find if n in answer.text]
    again = await api.http.post(
        f"{api.enrollment}/members/{gone}/erasure", json={"reason": "再次"}, headers=cadre
    )
    assert again.status_code == 404  # nothing left to erase

    # The others and the records the law keeps are as they were.
    assert await totals() == before["totals"]
    assert (await api.card(kept)).json() == before["kept_card"]
    assert await rows(db["relief"], relief_cases, ids) == before["relief"]
    assert await rows(db["legal"], legal_cases, ids) == before["legal"]
    assert (
        await rows(db["enrollment"], "SELECT * FROM members WHERE member_id = $1", ids[1])
        == before["enrollment"]
    )
    periods = await rows(db["enrollment"], "SELECT * FROM membership_periods WHERE member_id = $1", ids[0])
    assert len(periods) == 1 and periods[0]["end_reason"] == "left"  # membership history stays
    trail = await rows(
        db["enrollment"], "SELECT actor, reason, detail FROM audit_trail WHERE action = 'member.erased' "
        "AND record_id = $1", ids[0],
    )  # fmt: skip
    assert len(trail) == 1 and trail[0]["reason"] == "本人申请删除，已离会"

    # A later event of another service about the erased member brings nothing of theirs back
    # onto the card: their relief case is withdrawn after the erasure.
    gone_case = next(c["case_id"] for c in before["relief"] if c["member_id"] == ids[0])
    withdrawn = await api.http.post(
        f"{relief}/cases/{gone_case}/withdraw", json={"reason": "member_request"}, headers=cadre
    )
    assert withdrawn.status_code == 200, withdrawn.text

    async def projected() -> bool:
        if await rows(db["relief"], "SELECT 1 FROM outbox"):
            return False  # relief has not published it yet
        status = await api.http.get(f"{api.cards}/projection/status", headers=api.admin)
        return bool(status.json()["total_lag"] == 0)

    await eventually(projected)
    assert await rows(db["projector"], "SELECT * FROM public.relief_cases WHERE member_id = $1", ids[0]) == []
    assert await rows(db["projector"], inbox, ids[0]) == []  # not even "困难帮扶：已撤销"
    assert await rows(
        db["projector"], "SELECT member_id FROM public.erased_members WHERE member_id = $1", ids[0]
    )

    # A rebuild replays every event of the person, sealed with a key that is gone, and their
    # superseded state records (read in either order): the new generation brings nothing back,
    # and dead-letters nothing (checked by the replay).
    code, out, err = await run_rebuild(s)
    assert code == 0, out + err
    assert "rebuild_finished" in out and not [n for n in find if n in out + err]
    assert (await api.card(gone)).status_code == 404
    kept_card = await api.card(kept)
    assert kept_card.status_code == 200 and kept_card.json()["membership"]["name"] == kept_person["name"]
    assert await rows(db["projector"], inbox, ids[0]) == [] and await rows(db["projector"], inbox, ids[1])
    assert await personal_data_found(db["projector"], find) == []
    await replay_of_the_run(s, gone, kept)


async def open_a_relief_and_a_legal_case(
    api: Api, member_id: str, cadre: dict[str, str], rng: random.Random
) -> dict[str, str]:
    """A relief case reported by the cadre and a legal case the member files (once the services
    have learnt of the member from events): their ids by service."""
    s = api.s
    report = {"member_id": member_id, "household_register_no": f"6501{rng.randrange(10**8):08d}",
              "household_size": 3, "monthly_income_fen": 240_000, "causes": ["illness"]}  # fmt: skip
    filing = {"kind": "wage_arrears", "employer": "某外卖配送站", "amount_claimed_fen": 680_000,
              "learned_on": (date.today() - timedelta(days=20)).isoformat(), "migrant_worker": True}  # fmt: skip
    me = s.headers(Role.MEMBER, member_id=uuid.UUID(member_id))
    opened: dict[str, str] = {}

    async def open_case(service: str, body: dict[str, Any], headers: dict[str, str]) -> bool:
        r = await api.http.post(f"{s.services[service].url}/cases", json=body, headers=headers)
        if r.status_code == 201:  # relief answers the intake, with the case in it
            opened[service] = r.json().get("case", r.json())["case_id"]
        return r.status_code == 201

    await eventually(lambda: open_case("relief", report, cadre))
    await eventually(lambda: open_case("legal", filing, me))
    return opened


async def test_a_member_gets_a_copy_of_their_data_once_a_cadre_approves(api: Api, stack_env: Stack) -> None:
    s = stack_env
    units = await api.tree()
    union = units["logistics"]
    p = distinct_person(random.Random())
    mid = (await api.enrolled_member(union, **p))["member_id"]
    me = s.headers(Role.MEMBER, member_id=uuid.UUID(mid))
    someone_else = s.headers(Role.MEMBER, member_id=uuid.uuid4())
    base = api.enrollment
    db = s.services["enrollment"].dsn
    relief, legal = s.services["relief"].url, s.services["legal"].url
    cases = await open_a_relief_and_a_legal_case(api, mid, api.cadre(union), random.Random())

    assert (
        await api.http.post(f"{base}/members/{mid}/export-requests", headers=api.cadre(union))
    ).status_code == 403
    asked = await api.http.post(f"{base}/members/{mid}/export-requests", headers=me)
    assert asked.status_code == 201, asked.text
    rid = asked.json()["request_id"]
    assert asked.json()["status"] == "pending"
    pending = await rows(db, "SELECT * FROM export_requests WHERE request_id = $1", uuid.UUID(rid))

    # Refused, and the request stays as it was: read before approval, approved by the member
    # themselves or by a cadre outside the member's union.
    assert (await api.http.get(f"{base}/export-requests/{rid}/export", headers=me)).status_code == 409
    for outsider in (me, api.cadre(units["other_city"])):
        refused = await api.http.post(f"{base}/export-requests/{rid}/approve", headers=outsider)
        assert refused.status_code == 403, refused.text
    assert await rows(db, "SELECT * FROM export_requests WHERE request_id = $1", uuid.UUID(rid)) == pending

    approved = await api.http.post(
        f"{base}/export-requests/{rid}/approve", headers=api.cadre(units["district"])
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    twice = await api.http.post(f"{base}/export-requests/{rid}/approve", headers=api.admin)
    assert twice.status_code == 409

    for not_theirs in (someone_else, api.cadre(union), api.admin):
        assert (
            await api.http.get(f"{base}/export-requests/{rid}/export", headers=not_theirs)
        ).status_code == 403
    got = await api.http.get(f"{base}/export-requests/{rid}/export", headers=me)
    assert got.status_code == 200, got.text
    export = got.json()
    assert export["member"]["name"] == p["name"] and export["phone"] == p["phone"]
    assert export["member"]["national_id_masked"] == mask_national_id(p["national_id"])
    assert p["national_id"] not in got.text  # held encrypted: never in an answer
    assert [a["status"] for a in export["applications"]] == ["approved"]
    assert export["member"]["periods"][0]["union_id"] == str(union)
    actions = [e["action"] for e in export["trail"]]
    assert actions[:2] == ["application.submitted", "application.approved"]
    assert "export.requested" in actions and "export.approved" in actions

    # The other services' sections, asked with the member's own credentials.
    sections = {x["service"]: x for x in export["sections"]}
    assert set(sections) == {"relief", "legal", "competitions"}
    assert {x: v["status"] for x, v in sections.items()} == dict.fromkeys(sections, "included"), sections
    held = {x: [(r["kind"], r["record_id"]) for r in sections[x]["section"]["records"]] for x in sections}
    assert ("relief_case", cases["relief"]) in held["relief"]
    assert ("hardship_report", "relief_case") not in held["relief"]
    assert [k for k, _ in held["relief"]].count("hardship_report") == 1
    assert held["legal"] == [("legal_case", cases["legal"])]
    assert held["competitions"] == []
    relief_case = sections["relief"]["section"]["records"][0]["data"]
    assert relief_case["member_id"] == mid and "household_hash" not in relief_case
    assert "member_ids" not in sections["legal"]["section"]["records"][0]["data"]
    assert "case.opened" in [t["action"] for t in sections["relief"]["section"]["trail"]]
    assert sections["relief"]["note"] == "困难帮扶：共 2 条记录"
    # Each service's section is the member's alone: another member, a cadre, an admin are refused.
    for url in (relief, legal, s.services["competitions"].url):
        for other in (someone_else, api.cadre(union), api.admin):
            refused = await api.http.get(f"{url}/members/{mid}/personal-data", headers=other)
            assert refused.status_code == 403, refused.text

    trail = await rows(
        db, "SELECT action, actor FROM audit_trail WHERE subject = $1 ORDER BY id", rid
    )  # every step audited, the reading too
    assert [t["action"] for t in trail] == ["export.requested", "export.approved", "export.delivered"]

    # Once erased there is nothing to export.
    cadre = api.cadre(union)
    assert (
        await api.http.post(f"{base}/members/{mid}/leave", json={"reason": "离职"}, headers=cadre)
    ).status_code == 200
    erased = await api.http.post(f"{base}/members/{mid}/erasure", json={"reason": "本人申请"}, headers=cadre)
    assert erased.status_code == 204
    assert (await api.http.get(f"{base}/export-requests/{rid}/export", headers=me)).status_code == 404


async def test_an_applicant_who_never_became_a_member_can_be_erased(api: Api, stack_env: Stack) -> None:
    """A rejected applicant's name, ID and phone leave enrollment, the card's store and every
    topic replay; the application stays, nameless, with its decision. Refused (and nothing
    changes) while an application of theirs is pending, out of scope, for the applicant
    themself, once they became a member, and a second time."""
    s = stack_env
    units = await api.tree()
    union, cadre = units["riders"], api.cadre(units["riders"])
    p = distinct_person(random.Random())
    base = api.enrollment
    db = {name: svc.dsn for name, svc in s.services.items() if svc.database}
    submitted = await api.apply(union, **p)
    assert submitted.status_code == 201, submitted.text
    app_id = submitted.json()["application"]["application_id"]
    person = submitted.json()["application"]["member_id"]
    erase = f"{base}/applications/{app_id}/erasure"
    reason = {"reason": "本人申请删除"}

    async def enrollment_rows() -> list[dict[str, Any]]:
        return await rows(
            db["enrollment"], "SELECT * FROM applications WHERE person_id = $1", uuid.UUID(person)
        )

    before = await enrollment_rows()
    pending = await api.http.post(erase, json=reason, headers=cadre)
    assert pending.status_code == 409 and "pending" in pending.text
    rejected = await api.http.post(
        f"{base}/applications/{app_id}/reject", json={"reason": "材料不全"}, headers=cadre
    )
    assert rejected.status_code == 200, rejected.text
    before = await enrollment_rows()
    me = s.headers(Role.MEMBER, member_id=uuid.UUID(person))
    for refused_caller, code in ((api.cadre(units["other_city"]), 403), (me, 403)):
        refused = await api.http.post(erase, json=reason, headers=refused_caller)
        assert refused.status_code == code, refused.text
    assert await enrollment_rows() == before
    assert (
        await api.http.post(f"{base}/applications/{uuid.uuid4()}/erasure", json=reason, headers=cadre)
    ).status_code == 404

    async def applicant_card_shown() -> bool:
        return (await api.card(person)).status_code == 200

    await eventually(applicant_card_shown)
    erased = await api.http.post(erase, json=reason, headers=cadre)
    assert erased.status_code == 204, erased.text
    twice = await api.http.post(erase, json=reason, headers=cadre)
    assert twice.status_code == 409 and "erased already" in twice.text

    after = await enrollment_rows()
    assert [(a["status"], a["decision_reason"], a["name"]) for a in after] == [("rejected", "材料不全", "")]
    find = needles(p)

    async def purged() -> bool:
        return (await api.card(person)).status_code == 404 and not await personal_data_found(
            db["projector"], find
        )

    await eventually(purged)
    assert await personal_data_found(db["enrollment"], find) == []
    raw, events = await replay_of_the_run(s, person)
    assert [v for v in raw if any(n.encode() in v for n in find)] == []
    assert personal_fields_of(events, person) == {""}
    trail = await rows(
        db["enrollment"], "SELECT action FROM audit_trail WHERE record_id = $1 ORDER BY id", uuid.UUID(person)
    )
    assert [t["action"] for t in trail][-1] == "applicant.erased"

    # The same person may apply afresh: their ID no longer finds the erased record.
    again = await api.apply(union, **p)
    assert again.status_code == 201, again.text
    assert again.json()["application"]["member_id"] != person
    # And one who became a member is erased as a member, not by their application.
    q = distinct_person(random.Random())
    member = await api.enrolled_member(union, **q)
    their_app = (await rows(db["enrollment"], "SELECT application_id FROM applications WHERE person_id = $1",
                            uuid.UUID(member["member_id"])))[0]["application_id"]  # fmt: skip
    as_member = await api.http.post(f"{base}/applications/{their_app}/erasure", json=reason, headers=cadre)
    assert as_member.status_code == 409 and "became a member" in as_member.text


async def test_a_membership_view_that_meets_the_erasure_first_never_takes_the_name(scratch_dsn: str) -> None:
    """A new consumer group reads each part of the state topic under its own key: it may apply
    PersonErased before the person's last clear snapshot. Neither a view that never held the
    person nor one that did takes the name from that late snapshot; other people are unaffected."""
    pool = await open_pool(scratch_dsn, "erasure-test", [membership.MIGRATIONS], min_size=1, max_size=1)
    now = datetime.now(UTC)

    def snapshot(member_id: uuid.UUID, name: str) -> MemberSnapshot:
        return MemberSnapshot(
            member_id=member_id, name=name, national_id_masked="6501**********1234",
            membership_number="ZJ1", card_number="6217000012345678", base_union_id=member_id,
            status=MembershipStatus.LEFT, member_since=now.date(), employer="某外卖配送站",
            employment_type=EmploymentType.MIGRANT,
            periods=[MembershipPeriod(union_id=member_id, started_at=now)],
        )  # fmt: skip

    never_held, held, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with pool.acquire() as conn:
            assert await membership.upsert_member(conn, 2, snapshot(held, "欧阳翀翊"))
            await erase_member(conn, never_held, 7, now)
            await erase_member(conn, held, 7, now)
            assert not await membership.upsert_member(conn, 6, snapshot(never_held, "欧阳翔翘"))
            assert not await membership.upsert_member(conn, 6, snapshot(held, "欧阳翀翊"))
            assert await membership.get_member(conn, never_held) is None
            kept = await membership.get_member(conn, held)
            assert kept is not None and (kept.name, kept.version) == ("", 7)
            assert await membership.upsert_member(conn, 6, snapshot(other, "欧阳翚翛"))
            assert (got := await membership.get_member(conn, other)) is not None and got.name == "欧阳翚翛"
    finally:
        await pool.close()


async def test_an_erasure_undone_by_a_restore_is_applied_again_at_start(api: Api, stack_env: Stack) -> None:
    """A point-in-time restore to before an erasure brings the person's data and key back, while
    PersonErased is on the topic. Simulated: the person's rows, key and version (and the relay's
    published offsets) are put back as they were before the erasure, then enrollment restarts."""
    s = stack_env
    units = await api.tree()
    union = units["riders"]
    cadre = api.cadre(union)
    gone_person, kept_person = distinct_person(random.Random()), distinct_person(random.Random())
    gone = uuid.UUID((await api.enrolled_member(union, **gone_person))["member_id"])
    kept = uuid.UUID((await api.enrolled_member(union, **kept_person))["member_id"])
    left = await api.http.post(
        f"{api.enrollment}/members/{gone}/leave", json={"reason": "离职"}, headers=cadre
    )
    assert left.status_code == 200, left.text
    enrollment = s.services["enrollment"]
    tables = {
        "persons": "person_id", "members": "member_id", "applications": "person_id",
        "person_keys": "person_id", "event_versions": "subject",
    }  # fmt: skip
    conn = await asyncpg.connect(enrollment.dsn)
    try:
        before = {
            t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} WHERE {c}::text = $1", str(gone))]
            for t, c in tables.items()
        }
        kept_before = await conn.fetchrow("SELECT * FROM members WHERE member_id = $1", kept)
        erased = await api.http.post(
            f"{api.enrollment}/members/{gone}/erasure", json={"reason": "本人申请删除"}, headers=cadre
        )
        assert erased.status_code == 204, erased.text
        await eventually(lambda: _outbox_empty(enrollment.dsn))
        enrollment.stop()
        # The restore: the rows as they were, and the relay's record of what it published from
        # before the erasure (the reconciliation reads the topic from there).
        async with conn.transaction():
            for t, row_key in (
                ("persons", "person_id"),
                ("members", "member_id"),
                ("applications", "application_id"),
            ):
                for row in before[t]:
                    sets = ", ".join(f"{col} = ${i + 1}" for i, col in enumerate(row))
                    await conn.execute(
                        f"UPDATE {t} SET {sets} WHERE {row_key} = ${len(row) + 1}",
                        *row.values(),
                        row[row_key],
                    )
            for t in ("person_keys", "event_versions"):
                await conn.execute(f"DELETE FROM {t} WHERE {tables[t]}::text = $1", str(gone))
                for row in before[t]:
                    marks = ", ".join(f"${i + 1}" for i in range(len(row)))
                    await conn.execute(f"INSERT INTO {t} ({', '.join(row)}) VALUES ({marks})", *row.values())
        await conn.execute('UPDATE outbox_published SET "offset" = -1')
        assert (
            await conn.fetchval("SELECT name FROM members WHERE member_id = $1", gone) == gone_person["name"]
        )
        enrollment.start()

        assert await conn.fetchval("SELECT erased_at FROM persons WHERE person_id = $1", gone) is not None
        assert await conn.fetchval("SELECT name FROM members WHERE member_id = $1", gone) == ""
        assert await conn.fetchval("SELECT count(*) FROM person_keys WHERE person_id = $1", gone) == 0
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM audit_trail WHERE action = 'member.erased_again_after_restore' AND subject = $1",
                str(gone),
            )
            == 1
        )
        assert await conn.fetchrow("SELECT * FROM members WHERE member_id = $1", kept) == kept_before
    finally:
        await conn.close()
