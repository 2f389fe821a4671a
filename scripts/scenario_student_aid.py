"""金秋助学 in `make run`'s scenario: the city union opens this year's window, two members apply
for their children with a small PDF of the admission letter (one in the relief register's
style, by the relief rules on the household's figures; the other refused as too well off), a
second cadre reviews (four eyes), the list goes on public disclosure with masked names, and the
tuition budget is set. Payment waits for the end of the disclosure (the durable timer approves
the application then): the scenario shows the refusal before it. One line per step, in Chinese.
"""

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.fake_people import person
from scripts.scenario import RELIEF, Office
from shared.national_id import check_char

# The smallest PDF a viewer opens: one empty page.
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _student_id(rng: random.Random, year: int) -> str:
    first17 = (
        f"330106{year - 18}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    )
    return first17 + check_char(first17)


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f} 元"


async def play_student_aid(
    office: Office, city: str, bases: list[str], active: list[dict[str, Any]], rng: random.Random
) -> list[str]:
    """Plays the steps, prints a line for each and returns the lines."""
    lines: list[str] = []

    def say(line: str) -> None:
        print(line)
        lines.append(line)

    now = datetime.now(UTC)
    year = (now + timedelta(hours=8)).year
    federation = await office.cadre(city, "aid")
    body = {
        "union_id": city, "academic_year": year, "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(days=60)).isoformat(),
        "amounts_fen": {"undergraduate": 300_000, "junior_college": 200_000, "secondary_vocational": 100_000},
        "disclosure_days": 5,
    }  # fmt: skip
    r = await office.call("POST", f"{RELIEF}/student-aid/windows", json=body, headers=federation)
    if r.status_code == 409:  # this year's window of this demo city exists already
        say(f"金秋助学: {r.json()['detail']}")
        return lines
    r.raise_for_status()
    window = r.json()
    amounts = ", ".join(f"{a['label']} {_yuan(a['amount_fen'])}" for a in window["amounts"])
    say(
        f"金秋助学: 市总工会开设「{window['title']}」, {window['status_label']}, "
        f"截止 {window['closes_at'][:10]}; {amounts}"
    )

    ours = [m for m in active if m["base_union_id"] in bases]
    applicants = rng.sample(ours, k=min(3, len(ours)))
    households = [
        (3, 330_000, "undergraduate", "浙江大学"),  # 1,100 元 a head: relative hardship with schooling
        (4, 360_000, "junior_college", "浙江机电职业技术学院"),  # 900 a head: below the line
        (3, 900_000, "secondary_vocational", "杭州市技工学校"),  # 3,000 a head: not eligible
    ]
    submitted: list[tuple[dict[str, Any], dict[str, str]]] = []
    for member, (size, income, school_type, school) in zip(applicants, households, strict=False):
        union = uuid.UUID(member["base_union_id"])
        filer = await office.cadre(union, "grid")
        upload = await office.call(
            "POST", f"{RELIEF}/student-aid/evidence", params={"file_name": "录取通知书.pdf"},
            content=EVIDENCE_PDF, headers={**filer, "Content-Type": "application/pdf"},
        )  # fmt: skip
        upload.raise_for_status()
        evidence = upload.json()
        child = person(rng).name
        application = {
            "window_id": window["window_id"], "member_id": member["member_id"], "student_name": child,
            "student_id_number": _student_id(rng, year), "school_name": school, "school_type": school_type,
            "admission_year": year, "evidence_file_id": evidence["file_id"],
            "household": {"monthly_income_fen": income, "household_size": size},
        }  # fmt: skip
        r = await office.call("POST", f"{RELIEF}/student-aid/applications", json=application, headers=filer)
        if r.status_code != 201:
            say(f"  {member['name'][:1]}* 为子女申请: 未受理 — {r.json()['detail']}")
            continue
        a = r.json()
        say(
            f"  {a['member_name_masked']} 为子女 {a['student_name_masked']} 申请 "
            f"({a['school_type_label']}, {school}), 录取通知书 {evidence['size']} 字节 PDF 已上传: "
            f"{a['eligible_by_label']}, 资助 {_yuan(a['amount_fen'])}"
        )
        submitted.append((a, filer))

    for a, filer in submitted:
        union = uuid.UUID(next(m["base_union_id"] for m in applicants if m["member_id"] == a["member_id"]))
        own = await office.call(
            "POST", f"{RELIEF}/student-aid/applications/{a['application_id']}/review", json={"approve": True},
            headers=filer,
        )  # fmt: skip
        chair = await office.cadre(union, "chair")
        r = await office.call(
            "POST", f"{RELIEF}/student-aid/applications/{a['application_id']}/review",
            json={"approve": True, "reason": "材料齐全, 情况属实"}, headers=chair,
        )  # fmt: skip
        r.raise_for_status()
        reviewed = r.json()
        say(
            f"  审核: 代办干部自审被拒 ({own.status_code}: {own.json()['detail']}); "
            f"另一位干部同意, {reviewed['status_label']}至 {reviewed['disclosure_ends_at'][:10]}"
        )

    r = await office.call(
        "GET", f"{RELIEF}/student-aid/disclosure",
        params={"union_id": city, "window_id": window["window_id"]}, headers=federation,
    )  # fmt: skip
    r.raise_for_status()
    shown = r.json()["items"]
    say(f"  公示名单 {len(shown)} 人 (姓名脱敏):")
    for d in shown:
        say(f"    {d['member_name_masked']}  子女 {d['student_name_masked']}  {d['school_type_label']}  "
            f"{_yuan(d['amount_fen'])}  {d['union_name']}")  # fmt: skip

    r = await office.call(
        "PUT", f"{RELIEF}/budgets/{city}/{year}/tuition", json={"total_fen": 50_000_000}, headers=federation
    )
    r.raise_for_status()
    say(f"  市总工会 {year} 年助学预算: {_yuan(r.json()['total_fen'])}")
    if submitted:
        a = submitted[0][0]
        r = await office.call(
            "POST", f"{RELIEF}/student-aid/applications/{a['application_id']}/pay",
            json={"budget_union_id": city},
            headers={**federation, "Idempotency-Key": f"scenario-{a['application_id']}"},
        )  # fmt: skip
        outcome = "已发放" if r.status_code == 200 else f"暂不发放 — {r.json()['detail']}"
        say(
            f"  发放 {a['student_name_masked']}: {outcome} (公示期满、无异议后由定时器批准, 再从助学预算发放)"
        )
    return lines
