"""The employer register and the member search on the real stack: a registered employer is
announced on the enrollment topic (keyed by its id, with its snapshot), a code registers once,
only cadres over the responsible union register or change it, each change is a new version; the
list and the search keep to the caller's subtree, and the search shows IDs only masked."""

import random
import uuid
from typing import Any

import httpx
import pytest

from services.enrollment.domain.employers import random_credit_code
from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import ENROLLMENT_EVENTS
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

HUAWEI = "91440300708461136T"  # a real, public code (华为技术有限公司)


class Register:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.url = f"{api.enrollment}/employers"
        self.rng = random.Random()

    def body(self, responsible: uuid.UUID, **override: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "杭州某某物流有限公司", "credit_code": random_credit_code(self.rng), "region": "330106",
            "workforce": 120, "responsible_union_id": str(responsible), "base_union_id": None,
        }  # fmt: skip
        body.update(override)
        return body

    async def register(
        self, headers: dict[str, str], responsible: uuid.UUID, **override: Any
    ) -> httpx.Response:
        return await self.api.http.post(self.url, json=self.body(responsible, **override), headers=headers)

    async def events(self, employer_id: str) -> list[tuple[Any, Any]]:
        records = await read_topic(self.api.s.bootstrap, self.api.s.topic(ENROLLMENT_EVENTS))
        return [decode_event(r.value) for r in records if r.key == employer_id.encode()]

    async def events_until(self, employer_id: str, count: int) -> list[tuple[Any, Any]]:
        async def check() -> list[tuple[Any, Any]] | None:
            found = await self.events(employer_id)
            return found if len(found) >= count else None

        result: list[tuple[Any, Any]] = await eventually(check)
        return result


