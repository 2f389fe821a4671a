"""Roster import (批量导入) end to end on real processes, a real broker and a real database: the
dry run's line report (CSV with errors, XLSX), the commit into members with their events, a
re-import that changes nothing, the neutral line for a person known outside the scope, another
union's cadre kept out, and the masked member list export."""

import random
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from scripts.fake_people import national_id
from scripts.rosters import HEADER, make_roster, roster_rows
from shared.contracts import decode_event
from shared.contracts.envelope import ContractError
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.tabular import XLSX_MEDIA_TYPE, TableFormat, read_table, write_table
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

NEUTRAL = "此行无法导入,请核对后单独办理"


class Imports:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.url = api.enrollment

    async def upload(
        self, union: uuid.UUID, data: bytes, headers: dict[str, str], file_name: str = "名单.csv",
        content_type: str = "text/csv",
    ) -> httpx.Response:  # fmt: skip
        return await self.api.http.post(
            f"{self.url}/imports",
            params={"union_id": str(union), "file_name": file_name},
            content=data,
            headers={**headers, "Content-Type": content_type},
        )

    async def checked(
        self, union: uuid.UUID, data: bytes, headers: dict[str, str], **kw: str
    ) -> dict[str, Any]:
        r = await self.upload(union, data, headers, **kw)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def lines(self, import_id: str, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
        r = await self.api.http.get(f"{self.url}/imports/{import_id}/lines", params=params, headers=headers)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    async def commit(self, import_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.api.http.post(f"{self.url}/imports/{import_id}/commit", headers=headers)

    async def committed(self, import_id: str, headers: dict[str, str]) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            r = await self.api.http.get(f"{self.url}/imports/{import_id}", headers=headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            assert body["status"] in ("committing", "committed"), body
            return body if body["status"] == "committed" else None

        result: dict[str, Any] = await eventually(check, timeout=60)
        return result

    async def imported(self, union: uuid.UUID) -> list[uuid.UUID]:
        conn = await asyncpg.connect(self.api.s.services["enrollment"].dsn)
        try:
            rows = await conn.fetch(
                """SELECT person_id FROM applications
                   WHERE channel = 'import' AND status = 'approved' AND base_union_id = $1""",
                union,
            )
            return [r["person_id"] for r in rows]
        finally:
            await conn.close()


@pytest.fixture
def imports(stack_env: Stack, http: httpx.AsyncClient) -> Imports:
    return Imports(Api(stack_env, http))


def _file(rows: list[list[str]], fmt: TableFormat = TableFormat.CSV) -> bytes:
    return write_table(fmt, HEADER, rows)


async def test_a_roster_is_checked_committed_and_not_imported_twice(imports: Imports) -> None:
    api = imports.api
    units = await api.tree()
    units["far"] = await api.union("宁波某制造厂工会", "base", units["other_city"])
    cadre, outsider = api.cadre(units["district"]), api.cadre(units["other_city"])
    rng = random.Random()
    here_id, far_id, pending_far_id = national_id(rng), national_id(rng), national_id(rng)
    await api.enrolled_member(units["riders"], national_id=here_id)
    await api.enrolled_member(units["far"], national_id=far_id)
    pending = await api.apply(units["far"], national_id=pending_far_id)
    assert pending.status_code == 201, pending.text
    seed = rng.randrange(10**6)
    rows = roster_rows(10, units["logistics"], {"checksum": 1, "phone": 1, "duplicate": 1}, seed=seed)
    rows += [
        ["李四", here_id, "13900139000", "外卖平台", "灵活就业", "外卖骑手网格工会"],  # by name
        ["王五", far_id, "13900139001", "某厂", "职工", str(units["logistics"])],
        ["赵六", pending_far_id, "13900139002", "某厂", "职工", str(units["logistics"])],
        ["钱七", national_id(rng), "13900139003", "某厂", "职工", str(units["far"])],
        ["孙八", national_id(rng), "13900139004", "某厂", "职工", str(units["district"])],
    ]
    data = _file(rows)

    job = await imports.checked(units["district"], data, cadre)
    assert {k: job[k] for k in ("status", "file_name", "total", "ok", "refused", "done")} == {
        "status": "checked", "file_name": "名单.csv", "total": 15, "ok": 7, "refused": 8, "done": 0,
    }  # fmt: skip
    assert job["lines_url"] == f"/imports/{job['import_id']}/lines"
    refused = await imports.lines(job["import_id"], cadre, outcome="refused")
    assert [(r["line"], r["reason"]) for r in refused] == [
        (9, "与第2行重复"), (10, "手机号应为11位大陆手机号码"), (11, "身份证号校验位不符"),
        (12, "已是本会会员"), (13, NEUTRAL), (14, NEUTRAL), (15, "基层工会不在您的管辖范围内"),
        (16, "该工会不是基层工会,会员只能加入基层工会"),
    ]  # fmt: skip
    page = await imports.lines(job["import_id"], cadre, outcome="ok", limit="3", after="2")
    assert [(r["line"], r["outcome"]) for r in page] == [(3, "ok"), (4, "ok"), (5, "ok")]
    assert await imports.imported(units["logistics"]) == []  # a dry run writes no application

    # Another union's cadre sees no such job, and cannot commit it.
    for r in [
        await api.http.get(f"{imports.url}/imports/{job['import_id']}", headers=outsider),
        await api.http.get(f"{imports.url}/imports/{job['import_id']}/lines", headers=outsider),
        await imports.commit(job["import_id"], outsider),
    ]:
        assert r.status_code == 404, r.text
    assert (await imports.upload(units["district"], data, outsider)).status_code == 403

    r = await imports.commit(job["import_id"], cadre)
    assert r.status_code == 202, r.text
    assert r.json() == {"import_id": job["import_id"], "status": "committing"}
    done = await imports.committed(job["import_id"], cadre)
    assert (done["done"], done["ok"], done["total"]) == (7, 7, 15)
    assert done["committed_at"] is not None
    people = await imports.imported(units["logistics"])
    assert len(people) == 7
    imported_lines = await imports.lines(job["import_id"], cadre, outcome="ok")
    assert {r["reason"] for r in imported_lines} == {"已导入"}

    # The usual events, keyed by each new member.
    async def events() -> dict[str, list[str]] | None:
        records = await read_topic(api.s.bootstrap, api.s.topic(ENROLLMENT_EVENTS))
        found: dict[str, list[str]] = {}
        for record in records:
            try:
                meta, _ = decode_event(record.value)
            except ContractError:
                continue  # the stack's topic is shared: other tests put broken records on it
            found.setdefault(record.key.decode(), []).append(meta.event_type)
        wanted = {"enrollment.ApplicationSubmitted", "enrollment.MemberEnrolled"}
        return found if all(wanted <= set(found.get(str(p), [])) for p in people) else None

    await eventually(events, timeout=30)

    # Committing again, or importing the same file again, creates nothing.
    again = await imports.commit(job["import_id"], cadre)
    assert again.status_code == 202 and again.json()["status"] == "committed"
    second = await imports.checked(units["district"], data, cadre)
    assert (second["ok"], second["refused"]) == (0, 15)
    reasons = await imports.lines(second["import_id"], cadre, outcome="refused")
    assert sum(r["reason"] == "已是本会会员" for r in reasons) == 8
    r = await imports.commit(second["import_id"], cadre)
    assert r.status_code == 202
    finished = await imports.committed(second["import_id"], cadre)
    assert finished["done"] == 0
    assert sorted(await imports.imported(units["logistics"])) == sorted(people)

    # The checked rows' personal data is gone once committed.
    conn = await asyncpg.connect(api.s.services["enrollment"].dsn)
    try:
        kept = await conn.fetchval(
            "SELECT count(*) FROM import_lines WHERE import_id = $1 AND row_cipher IS NOT NULL",
            uuid.UUID(job["import_id"]),
        )
        assert kept == 0
    finally:
        await conn.close()

    # The member list: masked, as a file.
    for fmt in TableFormat:
        r = await api.http.get(
            f"{imports.url}/members/export",
            params={"union_id": str(units["district"]), "format": fmt.value},
            headers=cadre,
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"].startswith("attachment;")
        assert r.headers["content-type"].startswith(fmt.media_type.split(";")[0])
        table = read_table(fmt, r.content)
        assert table.header == (
            "姓名",
            "身份证号",
            "手机号",
            "会员卡号",
            "会员编号",
            "基层工会",
            "会籍状态",
            "入会日期",
        )
        assert len(table.rows) == 8  # 7 imported, 1 enrolled before among the riders
        clear_ids = {row[1] for row in rows}
        for _, cells in table.rows:
            assert cells[0][1] == "*" and "*" in cells[1] and "****" in cells[2], cells
            assert cells[1] not in clear_ids and cells[6] == "在会"
        assert not any(i.encode() in r.content for i in clear_ids)
    outside = await api.http.get(
        f"{imports.url}/members/export", params={"union_id": str(units["far"])}, headers=cadre
    )
    assert outside.status_code == 403


async def test_an_xlsx_roster_and_files_that_are_not_one(imports: Imports) -> None:
    api = imports.api
    units = await api.tree()
    admin = api.admin
    data = make_roster(6, "某物流公司工会", {"employment_type": 1, "young": 1}, fmt=TableFormat.XLSX)
    job = await imports.checked(
        units["district"], data, admin, file_name="名单.xlsx", content_type=XLSX_MEDIA_TYPE
    )
    assert (job["total"], job["ok"], job["refused"]) == (6, 4, 2)
    refused = await imports.lines(job["import_id"], admin, outcome="refused")
    assert [r["reason"] for r in refused] == [
        "未满16周岁,不能入会",
        "用工形式应为职工、临时工、外来务工或灵活就业",
    ]
    # By the extension when the media type says nothing.
    by_name = await imports.upload(
        units["district"], data, admin, file_name="x.xlsx", content_type="application/octet-stream"
    )
    assert by_name.status_code == 201, by_name.text

    # A job left committing (as a crash after the commit call leaves it) is taken up by the
    # service's chore from the database alone, with no further call.
    conn = await asyncpg.connect(api.s.services["enrollment"].dsn)
    try:
        await conn.execute(
            "UPDATE import_jobs SET status = 'committing', committed_by = actor WHERE import_id = $1",
            uuid.UUID(job["import_id"]),
        )
        # A checked job 8 days old loses its rows' personal data, and can no longer be committed.
        stale = uuid.UUID(by_name.json()["import_id"])
        await conn.execute(
            "UPDATE import_jobs SET created_at = created_at - interval '8 days' WHERE import_id = $1", stale
        )

        async def purged() -> bool:
            kept = await conn.fetchval(
                "SELECT count(*) FROM import_lines WHERE import_id = $1 AND row_cipher IS NOT NULL", stale
            )
            return bool(kept == 0)

        await eventually(purged)
        too_late = await imports.commit(str(stale), admin)
        assert too_late.status_code == 409 and "7天" in too_late.json()["detail"], too_late.text
    finally:
        await conn.close()
    resumed = await imports.committed(job["import_id"], admin)
    assert resumed["done"] == 4
    assert len(await imports.imported(units["logistics"])) == 4

    for body, name, kind, detail in [
        (b"\xd0\xcf\x11\xe0 not a zip", "x.xlsx", XLSX_MEDIA_TYPE, "无法读取该 Excel 文件"),
        ("姓名,身份证号\n张三,1\n".encode(), "x.csv", "text/csv", "文件缺少列"),
        (b"%PDF-1.7", "x.pdf", "application/pdf", "请上传 CSV 或 XLSX 文件"),
    ]:
        r = await imports.upload(units["district"], body, admin, file_name=name, content_type=kind)
        assert r.status_code == 422, r.text
        assert detail in r.json()["detail"]
    too_big = await imports.upload(units["district"], b"x" * (5 * 1024 * 1024 + 1), admin)
    assert too_big.status_code == 413
