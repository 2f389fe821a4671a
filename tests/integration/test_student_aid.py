"""金秋助学 end to end on real processes, a real broker and a real database: a window opens,
members apply with admission evidence (eligible by the register, or by the relief rules), a
review with four eyes, public disclosure with masked names and objections, the durable timer
ending the disclosure, payment against the tuition budget (never over it, once per key),
ProgrammeAidPaid on the topic, and a window closed by the timer refusing a late application."""

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from shared.contracts import decode_event
from shared.contracts.topics import RELIEF_EVENTS
from shared.national_id import check_char
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_relief import CHINA, YEAR, Relief

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def student_number(rng: random.Random) -> str:
    first17 = (
        f"330106{YEAR - 18}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    )
    return first17 + check_char(first17)


class StudentAid:
    def __init__(self, relief: Relief) -> None:
        self.relief = relief
        self.http = relief.http
        self.url = relief.url
        self.rng = random.Random()

    async def upload(
        self, headers: dict[str, str], data: bytes = PDF, content_type: str = "application/pdf"
    ) -> Any:
        r = await self.http.post(
            f"{self.url}/student-aid/evidence", params={"file_name": "录取通知书.pdf"}, content=data,
            headers={**headers, "Content-Type": content_type},
        )  # fmt: skip
        return r

    async def apply(self, headers: dict[str, str], window_id: str, **body: Any) -> httpx.Response:
        evidence = await self.upload(headers)
        assert evidence.status_code == 201, evidence.text
        payload = {
            "window_id": window_id, "student_name": "张小明", "student_id_number": student_number(self.rng),
            "school_name": "浙江大学", "school_type": "undergraduate", "admission_year": YEAR,
            "evidence_file_id": evidence.json()["file_id"],
        }  # fmt: skip
        payload.update(body)
        return await self.http.post(f"{self.url}/student-aid/applications", json=payload, headers=headers)

    async def window(self, union_id: uuid.UUID, closes_in: timedelta, **body: Any) -> dict[str, Any]:
        now = datetime.now(CHINA)
        payload = {
            "union_id": str(union_id), "academic_year": YEAR, "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + closes_in).isoformat(),
            "amounts_fen": {"undergraduate": 300_000, "junior_college": 200_000}, "disclosure_days": 5,
        }  # fmt: skip
        payload.update(body)
        r = await self.http.post(
            f"{self.url}/student-aid/windows", json=payload, headers=self.relief.cadre(union_id)
        )
        assert r.status_code == 201, r.text
        window: dict[str, Any] = r.json()
        return window

    async def db(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.relief.api.s.services["relief"].dsn)

    async def end_disclosure_now(self, application_id: str) -> None:
        """The test cannot wait out five days: the disclosure, and its timer, move into the past."""
        conn = await self.db()
        try:
            await conn.execute(
                """UPDATE student_aid_applications SET disclosure_ends_at = now() - interval '1 second'
                   WHERE application_id = $1""",
                uuid.UUID(application_id),
            )
            await conn.execute(
                """UPDATE timers SET fire_at = now() - interval '1 second'
                   WHERE kind = 'student_aid.disclosure_end' AND subject = $1 AND status = 'pending'""",
                f"student_aid_application:{application_id}",
            )
        finally:
            await conn.close()

    async def timer_fired(self, subject: str) -> bool:
        conn = await self.db()
        try:
            return bool(
                await conn.fetchval(
                    "SELECT EXISTS (SELECT FROM timers WHERE subject = $1 AND status = 'fired')", subject
                )
            )
        finally:
            await conn.close()

    async def status(self, application_id: str, headers: dict[str, str]) -> str:
        r = await self.http.get(f"{self.url}/student-aid/applications/{application_id}", headers=headers)
        assert r.status_code == 200, r.text
        return str(r.json()["status"])


@pytest.fixture
async def aid(stack_env: Stack, http: httpx.AsyncClient) -> StudentAid:
    return StudentAid(Relief(Api(stack_env, http)))


async def test_student_aid_from_window_to_payment_on_the_topic(aid: StudentAid, stack_env: Stack) -> None:
    relief = aid.relief
    units = await relief.api.tree()
    base, city = units["logistics"], units["city"]
    wang, li = relief.cadre(base, "wang"), relief.cadre(base, "li")

    # Three members: one household in the register, one to assess, one too well off.
    in_register = await relief.api.enrolled_member(base)
    assessed = await relief.api.enrolled_member(base)
    well_off = await relief.api.enrolled_member(base)
    for m in (in_register, assessed, well_off):
        await relief.known(m["member_id"])
    await relief.in_register(in_register, base)
    m1, m3 = relief.member(in_register["member_id"]), relief.member(well_off["member_id"])

    window = await aid.window(city, timedelta(hours=1))
    assert window["title"] == f"{YEAR}年金秋助学" and window["status"] == "open"
    assert window["status_label"] == "申请中"
    assert [a["label"] for a in window["amounts"]] == ["本科", "高职(专科)"]
    wid = window["window_id"]
    listed = await relief.ok(await relief.get("/student-aid/windows", m1, open="true"))
    assert wid in [w["window_id"] for w in listed["items"]]

    # Evidence: the bytes must be what the type says.
    fake = await aid.upload(m1, b"<html>not a pdf</html>")
    assert fake.status_code == 422 and "内容与类型不符" in fake.json()["detail"]

    # A member applies for their child: eligible by the register.
    first_student = student_number(aid.rng)
    r = await aid.apply(m1, wid, student_id_number=first_student, student_name="张小明")
    first = await relief.ok(r, 201)
    assert first["eligible_by"] == "register" and first["amount_fen"] == 300_000
    assert first["student_name_masked"] == "张*明" and first["status"] == "submitted"
    assert "student_id_number" not in first and first_student not in r.text

    # A cadre files for a second member: eligible by the relief rules (1,200 yuan a head).
    household = {"monthly_income_fen": 360_000, "household_size": 3}
    r = await aid.apply(
        wang, wid, member_id=assessed["member_id"], household=household, school_type="junior_college",
        student_name="李华",
    )  # fmt: skip
    second = await relief.ok(r, 201)
    assert second["eligible_by"] == "assessment" and second["amount_fen"] == 200_000

    # A third is refused by the rules; the same student again is refused.
    refused = await aid.apply(m3, wid, household={"monthly_income_fen": 900_000, "household_size": 3})
    assert refused.status_code == 409 and "不符合金秋助学条件" in refused.json()["detail"]
    borrowed = await aid.apply(m3, wid, household=household, evidence_file_id=first["evidence"]["file_id"])
    assert borrowed.status_code == 422 and "录取材料不存在" in borrowed.json()["detail"]  # another's upload
    again = await aid.apply(
        wang, wid, member_id=assessed["member_id"], household=household, student_id_number=first_student
    )
    assert again.status_code == 409 and "已申请或已获" in again.json()["detail"]

    # Review: the cadre who filed may not; another approves both.
    own = await relief.post(
        f"/student-aid/applications/{second['application_id']}/review", wang, {"approve": True}
    )
    assert own.status_code == 403 and "四眼原则" in own.json()["detail"]
    for application in (first, second):
        reviewed = await relief.ok(
            await relief.post(
                f"/student-aid/applications/{application['application_id']}/review", li,
                {"approve": True, "reason": "材料齐全"},
            )
        )  # fmt: skip
        assert reviewed["status"] == "in_disclosure" and reviewed["disclosure_ends_at"]

    # The disclosure shows masked names to the members of the subtree.
    shown = await relief.ok(
        await relief.get("/student-aid/disclosure", m3, union_id=str(city), window_id=wid)
    )
    mine = {d["application_id"]: d for d in shown["items"]}
    assert set(mine) == {first["application_id"], second["application_id"]}
    assert mine[first["application_id"]]["student_name_masked"] == "张*明"
    assert in_register["name"] not in str(shown) and "张小明" not in str(shown)

    # Objections: one answered (not upheld) before the end, one still waiting when it ends.
    objection = await relief.ok(
        await relief.post(
            f"/student-aid/applications/{first['application_id']}/objections", m3, {"text": "家境尚可"}
        ),
        201,
    )
    await relief.ok(
        await relief.post(
            f"/student-aid/objections/{objection['objection_id']}/answer",
            li,
            {"upheld": False, "answer": "经核实属实"},
        )
    )
    waiting = await relief.ok(
        await relief.post(
            f"/student-aid/applications/{second['application_id']}/objections", m3, {"text": "有车"}
        ),
        201,
    )
    for application in (first, second):
        await aid.end_disclosure_now(application["application_id"])

    async def first_approved() -> bool:
        return await aid.status(first["application_id"], li) == "approved"

    await eventually(first_approved)
    await eventually(lambda: aid.timer_fired(f"student_aid_application:{second['application_id']}"))
    assert await aid.status(second["application_id"], li) == "in_disclosure"  # waits for the answer
    await relief.ok(
        await relief.post(
            f"/student-aid/objections/{waiting['objection_id']}/answer",
            li,
            {"upheld": False, "answer": "车辆已报废"},
        )
    )
    assert await aid.status(second["application_id"], li) == "approved"

    # Payment: the tuition budget holds 4,000 yuan; 3,000 + 2,000 would pass it.
    await relief.budget(base, "tuition", 400_000)
    key = f"sa-{uuid.uuid4().hex}"
    paid_path = f"/student-aid/applications/{first['application_id']}/pay"
    paid = await relief.http.post(f"{relief.url}{paid_path}", json={}, headers={**li, "Idempotency-Key": key})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["paid_at"]
    retried = await relief.http.post(
        f"{relief.url}{paid_path}", json={}, headers={**li, "Idempotency-Key": key}
    )
    assert retried.status_code == 200 and retried.headers["Idempotent-Replayed"] == "true"
    over = await relief.http.post(
        f"{relief.url}/student-aid/applications/{second['application_id']}/pay", json={},
        headers={**li, "Idempotency-Key": f"sa-{uuid.uuid4().hex}"},
    )  # fmt: skip
    assert over.status_code == 409 and over.json()["remaining_fen"] == 100_000
    assert await aid.status(second["application_id"], li) == "approved"  # nothing paid
    budgets = await relief.ok(await relief.get("/budgets", li, union_id=str(base), year=YEAR))
    assert [(b["aid_type"], b["spent_fen"]) for b in budgets] == [("tuition", 300_000)]

    # ProgrammeAidPaid on the topic, keyed by the member, with their receipts whole.
    async def aid_paid() -> Any:
        records = await read_topic(stack_env.bootstrap, stack_env.topic(RELIEF_EVENTS))
        events = [decode_event(r.value) for r in records if r.key == in_register["member_id"].encode()]
        return [p for e, p in events if e.event_type == "relief.ProgrammeAidPaid"]

    [event] = await eventually(aid_paid)
    assert event.payment.programme == "student_aid" and event.payment.amount_fen == 300_000
    assert event.group == "undergraduate" and event.payment.title == f"{YEAR}年金秋助学"
    assert [r.payment_id for r in event.receipts] == [event.payment.payment_id]
    assert str(event.payment.source_id) == wid and event.payment.paying_union_id == base

    # Evidence: the member and the cadres read it; another member does not learn it exists.
    file_id = first["evidence"]["file_id"]
    own_file = await relief.http.get(f"{relief.url}/student-aid/evidence/{file_id}", headers=m1)
    assert own_file.status_code == 200 and own_file.content == PDF
    assert own_file.headers["x-content-type-options"] == "nosniff"
    assert own_file.headers["content-disposition"].startswith("attachment;")
    assert (
        await relief.http.get(f"{relief.url}/student-aid/evidence/{file_id}", headers=li)
    ).status_code == 200
    assert (
        await relief.http.get(f"{relief.url}/student-aid/evidence/{file_id}", headers=m3)
    ).status_code == 404

    mine_listed = await relief.ok(await relief.get("/student-aid/applications/mine", m1))
    assert [a["status_label"] for a in mine_listed["items"]] == ["已发放"]

    # The member's copy of their data names the application, the objection and the evidence,
    # without the student's keyed hash, the objector or the file's bytes.
    copy = await relief.ok(await relief.get(f"/members/{in_register['member_id']}/personal-data", m1))
    held = {r["kind"]: r["data"] for r in copy["records"] if r["kind"].startswith("student_aid")}
    assert set(held) == {"student_aid_application", "student_aid_objection", "student_aid_evidence"}
    assert (
        "student_hash" not in held["student_aid_application"]
        and "raised_by" not in held["student_aid_objection"]
    )
    assert "data" not in held["student_aid_evidence"]


async def test_the_timer_closes_a_window_and_a_late_application_is_refused(aid: StudentAid) -> None:
    relief = aid.relief
    units = await relief.api.tree()
    base = units["logistics"]
    member = await relief.api.enrolled_member(base)
    await relief.known(member["member_id"])
    me = relief.member(member["member_id"])
    window = await aid.window(units["district"], timedelta(seconds=3))

    await eventually(lambda: aid.timer_fired(f"student_aid_window:{window['window_id']}"), timeout=30)
    shown = await relief.ok(await relief.get(f"/student-aid/windows/{window['window_id']}", me))
    assert shown["status"] == "closed" and shown["status_label"] == "已截止"
    trail = await aid.db()
    try:
        closed_at = await trail.fetchval(
            "SELECT closed_at FROM student_aid_windows WHERE window_id = $1", uuid.UUID(window["window_id"])
        )
    finally:
        await trail.close()
    assert closed_at is not None

    late = await aid.apply(
        me, window["window_id"], household={"monthly_income_fen": 100_000, "household_size": 3}
    )
    assert late.status_code == 409 and "已截止" in late.json()["detail"]


class _Office:
    """What play_student_aid uses of the scenario's Office, with the stack's dev tokens."""

    def __init__(self, relief: Relief) -> None:
        self.relief = relief

    async def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return await self.relief.http.request(method, url, **kw)

    async def cadre(self, union: str | uuid.UUID, label: str = "cadre") -> dict[str, str]:
        return self.relief.cadre(uuid.UUID(str(union)), label)


async def test_the_scenario_step_plays_on_the_stack(
    aid: StudentAid, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts import scenario_student_aid

    relief = aid.relief
    units = await relief.api.tree()
    members = [await relief.api.enrolled_member(units["logistics"]) for _ in range(3)]
    for m in members:
        await relief.known(m["member_id"])
    monkeypatch.setattr(scenario_student_aid, "RELIEF", relief.url)
    office: Any = _Office(relief)
    lines = await scenario_student_aid.play_student_aid(
        office, str(units["city"]), [str(units["logistics"])], members, random.Random(7)
    )
    printed = capsys.readouterr().out
    assert lines and all(line in printed for line in lines)
    assert sum("按帮扶标准认定, 资助" in line for line in lines) == 2
    assert sum("未受理" in line for line in lines) == 1
    assert any("公示名单 2 人" in line for line in lines)
    assert "暂不发放" in lines[-1]