async def test_an_employer_is_registered_once_announced_and_changed_in_scope(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    api = Api(stack_env, http)
    reg = Register(api)
    units = await api.tree()
    cadre = api.cadre(units["district"])

    created = await reg.register(
        cadre, units["district"], credit_code=HUAWEI.lower(), base_union_id=str(units["logistics"])
    )
    if created.status_code == 409:  # the code is public: another test of this run may hold it
        created = await reg.register(cadre, units["district"], base_union_id=str(units["logistics"]))
    assert created.status_code == 201, created.text
    employer = created.json()
    assert set(employer) == {
        "employer_id", "name", "credit_code", "region", "workforce", "responsible_union_id",
        "base_union_id", "should_have_union", "version",
    }  # fmt: skip
    assert employer["credit_code"] == employer["credit_code"].upper()
    assert employer["should_have_union"] is True and employer["version"] == 1
    assert employer["base_union_id"] == str(units["logistics"])
    eid = employer["employer_id"]

    # Announced on the enrollment topic, keyed by the employer id, with its snapshot.
    [(meta, payload)] = await reg.events_until(eid, 1)
    assert meta.event_type == "enrollment.EmployerRegistered" and meta.subject_version == 1
    assert payload.employer.model_dump(mode="json") == {k: v for k, v in employer.items() if k != "version"}

    # The same code again (in any spelling) is a 409 naming the employer.
    again = await reg.register(cadre, units["district"], credit_code=f" {employer['credit_code'].lower()} ")
    assert again.status_code == 409, again.text
    assert again.json()["existing_employer_id"] == eid and "已登记" in again.json()["detail"]

    # A cadre elsewhere may not register under this union, nor a member at all.
    outsider = await reg.register(api.cadre(units["other_city"]), units["district"])
    assert outsider.status_code == 403 and "管辖范围" in outsider.json()["detail"]
    member = stack_env.headers(Role.MEMBER, member_id=uuid.uuid4())
    assert (await reg.register(member, units["district"])).status_code == 403

    # A bad code, a base union outside the subtree, a base union as the responsible one: 422, in Chinese.
    bad = await reg.register(cadre, units["district"], credit_code=HUAWEI[:17] + "X")
    assert bad.status_code == 422 and "校验位" in bad.json()["detail"], bad.text
    short = await reg.register(cadre, units["district"], credit_code="9144030070846113")
    assert short.status_code == 422 and "18位" in short.json()["detail"]
    foreign = await reg.register(cadre, units["district"], base_union_id=str(units["other_city"]))
    assert foreign.status_code == 422 and "基层工会" in foreign.json()["detail"]
    too_low = await reg.register(cadre, units["logistics"])
    assert too_low.status_code == 422 and "负责工会" in too_low.json()["detail"]
    nobody = await reg.register(cadre, units["district"], workforce=-1)
    assert nobody.status_code == 422

    # A change bumps the version and is announced; the same change again changes nothing.
    change = {k: v for k, v in reg.body(units["district"]).items() if k != "credit_code"}
    change.update(name="杭州某某物流有限公司(新)", workforce=10, base_union_id=None)
    updated = await http.put(f"{reg.url}/{eid}", json=change, headers=cadre)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["credit_code"] == employer["credit_code"]
    assert updated.json()["base_union_id"] is None and updated.json()["should_have_union"] is True
    retry = await http.put(f"{reg.url}/{eid}", json=change, headers=cadre)
    assert retry.status_code == 200 and retry.json()["version"] == 2
    no_workers = await http.put(f"{reg.url}/{eid}", json={**change, "workforce": 0}, headers=cadre)
    assert no_workers.json()["version"] == 3 and no_workers.json()["should_have_union"] is False
    events = await reg.events_until(eid, 3)
    assert [(m.event_type, m.subject_version) for m, _ in events] == [
        ("enrollment.EmployerRegistered", 1),
        ("enrollment.EmployerUpdated", 2),
        ("enrollment.EmployerUpdated", 3),
    ]
    assert events[1][1].employer.name == "杭州某某物流有限公司(新)"
    moved_away = await http.put(
        f"{reg.url}/{eid}", json={**change, "responsible_union_id": str(units["other_city"])}, headers=cadre
    )
    assert moved_away.status_code == 403
    outsider_change = await http.put(f"{reg.url}/{eid}", json=change, headers=api.cadre(units["other_city"]))
    assert outsider_change.status_code == 403
    missing = await http.put(f"{reg.url}/{uuid.uuid4()}", json=change, headers=cadre)
    assert missing.status_code == 404


async def test_the_list_keeps_to_the_subtree_and_pages(stack_env: Stack, http: httpx.AsyncClient) -> None:
    api = Api(stack_env, http)
    reg = Register(api)
    units = await api.tree()
    city_cadre = api.cadre(units["city"])
    ids = []
    for name, base in (("甲公司", units["logistics"]), ("乙公司", None), ("丙公司", None)):
        r = await reg.register(
            city_cadre, units["district"], name=name, base_union_id=str(base) if base else None
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["employer_id"])
    elsewhere = await reg.register(api.admin, units["other_city"], name="甲公司")
    assert elsewhere.status_code == 201

    # The city's cadre sees the district's three (by default their own union's subtree), by name.
    mine = await http.get(reg.url, headers=city_cadre)
    assert mine.status_code == 200, mine.text
    # By name in code point order: 丙 U+4E19, 乙 U+4E59, 甲 U+7532.
    assert [e["employer_id"] for e in mine.json()["items"]] == [ids[2], ids[1], ids[0]]
    assert mine.json()["next"] is None

    first = await http.get(reg.url, params={"limit": 2}, headers=city_cadre)
    rest = await http.get(reg.url, params={"limit": 2, "after": first.json()["next"]}, headers=city_cadre)
    assert [e["name"] for e in first.json()["items"] + rest.json()["items"]] == ["丙公司", "乙公司", "甲公司"]

    covered = await http.get(reg.url, params={"covered": "true"}, headers=city_cadre)
    assert [e["employer_id"] for e in covered.json()["items"]] == [ids[0]]
    uncovered = await http.get(
        reg.url, params={"covered": "false", "union_id": str(units["district"])}, headers=city_cadre
    )
    assert {e["employer_id"] for e in uncovered.json()["items"]} == {ids[1], ids[2]}
    words = await http.get(reg.url, params={"q": "甲"}, headers=city_cadre)
    assert [e["employer_id"] for e in words.json()["items"]] == [ids[0]]
    assert (await http.get(reg.url, params={"q": "%"}, headers=city_cadre)).json()["items"] == []

    # Another city's cadre sees only theirs, and may not look into this city.
    other = api.cadre(units["other_city"])
    theirs = await http.get(reg.url, headers=other)
    assert [e["employer_id"] for e in theirs.json()["items"]] == [elsewhere.json()["employer_id"]]
    peek = await http.get(reg.url, params={"union_id": str(units["city"])}, headers=other)
    assert peek.status_code == 403
    member = stack_env.headers(Role.MEMBER, member_id=uuid.uuid4())
    assert (await http.get(reg.url, headers=member)).status_code == 403


async def test_the_member_search_finds_by_name_card_and_masked_id_in_scope_only(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    api = Api(stack_env, http)
    units = await api.tree()
    url = f"{api.enrollment}/members/search"
    first = await api.enrolled_member(units["logistics"], name="司马青云")
    second = await api.enrolled_member(units["riders"], name="司马小雨")
    await api.enrolled_member(units["logistics"], name="马司令")  # 司马 inside, not at the start
    ningbo_base = await api.union("宁波某厂工会", "base", units["other_city"])
    far = await api.enrolled_member(ningbo_base, name="司马远")
    district = api.cadre(units["district"])

    by_name = await http.get(url, params={"q": "司马"}, headers=district)
    assert by_name.status_code == 200, by_name.text
    items = by_name.json()["items"]
    assert [i["name"] for i in items] == ["司马小雨", "司马青云"]
    hit = next(i for i in items if i["member_id"] == first["member_id"])
    assert set(hit) == {
        "member_id", "name", "national_id_masked", "card_number", "membership_number", "base_union_id",
        "base_union_name", "status", "status_label",
    }  # fmt: skip
    assert hit["base_union_name"] == "某物流公司工会" and hit["status_label"] == "在会"
    masked = hit["national_id_masked"]
    assert masked == first["national_id_masked"] and "*" * 10 in masked

    by_card = await http.get(url, params={"q": second["card_number"]}, headers=district)
    assert [i["member_id"] for i in by_card.json()["items"]] == [second["member_id"]]
    by_number = await http.get(url, params={"q": first["membership_number"]}, headers=district)
    assert [i["member_id"] for i in by_number.json()["items"]] == [first["member_id"]]
    by_last4 = await http.get(url, params={"q": masked[-4:]}, headers=district)
    assert first["member_id"] in [i["member_id"] for i in by_last4.json()["items"]]
    by_masked = await http.get(url, params={"q": masked}, headers=district)
    assert first["member_id"] in [i["member_id"] for i in by_masked.json()["items"]]
    assert all(i["national_id_masked"][-4:] == masked[-4:] for i in by_masked.json()["items"])

    # One base union's cadre sees its own members only; another city's cadre finds nothing here
    # and may not search this subtree; a malformed masked ID is a 422 with a reason.
    logistics = await http.get(url, params={"q": "司马"}, headers=api.cadre(units["logistics"]))
    assert [i["member_id"] for i in logistics.json()["items"]] == [first["member_id"]]
    other = api.cadre(units["other_city"])
    theirs = await http.get(url, params={"q": "司马"}, headers=other)
    assert [i["member_id"] for i in theirs.json()["items"]] == [far["member_id"]]
    for q in (first["card_number"], first["membership_number"], masked):
        found = await http.get(url, params={"q": q}, headers=other)
        assert found.status_code == 200 and first["member_id"] not in str(found.json()), q
    refused = await http.get(url, params={"q": "司马", "union_id": str(units["district"])}, headers=other)
    assert refused.status_code == 403
    bad = await http.get(url, params={"q": "11*1"}, headers=district)
    assert bad.status_code == 422 and "脱敏身份证号" in bad.json()["detail"]
    member = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(first["member_id"]))
    assert (await http.get(url, params={"q": "司马"}, headers=member)).status_code == 403
