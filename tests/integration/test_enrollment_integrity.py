"""Enrollment answers reveal nothing the caller could not read anyway, and announce only writes
that happened: real processes, a real broker and a real database."""

import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from scripts import stack
from scripts.fake_people import person
from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.enrollment import UnionRegistered
from shared.contracts.envelope import ContractError
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.pii import PiiProtector, mask_national_id, mask_phone
from tests.integration.conftest import PII_KEY, Stack, eventually, read_topic

pytestmark = pytest.mark.integration

_TABLES = (
    "unions",
    "persons",
    "applications",
    "members",
    "membership_periods",
    "audit_trail",
    "event_versions",
)
NEUTRAL = {"outcome": "received", "message": "申请已受理，工会将审核后联系您"}


class Office:
    def __init__(self, s: Stack, http: httpx.AsyncClient, db: asyncpg.Connection) -> None:
        self.s, self.http, self.db = s, http, db
        self.url = s.services["enrollment"].url
        self.admin = s.headers(Role.ADMIN)
        self.rng = random.Random()

    async def union(self, name: str, kind: str, parent: uuid.UUID | None = None) -> uuid.UUID:
        r = await self.register(name, kind, parent, self.admin)
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["union_id"])

    async def register(
        self, name: str, kind: str, parent: uuid.UUID | None, headers: dict[str, str]
    ) -> httpx.Response:
        body: dict[str, Any] = {"name": name, "kind": kind, "parent_id": str(parent) if parent else None}
        if parent is None:
            body["region"] = "330100"
        return await self.http.post(f"{self.url}/unions", json=body, headers=headers)

    def form(self, union_id: uuid.UUID, **override: Any) -> dict[str, Any]:
        p = person(self.rng)
        body = {
            "name": p.name, "national_id": p.national_id, "phone": p.phone,
            "employer": f"某保密公司-{uuid.uuid4().hex[:8]}", "employment_type": "employee",
            "base_union_id": str(union_id),
        }  # fmt: skip
        return body | override

    async def apply(self, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(f"{self.url}/applications", json=body, headers=headers)

    async def member(self, union_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
        """A member of that union: their form and the member as enrollment answers it."""
        body = self.form(union_id)
        filed = await self.apply(body, self.admin)
        assert filed.status_code == 201, filed.text
        app_id = filed.json()["application"]["application_id"]
        approved = await self.http.post(f"{self.url}/applications/{app_id}/approve", headers=self.admin)
        assert approved.status_code == 200, approved.text
        return body, approved.json()

    async def pending(self, union_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
        body = self.form(union_id)
        filed = await self.apply(body, self.admin)
        assert filed.status_code == 201, filed.text
        return body, filed.json()["application"]

    async def rows(self) -> dict[str, Any]:
        """Every row a submission could write, as text: equal before and after means untouched."""
        digest = "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {} x"
        return {t: await self.db.fetchval(digest.format(t)) for t in _TABLES}

    async def filed_in(self, union_id: uuid.UUID) -> list[dict[str, Any]]:
        r = await self.http.get(
            f"{self.url}/applications", params={"union_id": str(union_id)}, headers=self.admin
        )
        assert r.status_code == 200, r.text
        listed: list[dict[str, Any]] = r.json()
        return listed


@pytest.fixture
async def office(stack_env: Stack, http: httpx.AsyncClient) -> AsyncIterator[Office]:
    db = await asyncpg.connect(stack_env.services["enrollment"].dsn)
    try:
        yield Office(stack_env, http, db)
    finally:
        await db.close()


def _identity_of(form: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """What would identify the known person in an answer."""
    ids = ("card_number", "membership_number", "member_id", "application_id")
    return [
        form["name"], form["phone"], mask_phone(form["phone"]), form["employer"], form["national_id"],
        mask_national_id(form["national_id"]), *(str(found[k]) for k in ids if k in found),
    ]  # fmt: skip


def _neutral_headers(r: httpx.Response) -> dict[str, str]:
    # The correlation id is the request's own (random, or the caller's); everything else must match.
    return {k: v for k, v in r.headers.items() if k not in {"date", "x-correlation-id"}}


async def test_callers_outside_the_persons_union_get_one_neutral_answer_known_or_not(office: Office) -> None:
    tag = uuid.uuid4().hex[:6]
    city = await office.union(f"杭州市总工会-{tag}", "city")
    logistics = await office.union("某物流公司工会", "base", city)
    elsewhere_city = await office.union(f"宁波市总工会-{tag}", "city")
    elsewhere = await office.union("某港口公司工会", "base", elsewhere_city)
    known_form, known = await office.member(elsewhere)
    pending_form, pending = await office.pending(elsewhere)

    # Members file for their own person only (test_a_member_filing_for_anyone_else_...).
    callers = {"cadre out of scope": office.s.headers(Role.CADRE, union_id=city)}
    for who, headers in callers.items():
        unknown_form = office.form(logistics)
        unknown = await office.apply(unknown_form, headers)
        assert unknown.status_code == 202, (who, unknown.text)
        assert unknown.json() == NEUTRAL
        filed = [a for a in await office.filed_in(logistics) if a["name"] == unknown_form["name"]]
        assert len(filed) == 1 and filed[0]["status"] == "pending"  # the unknown person's was filed

        for case, (form, found) in {
            "member": (known_form, known),
            "pending": (pending_form, pending),
        }.items():
            before = await office.rows()
            # Even under another name and with a lower-case spelling of the number.
            answer = await office.apply(
                form
                | {
                    "base_union_id": str(logistics),
                    "name": "李四",
                    "national_id": form["national_id"].lower(),
                },
                headers,
            )
            assert answer.status_code == 202, (who, case, answer.text)
            assert answer.content == unknown.content, (who, case)
            assert _neutral_headers(answer) == _neutral_headers(unknown), (who, case)
            assert not [x for x in _identity_of(form, found) if x in answer.text], (who, case)
            assert await office.rows() == before, (who, case)


async def test_a_member_filing_for_anyone_else_is_refused_alike_whether_the_person_is_known_or_not(
    office: Office,
) -> None:
    tag = uuid.uuid4().hex[:6]
    city = await office.union(f"杭州市总工会-{tag}", "city")
    logistics = await office.union("某物流公司工会", "base", city)
    known_form, known = await office.member(logistics)
    pending_form, _ = await office.pending(logistics)
    other_form, other = await office.member(logistics)
    me = office.s.headers(Role.MEMBER, member_id=uuid.UUID(known["member_id"]))
    before = await office.rows()
    answers = {
        "unknown": await office.apply(office.form(logistics), me),
        "another member": await office.apply(other_form, me),
        "pending": await office.apply(
            pending_form | {"national_id": pending_form["national_id"].lower()}, me
        ),
    }
    for case, answer in answers.items():
        assert answer.status_code == 403, (case, answer.text)
        assert answer.content == answers["unknown"].content, case
        assert not [x for x in _identity_of(other_form, other) if x in answer.text], case
    assert await office.rows() == before
    assert known_form["national_id"] not in answers["unknown"].text


async def test_a_cadre_in_scope_sees_the_member_or_the_pending_application_and_nothing_beyond(
    office: Office,
) -> None:
    tag = uuid.uuid4().hex[:6]
    city = await office.union(f"杭州市总工会-{tag}", "city")
    district = await office.union("西湖区总工会", "county", city)
    logistics = await office.union("某物流公司工会", "base", district)
    riders = await office.union("外卖骑手网格工会", "base", district)
    elsewhere = await office.union(
        "某港口公司工会", "base", await office.union(f"宁波市总工会-{tag}", "city")
    )
    cadre = office.s.headers(Role.CADRE, union_id=district)
    near_form, near = await office.member(riders)
    near_pending_form, near_pending = await office.pending(riders)
    far_form, far = await office.member(elsewhere)
    far_pending_form, far_pending = await office.pending(elsewhere)

    # A new person: the neutral answer too ("new" would tell apart who is known elsewhere) ...
    unknown_form = office.form(logistics)
    unknown = await office.apply(unknown_form, cadre)
    assert unknown.status_code == 202 and unknown.json() == NEUTRAL
    # ... though the cadre reads the application in their union's list, as they could anyway.
    listed = await office.http.get(
        f"{office.url}/applications", params={"union_id": str(logistics)}, headers=cadre
    )
    assert [a["name"] for a in listed.json()] == [unknown_form["name"]]

    before = await office.rows()
    seen = await office.apply(near_form | {"base_union_id": str(logistics)}, cadre)
    assert seen.status_code == 200 and seen.json()["outcome"] == "existing_member"
    assert seen.json()["member"]["card_number"] == near["card_number"]
    same = await office.apply(near_pending_form, cadre)
    assert same.status_code == 200 and same.json()["outcome"] == "same_pending"
    assert same.json()["application"]["application_id"] == near_pending["application_id"]
    clash = await office.apply(near_pending_form | {"base_union_id": str(logistics)}, cadre)
    assert clash.status_code == 409 and clash.json()["application_id"] == near_pending["application_id"]
    assert await office.rows() == before

    for form, found in ((far_form, far), (far_pending_form, far_pending)):
        answer = await office.apply(form | {"base_union_id": str(logistics)}, cadre)
        assert answer.status_code == 202 and answer.content == unknown.content
        assert _neutral_headers(answer) == _neutral_headers(unknown)
        assert not [x for x in _identity_of(form, found) if x in answer.text]
    assert await office.rows() == before


async def _registered_events(s: Stack, name: str) -> list[UnionRegistered]:
    found = []
    for record in await read_topic(s.bootstrap, s.topic(ENROLLMENT_EVENTS)):
        try:
            _, payload = decode_event(record.value)
        except ContractError:
            continue  # poison other tests put on the session's topic
        if isinstance(payload, UnionRegistered) and payload.name == name:
            found.append(payload)
    return found


@pytest.mark.parametrize("level", ["under a parent", "top level"])
async def test_a_repeated_sibling_name_is_a_conflict_naming_the_existing_union_and_announces_nothing(
    office: Office, level: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    parent = await office.union(f"温州市总工会-{tag}", "city") if level == "under a parent" else None
    name, kind = (f"某公司工会-{tag}", "base") if parent else (f"台州市总工会-{tag}", "city")
    headers = office.s.headers(Role.CADRE, union_id=parent) if parent else office.admin

    first = await office.register(name, kind, parent, headers)
    assert first.status_code == 201, first.text
    before = await office.rows()
    second = await office.register(f"  {name} ", kind, parent, headers)  # the same name, trimmed
    assert second.status_code == 409, second.text
    assert second.json()["existing_union_id"] == first.json()["union_id"]
    assert await office.rows() == before

    assert await office.db.fetchval("SELECT count(*) FROM unions WHERE name = $1", name) == 1
    trail = await office.db.fetchval(
        "SELECT count(*) FROM audit_trail WHERE action = 'union.registered' AND detail->>'name' = $1", name
    )
    assert trail == 1
    # Once a later registration is on the topic, any event of the refused one would be too.
    marker = f"标记工会-{tag}-{level}"
    assert (await office.register(marker, "city", None, office.admin)).status_code == 201
    await eventually(lambda: _registered_events(office.s, marker))
    events = await _registered_events(office.s, name)
    assert [str(e.union_id) for e in events] == [first.json()["union_id"]]


def _irregular_ids(s: Stack, *args: str, pii_key: str = PII_KEY) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(stack.ROOT),
        "DATABASE_URL": s.services["enrollment"].dsn, "PII_KEY": pii_key,
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "services.enrollment.irregular_ids", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def _plant_legacy_member(office: Office, union_id: uuid.UUID, national_id: str, tag: str) -> str:
    """A member as legacy data has them: written by SQL, their number stored as it was typed."""
    pii = PiiProtector(PII_KEY)
    member_id = uuid.uuid4()
    await office.db.execute(
        """INSERT INTO persons (person_id, national_id_hash, national_id_cipher, national_id_masked)
           VALUES ($1, $2, $3, $4)""",
        member_id, pii.lookup_hash(national_id), pii.encrypt(national_id), mask_national_id(national_id),
    )  # fmt: skip
    await office.db.execute(
        """INSERT INTO members (member_id, name, phone, employer, employment_type, membership_number,
               card_number, base_union_id, status, member_since)
           VALUES ($1, '王五', '13800138000', '某老厂', 'employee', $2, $3, $4, 'active', '2020-01-01')""",
        member_id, f"LEGACY-{tag}", f"9{uuid.uuid4().int % 10**15:015d}", union_id,
    )  # fmt: skip
    return str(member_id)


async def test_the_irregular_ids_command_lists_members_whose_number_breaks_the_rule_and_changes_nothing(
    office: Office,
) -> None:
    tag = uuid.uuid4().hex[:6]
    city = await office.union(f"绍兴市总工会-{tag}", "city")
    legacy_union = await office.union("某老厂工会", "base", city)
    clean_union = await office.union("某新厂工会", "base", city)
    regular_form, regular = await office.member(clean_union)
    ascii_id = regular_form["national_id"]
    full_width = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in ascii_id)  # the same person
    other = person(office.rng).national_id
    arabic_indic = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in other)
    twin = await _plant_legacy_member(office, legacy_union, full_width, f"{tag}-1")
    alone = await _plant_legacy_member(office, legacy_union, arabic_indic, f"{tag}-2")
    before = await office.rows()

    listed = _irregular_ids(office.s, "--union", str(city))
    assert listed.returncode == 1, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[-1].startswith("2 of 3 members have an ID number that breaks the rule")
    by_member = {line.split()[0]: line for line in lines[:-1]}
    assert set(by_member) == {twin, alone}
    assert f"same number as member {regular['membership_number']}" in by_member[twin]
    assert "same number as" not in by_member[alone]
    for line, stored in ((by_member[twin], full_width), (by_member[alone], arabic_indic)):
        assert mask_national_id(stored) in line and "digits 0-9" in line and "某老厂工会" in line
    for clear in (ascii_id, full_width, other, arabic_indic):
        assert clear not in listed.stdout + listed.stderr

    as_json = _irregular_ids(office.s, "--union", str(city), "--json")
    found = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and found["checked"] == 3
    assert sorted(f["member_id"] for f in found["irregular"]) == sorted([twin, alone])

    clean = _irregular_ids(office.s, "--union", str(clean_union))
    assert (
        clean.returncode == 0
        and clean.stdout.strip() == "0 of 1 members have an ID number that breaks the rule"
    )
    wrong_key = _irregular_ids(office.s, "--union", str(city), pii_key="not-the-enrollment-key-" + "z" * 24)
    assert wrong_key.returncode == 2 and "PII_KEY" in wrong_key.stderr
    assert await office.rows() == before
