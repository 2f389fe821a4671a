"""Person links (实名认证) on the real stack: the identity service asks enrollment to link an
account to the person a national ID names; a member claims their membership with the name and
phone of their record; a member files an application only for their own person."""

import random
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from scripts.fake_people import Person, person
from services.enrollment.domain.links import MISMATCH_MESSAGE
from shared.auth import Role
from shared.pii import mask_national_id
from tests.integration.conftest import Stack
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


class Links:
    """The identity service's calls, and what enrollment's database holds for them."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.url = api.enrollment
        self.identity = api.s.headers(Role.SERVICE, sub="identity")
        self.dsn = api.s.services["enrollment"].dsn

    async def link(
        self, account: uuid.UUID, p: Person, *, headers: dict[str, str] | None = None, **override: str
    ) -> httpx.Response:
        body = {"account_id": str(account), "name": p.name, "national_id": p.national_id, "phone": p.phone}
        return await self.api.http.post(
            f"{self.url}/persons/links", json=body | override, headers=headers or self.identity
        )

    async def transfer(
        self,
        person_id: str,
        from_account: uuid.UUID,
        to_account: uuid.UUID,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = {"from_account_id": str(from_account), "to_account_id": str(to_account)}
        return await self.api.http.post(
            f"{self.url}/persons/{person_id}/links/transfer", json=body, headers=headers or self.identity
        )

    async def held(self) -> list[dict[str, Any]]:
        """Every link, as rows: equal before and after means untouched."""
        conn = await asyncpg.connect(self.dsn)
        try:
            return [dict(r) for r in await conn.fetch("SELECT * FROM person_links ORDER BY person_id")]
        finally:
            await conn.close()

    async def link_of(self, person_id: str) -> dict[str, Any] | None:
        found = [row for row in await self.held() if str(row["person_id"]) == person_id]
        return found[0] if found else None

    async def trail(self, person_id: str) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(self.dsn)
        try:
            rows = await conn.fetch(
                "SELECT action, detail FROM audit_trail WHERE record_id = $1 ORDER BY id",
                uuid.UUID(person_id),
            )
            return [dict(r) for r in rows]
        finally:
            await conn.close()

    async def member(self, union_id: uuid.UUID) -> tuple[Person, dict[str, Any]]:
        p = person(random.Random())
        return p, await self.api.enrolled_member(union_id, **_form(p))


def _form(p: Person) -> dict[str, str]:
    return {"name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer or "个体",
            "employment_type": p.employment_type}  # fmt: skip


def _reveals(r: httpx.Response, p: Person) -> bool:
    return any(x in r.text for x in (p.name, p.national_id, p.phone, mask_national_id(p.national_id)))


@pytest.fixture
def links(stack_env: Stack, http: httpx.AsyncClient) -> Links:
    return Links(Api(stack_env, http))


async def test_an_unknown_person_is_created_and_linked_and_a_retry_gets_the_same_answer(links: Links) -> None:
    account, p = uuid.uuid4(), person(random.Random())
    first = await links.link(account, p)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["outcome"] == "linked" and body["member_id"] is None
    assert set(body) == {"person_id", "member_id", "outcome"} and not _reveals(first, p)
    row = await links.link_of(body["person_id"])
    assert row is not None and row["account_id"] == account and row["how"] == "real_name"
    assert [e["action"] for e in await links.trail(body["person_id"])] == ["person.linked"]

    before = await links.held()
    again = await links.link(account, p, national_id=p.national_id.lower())
    assert again.status_code == 200, again.text
    assert again.json() == body
    assert await links.held() == before
    assert [e["action"] for e in await links.trail(body["person_id"])] == ["person.linked"]


async def test_a_member_claims_their_membership_with_the_name_and_phone_of_their_record(links: Links) -> None:
    units = await links.api.tree()
    p, member = await links.member(units["riders"])
    account = uuid.uuid4()
    # The phone written as people write it: +86 and spaces are no difference.
    claimed = await links.link(account, p, phone=f"+86 {p.phone[:3]} {p.phone[3:7]} {p.phone[7:]}")
    assert claimed.status_code == 201, claimed.text
    assert claimed.json() == {
        "person_id": member["member_id"], "member_id": member["member_id"], "outcome": "claimed"
    }  # fmt: skip
    assert not _reveals(claimed, p)
    row = await links.link_of(member["member_id"])
    assert row is not None and row["account_id"] == account and row["how"] == "claim"
    retry = await links.link(account, p)
    assert retry.status_code == 200 and retry.json() == claimed.json()


async def test_a_claim_with_another_name_or_phone_gets_the_neutral_mismatch_and_changes_nothing(
    links: Links,
) -> None:
    units = await links.api.tree()
    p, member = await links.member(units["logistics"])
    other_phone = "139" + ("0" if p.phone[3:] != "0" * 8 else "1") * 8
    before = await links.held()
    answers = [
        await links.link(uuid.uuid4(), p, name=p.name + "某"),
        await links.link(uuid.uuid4(), p, phone=other_phone),
    ]
    for r in answers:
        assert r.status_code == 409, r.text
        problem = r.json()
        assert problem["code"] == "details_mismatch" and problem["detail"] == MISMATCH_MESSAGE
        assert member["member_id"] not in r.text and not _reveals(r, p)
    assert answers[0].json() | {"instance": ""} == answers[1].json() | {"instance": ""}
    assert await links.held() == before


async def test_a_known_person_who_is_not_a_member_is_linked(links: Links) -> None:
    units = await links.api.tree()
    p = person(random.Random())
    filed = await links.api.apply(units["logistics"], **_form(p))
    assert filed.status_code == 201, filed.text
    person_id = filed.json()["application"]["member_id"]
    # No record to compare with: a name other than the application's is no mismatch.
    linked = await links.link(uuid.uuid4(), p, name="王五")
    assert linked.status_code == 201, linked.text
    assert linked.json() == {"person_id": person_id, "member_id": None, "outcome": "linked"}


async def test_a_person_held_by_another_account_is_named_with_the_members_unions_never_the_account(
    links: Links,
) -> None:
    units = await links.api.tree()
    p, member = await links.member(units["riders"])
    holder = uuid.uuid4()
    assert (await links.link(holder, p)).status_code == 201
    before = await links.held()

    other = await links.link(uuid.uuid4(), p)
    assert other.status_code == 409, other.text
    problem = other.json()
    assert problem["code"] == "claimed_by_another_account"
    assert problem["person_id"] == member["member_id"]
    assert problem["union_path"] == [str(units["city"]), str(units["district"]), str(units["riders"])]
    assert str(holder) not in other.text and not _reveals(other, p)
    # Wrong details say only "mismatch": an ID number alone does not tell that an account holds it.
    guessed = await links.link(uuid.uuid4(), p, name=p.name + "某")
    assert guessed.status_code == 409 and guessed.json()["code"] == "details_mismatch"

    stranger = person(random.Random())
    assert (await links.link(uuid.uuid4(), stranger)).status_code == 201
    not_member = await links.link(uuid.uuid4(), stranger)
    assert not_member.status_code == 409 and not_member.json()["code"] == "claimed_by_another_account"
    assert not_member.json()["union_path"] is None
    assert len(await links.held()) == len(before) + 1


async def test_an_account_holds_one_person(links: Links) -> None:
    account = uuid.uuid4()
    first = await links.link(account, person(random.Random()))
    assert first.status_code == 201, first.text
    before = await links.held()
    second = await links.link(account, person(random.Random()))
    assert second.status_code == 409 and second.json()["code"] == "account_already_linked", second.text
    assert await links.held() == before


async def test_only_the_identity_service_links_or_transfers(links: Links) -> None:
    s = links.api.s
    units = await links.api.tree()
    p, member = await links.member(units["riders"])
    holder = uuid.uuid4()
    assert (await links.link(holder, p)).status_code == 201
    before = await links.held()
    refused = {
        "another service": s.headers(Role.SERVICE, sub="relief"),
        "a service without a name": s.headers(Role.SERVICE),
        "the member": s.headers(Role.MEMBER, member_id=uuid.UUID(member["member_id"]), sub="identity"),
        "a cadre of the union": s.headers(Role.CADRE, union_id=units["riders"]),
        "an admin": s.headers(Role.ADMIN),
    }
    for who, headers in refused.items():
        linked = await links.link(uuid.uuid4(), person(random.Random()), headers=headers)
        assert linked.status_code == 403, (who, linked.text)
        moved = await links.transfer(member["member_id"], holder, uuid.uuid4(), headers=headers)
        assert moved.status_code == 403, (who, moved.text)
    assert (await links.api.http.post(f"{links.url}/persons/links", json={})).status_code == 401
    assert await links.held() == before


async def test_a_link_moves_to_the_account_a_cadre_found_for(links: Links) -> None:
    units = await links.api.tree()
    p, member = await links.member(units["logistics"])
    person_id = member["member_id"]
    holder, rightful, busy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert (await links.link(holder, p)).status_code == 201
    assert (await links.link(busy, person(random.Random()))).status_code == 201
    before = await links.held()

    not_holder = await links.transfer(person_id, uuid.uuid4(), rightful)
    assert not_holder.status_code == 404, not_holder.text
    unknown = await links.transfer(str(uuid.uuid4()), holder, rightful)
    assert unknown.status_code == 404, unknown.text
    to_busy = await links.transfer(person_id, holder, busy)
    assert to_busy.status_code == 409 and to_busy.json()["code"] == "account_already_linked", to_busy.text
    same = await links.transfer(person_id, holder, holder)
    assert same.status_code == 422, same.text
    assert await links.held() == before

    moved = await links.transfer(person_id, holder, rightful)
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"person_id": person_id, "member_id": person_id, "outcome": "transferred"}
    row = await links.link_of(person_id)
    assert row is not None and row["account_id"] == rightful and row["how"] == "claim"
    retry = await links.transfer(person_id, holder, rightful)
    assert retry.status_code == 200 and retry.json() == moved.json()
    trail = await links.trail(person_id)
    assert [e["action"] for e in trail].count("person.link_transferred") == 1
    # The old holder is now a stranger to the person; the new one's retry of a link is idempotent.
    assert (await links.link(holder, p)).json()["code"] == "claimed_by_another_account"
    assert (await links.link(rightful, p)).status_code == 200


async def test_a_member_applies_only_once_verified_and_only_for_their_own_person(links: Links) -> None:
    s = links.api.s
    units = await links.api.tree()
    union = str(units["logistics"])
    me, stranger = person(random.Random()), person(random.Random())
    linked = await links.link(uuid.uuid4(), me)
    assert linked.status_code == 201, linked.text
    my_person = uuid.UUID(linked.json()["person_id"])

    def form(p: Person) -> dict[str, str]:
        return _form(p) | {"base_union_id": union}

    async def apply(p: Person, headers: dict[str, str]) -> httpx.Response:
        return await links.api.http.post(f"{links.url}/applications", json=form(p), headers=headers)

    unverified = await apply(me, s.headers(Role.MEMBER))
    assert unverified.status_code == 403 and unverified.json()["detail"] == "请先完成实名认证"
    mine = s.headers(Role.MEMBER, member_id=my_person)
    for someone_else in (stranger, person(random.Random())):
        refused = await apply(someone_else, mine)
        assert refused.status_code == 403 and refused.json()["detail"] == "只能为本人申请入会", refused.text
    listed = await links.api.http.get(
        f"{links.url}/applications", params={"union_id": union}, headers=links.api.admin
    )
    assert listed.json() == []  # nothing was filed for anyone

    filed = await apply(me, mine)
    assert filed.status_code == 201, filed.text
    application = filed.json()["application"]
    assert filed.json()["outcome"] == "new" and application["status"] == "pending"
    assert application["member_id"] == str(my_person) and application["channel"] == "online"
    again = await apply(me, mine)
    assert again.status_code == 200 and again.json()["outcome"] == "same_pending"
    assert again.json()["application"]["application_id"] == application["application_id"]


async def test_the_export_lists_the_link_and_erasure_drops_it(links: Links) -> None:
    api, s = links.api, links.api.s
    units = await api.tree()
    union = units["riders"]
    p, member = await links.member(union)
    mid, account = member["member_id"], uuid.uuid4()
    assert (await links.link(account, p)).status_code == 201

    me = s.headers(Role.MEMBER, member_id=uuid.UUID(mid))
    asked = await api.http.post(f"{api.enrollment}/members/{mid}/export-requests", headers=me)
    assert asked.status_code == 201, asked.text
    rid = asked.json()["request_id"]
    approved = await api.http.post(
        f"{api.enrollment}/export-requests/{rid}/approve", headers=api.cadre(union)
    )
    assert approved.status_code == 200, approved.text
    export = await api.http.get(f"{api.enrollment}/export-requests/{rid}/export", headers=me)
    assert export.status_code == 200, export.text
    held = export.json()["link"]
    assert held["account_id"] == str(account) and held["how"] == "claim" and held["linked_at"]
    assert "person.linked" in [e["action"] for e in export.json()["trail"]]

    cadre = api.cadre(union)
    left = await api.http.post(
        f"{api.enrollment}/members/{mid}/leave", json={"reason": "离职"}, headers=cadre
    )
    assert left.status_code == 200, left.text
    erased = await api.http.post(
        f"{api.enrollment}/members/{mid}/erasure", json={"reason": "本人申请删除"}, headers=cadre
    )
    assert erased.status_code == 204, erased.text
    assert await links.link_of(mid) is None
    # The ID no longer finds the erased person: the account may verify afresh, as a new person.
    afresh = await links.link(account, p)
    assert afresh.status_code == 201, afresh.text
    assert afresh.json()["person_id"] != mid and afresh.json()["outcome"] == "linked"


async def test_invalid_details_from_the_identity_service_are_refused_with_reasons_never_echoed(
    links: Links,
) -> None:
    p = person(random.Random())
    before = await links.held()
    for field, value in {
        "national_id": p.national_id[:-1] + ("0" if p.national_id[-1] != "0" else "1"),
        "phone": "12345",
        "name": "   ",
    }.items():
        body = {
            "account_id": str(uuid.uuid4()),
            "name": p.name,
            "national_id": p.national_id,
            "phone": p.phone,
        }
        r = await links.api.http.post(
            f"{links.url}/persons/links", json=body | {field: value}, headers=links.identity
        )
        assert r.status_code == 422, (field, r.text)
        assert value.strip() == "" or value not in r.text, field
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in p.national_id)
    assert (await links.link(uuid.uuid4(), p, national_id=full_width)).status_code == 422
    assert (await links.link(uuid.uuid4(), p, account_id="not-a-uuid")).status_code == 422
    assert await links.held() == before
