"""A small, realistic world seeded through the public APIs, so fuzzed path parameters can point at
records that exist: a union tree, members enrolled by a cadre's approval, pending applications, a
relief case with a budget, a legal case with counsel and a supervision letter, a competition with
entries and an honour, a partner with a merchant and an offer.

Each role gets a world of its own: a role's requests change what they reach (a member leaves, a
key is revoked, a case is closed), and the next role must not find only wreckage."""

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from scripts.fake_people import person
from shared.auth import Role
from shared.national_id import check_char
from tests.conftest import Stack

# Path parameters that name records, per service; values are lists, tried in turn.
Seeds = dict[str, dict[str, list[Any]]]


@dataclass
class World:
    tag: str
    units: dict[str, uuid.UUID]
    members: list[dict[str, Any]]
    partner_key: str
    seeds: Seeds = field(default_factory=dict)
    # Valid requests per service and operation ("POST /cases"): {"body", "query", "path"}, the
    # path parameters not among the seeds.
    examples: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def member_id(self) -> uuid.UUID:
        return uuid.UUID(self.members[0]["member_id"])


class Seeder:
    def __init__(self, s: Stack, http: httpx.Client) -> None:
        self.s = s
        self.http = http
        self.admin = s.headers(Role.ADMIN)
        self.rng = random.Random()
        self.examples: dict[str, dict[str, dict[str, Any]]] = {}

    def example(self, service: str, label: str, **request: Any) -> None:
        self.examples.setdefault(service, {})[label] = request

    def url(self, service: str, path: str) -> str:
        return f"{self.s.services[service].url}{path}"

    def cadre(self, union_id: uuid.UUID) -> dict[str, str]:
        return self.s.headers(Role.CADRE, union_id=union_id)

    def member(self, member_id: str) -> dict[str, str]:
        return self.s.headers(Role.MEMBER, member_id=uuid.UUID(member_id))

    def call(
        self,
        method: str,
        service: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
        expect: int = 200,
    ) -> Any:
        r = self.http.request(method, self.url(service, path), json=body, headers=headers)
        assert r.status_code == expect, f"seeding {method} {service}{path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def until(
        self, method: str, service: str, path: str, headers: dict[str, str], body: Any, expect: int
    ) -> Any:
        """The services learn of unions and members from enrollment's events: retry while they
        have not yet (404), fail on anything else."""
        deadline = time.monotonic() + 30
        while True:
            r = self.http.request(method, self.url(service, path), json=body, headers=headers)
            if r.status_code == expect:
                return r.json()
            if r.status_code != 404 or time.monotonic() > deadline:
                raise AssertionError(f"seeding {method} {service}{path}: {r.status_code} {r.text}")
            time.sleep(0.2)

    def union(self, name: str, kind: str, parent: uuid.UUID | None = None) -> uuid.UUID:
        body = {"name": name, "kind": kind, "parent_id": str(parent) if parent else None}
        if parent is None:
            body["region"] = "330100"
        return uuid.UUID(self.call("POST", "enrollment", "/unions", self.admin, body, 201)["union_id"])

    def application(self, union_id: uuid.UUID) -> dict[str, Any]:
        p = person(self.rng)
        body = {
            "name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer or "个体",
            "employment_type": p.employment_type, "base_union_id": str(union_id),
        }  # fmt: skip
        self.example("enrollment", "POST /applications", body=body)
        app: dict[str, Any] = self.call("POST", "enrollment", "/applications", self.admin, body, 201)[
            "application"
        ]
        return app

    def enrolled(self, union_id: uuid.UUID) -> dict[str, Any]:
        app = self.application(union_id)
        path = f"/applications/{app['application_id']}/approve"
        member: dict[str, Any] = self.call("POST", "enrollment", path, self.cadre(union_id))
        return member

    def world(self, role: str) -> World:
        tag = f"{role}-{uuid.uuid4().hex[:6]}"
        city = self.union(f"杭州市总工会-{tag}", "city")
        district = self.union("西湖区总工会", "county", city)
        units = {
            "city": city,
            "district": district,
            "base": self.union("某物流公司工会", "base", district),
            "other_base": self.union("外卖骑手网格工会", "base", district),
        }
        base = units["base"]
        members = [self.enrolled(base) for _ in range(3)]
        pending = [self.application(base)["application_id"] for _ in range(3)]
        mid = members[0]["member_id"]
        export = self.call(
            "POST", "enrollment", f"/members/{mid}/export-requests", self.member(mid), None, 201
        )
        today = datetime.now(UTC).date()
        relief_case = self.relief(base, members[0]["member_id"], today)
        student_aid = self.student_aid(district, base, members[0]["member_id"], today)
        campaign = self.campaign(city, district, base, today)
        legal = self.legal(base, members[0], today)
        competitions = self.competitions(district, members, today)
        partners = self.partners(tag)
        self.more_examples(units, members, today)
        seeds: Seeds = {
            "enrollment": {
                "union_id": [base, district],
                "application_id": pending,
                "request_id": [export["request_id"]],
                # The last member first: the member role's own (the first) should stay active.
                "member_id": [m["member_id"] for m in reversed(members)],
            },
            "projector": {"member_id": [members[0]["member_id"]], "union_id": [base, city]},
            "relief": {
                "case_id": [relief_case],
                "campaign_id": [campaign["campaign_id"]],
                "list_id": [campaign["list_id"]],
                "member_id": [members[0]["member_id"]],
                "union_id": [base],
                "year": [today.year],
                **student_aid,
            },
            "legal": {
                "union_id": [base],
                "case_id": [legal["case_id"]],
                "member_id": [members[0]["member_id"]],
                "supervision_id": [legal["supervision_id"]],
            },
            "competitions": {k: v for k, v in competitions.items() if k != "member_id"}
            | {"member_id": [members[1]["member_id"]]},
            "partners": {k: v for k, v in partners.items() if k != "api_key"},
            "identity": {"dispute_id": [uuid.uuid4()]},
            "reports": {
                "union_id": [base, district, city],
                "report": ["membership", "coverage", "relief", "legal", "competitions", "offers"],
            },
        }
        examples, self.examples = self.examples, {}
        return World(tag, units, members, partners["api_key"][0], seeds, examples)

    def more_examples(self, units: dict[str, uuid.UUID], members: list[dict[str, Any]], today: date) -> None:
        """Valid requests of the operations the seeding does not make."""
        phone = f"139{self.rng.randint(0, 10**8 - 1):08d}"
        self.example("identity", "POST /codes", body={"phone": phone, "purpose": "sign_in"})
        self.example("identity", "POST /sessions", body={"phone": phone, "code": "123456"})
        base, other = str(units["base"]), str(units["other_base"])
        month_ago = (today - timedelta(days=30)).isoformat()
        new_union = {
            "name": f"新建工会-{uuid.uuid4().hex[:6]}",
            "kind": "base",
            "parent_id": str(units["district"]),
        }
        self.example("enrollment", "POST /unions", body=new_union)
        self.example(
            "enrollment", "POST /applications/{application_id}/reject", body={"reason": "身份证照片不清晰"}
        )
        self.example(
            "enrollment",
            "POST /members/{member_id}/transfer",
            body={"to_union_id": other, "reason": "换工作"},
        )
        self.example("enrollment", "POST /members/{member_id}/leave", body={"reason": "离开本市"})
        self.example("enrollment", "POST /members/{member_id}/reinstate", body={"union_id": base})
        self.example("enrollment", "POST /members/{member_id}/erasure", body={"reason": "本人申请删除"})
        self.example("enrollment", "GET /applications", query={"union_id": base, "limit": 10})
        self.example(
            "legal",
            "GET /reports/summary",
            query={"union_id": base, "start": month_ago, "end": today.isoformat()},
        )
        self.example("legal", "GET /cases", query={"union_id": base, "limit": 10})
        self.example("relief", "GET /reports/summary", query={"union_id": base, "year": today.year})
        self.example("relief", "GET /budgets", query={"union_id": base, "year": today.year})
        self.example("relief", "GET /disclosures", query={"union_id": base})
        self.example("relief", "GET /cases", query={"union_id": base, "limit": 10})
        self.example("relief", "POST /cases/{case_id}/verification", body={"note": "已入户核实"})
        approve = {"path": {"step": "verification"}, "body": {"note": "同意"}}
        self.example("relief", "POST /cases/{case_id}/steps/{step}/approve", **approve)
        self.example("competitions", "GET /members/{member_id}/honours", query={"on": today.isoformat()})
        self.example("projector", "GET /merchants", query={"region": "330100", "limit": 10})
        self.example("projector", "GET /unions/{union_id}/cards", query={"limit": 10})

    def campaign(self, city: uuid.UUID, district: uuid.UUID, base: uuid.UUID, today: date) -> dict[str, str]:
        """A 送温暖 campaign at the city, split to the base union, with its draft list."""
        body = {"title": "2027年春节送温暖", "union_id": str(city), "starts_on": today.isoformat(),
                "ends_on": (today + timedelta(days=30)).isoformat(), "total_fen": 1_000_000,
                "amounts_fen": {"deep": 100_000, "front_line": 30_000}}  # fmt: skip
        cid = self.until("POST", "relief", "/campaigns", self.cadre(city), body, 201)["campaign_id"]
        self.example("relief", "POST /campaigns", body=body)
        for union, parent in ((district, city), (base, district)):
            path = f"/campaigns/{cid}/allocations/{union}"
            self.call("PUT", "relief", path, self.cadre(parent), {"total_fen": 500_000})
        self.example("relief", "PUT /campaigns/{campaign_id}/allocations/{union_id}", body={"total_fen": 1})
        made = self.call(
            "POST", "relief", f"/campaigns/{cid}/lists", self.cadre(base), {"union_id": str(base)}, 201
        )
        self.example("relief", "POST /campaigns/{campaign_id}/lists", body={"union_id": str(base)})
        return {"campaign_id": cid, "list_id": made["list_id"]}

    def relief(self, base: uuid.UUID, member_id: str, today: date) -> str:
        report = {
            "member_id": member_id,
            "household_register_no": f"3301{self.rng.randrange(10**8):08d}",
            "household_size": 3,
            "monthly_income_fen": 240_000,
            "causes": ["illness"],
            "note": "丈夫重病住院",
        }
        case = self.until("POST", "relief", "/cases", self.cadre(base), report, 201)["case"]
        self.call(
            "PUT", "relief", f"/budgets/{base}/{today.year}/medical", self.admin, {"total_fen": 5_000_000}
        )
        self.example("relief", "POST /cases", body=report)
        budget = {"path": {"aid_type": "medical"}, "body": {"total_fen": 5_000_000}}
        self.example("relief", "PUT /budgets/{union_id}/{year}/{aid_type}", **budget)
        visit = {"household_size": 3, "monthly_income_fen": 240_000, "causes": ["illness"],
                 "visited_on": today.isoformat(), "findings": "入户走访核实"}  # fmt: skip
        self.call("POST", "relief", f"/cases/{case['case_id']}/visits", self.cadre(base), visit)
        self.example("relief", "POST /cases/{case_id}/visits", body=visit)
        return str(case["case_id"])

    def student_aid(
        self, district: uuid.UUID, base: uuid.UUID, member_id: str, today: date
    ) -> dict[str, list[Any]]:
        """A 金秋助学 window at the district, an application a base cadre filed for the member (on
        disclosure after another cadre's review) with its evidence, and an objection to it."""
        now = datetime.now(UTC)
        window_body = {
            "union_id": str(district), "academic_year": today.year, "opens_at": (now - timedelta(hours=1)).isoformat(),
            "closes_at": (now + timedelta(days=30)).isoformat(), "amounts_fen": {"undergraduate": 300_000},
        }  # fmt: skip
        window = self.until("POST", "relief", "/student-aid/windows", self.cadre(district), window_body, 201)
        self.example(
            "relief", "POST /student-aid/windows", body={**window_body, "academic_year": today.year + 1}
        )
        filer = self.s.headers(Role.CADRE, union_id=base, sub="seed-filer")
        pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        r = self.http.post(
            self.url("relief", "/student-aid/evidence"), params={"file_name": "录取通知书.pdf"}, content=pdf,
            headers={**filer, "Content-Type": "application/pdf"},
        )  # fmt: skip
        assert r.status_code == 201, f"seeding the evidence: {r.status_code} {r.text}"
        file_id = r.json()["file_id"]
        first17 = f"330106{today.year - 18}0101{self.rng.randrange(1000):03d}"
        application_body = {
            "window_id": window["window_id"], "member_id": member_id, "student_name": "张小明",
            "student_id_number": first17 + check_char(first17), "school_name": "浙江大学",
            "school_type": "undergraduate", "admission_year": today.year, "evidence_file_id": file_id,
            "household": {"monthly_income_fen": 240_000, "household_size": 3},
        }  # fmt: skip
        application = self.call("POST", "relief", "/student-aid/applications", filer, application_body, 201)
        self.example("relief", "POST /student-aid/applications", body=application_body)
        aid_id = application["application_id"]
        self.call(
            "POST", "relief", f"/student-aid/applications/{aid_id}/review", self.cadre(base),
            {"approve": True, "reason": "材料齐全"},
        )  # fmt: skip
        objection = self.call(
            "POST", "relief", f"/student-aid/applications/{aid_id}/objections", self.member(member_id),
            {"text": "请核实家庭收入"}, 201,
        )  # fmt: skip
        self.example("relief", "POST /student-aid/objections/{objection_id}/answer",
                     body={"upheld": False, "answer": "经核实属实"})  # fmt: skip
        self.example("relief", "GET /student-aid/disclosure", query={"union_id": str(district)})
        return {
            "window_id": [window["window_id"]],
            "application_id": [aid_id],
            "file_id": [file_id],
            "objection_id": [objection["objection_id"]],
        }

    def legal(self, base: uuid.UUID, member: dict[str, Any], today: date) -> dict[str, str]:
        body = {
            "kind": "wage_arrears",
            "employer": "某建筑劳务公司",
            "amount_claimed_fen": 1_200_000,
            "migrant_worker": True,
            "learned_on": (today - timedelta(days=20)).isoformat(),
        }
        case = self.until("POST", "legal", "/cases", self.member(member["member_id"]), body, 201)
        self.example("legal", "POST /cases", body={**body, "member_id": member["member_id"]})
        counsel = {"union_id": str(base), "name": "张律师", "role": "lawyer", "capacity": 5}
        self.call("POST", "legal", "/counsel", self.cadre(base), counsel, 201)
        self.example("legal", "POST /counsel", body=counsel)
        letter = {"union_id": str(base), "employer": "某建筑劳务公司", "issue": "拖欠农民工工资"}
        supervision = self.call("POST", "legal", "/supervisions", self.cadre(base), letter, 201)
        self.example("legal", "POST /supervisions", body=letter)
        return {"case_id": case["case_id"], "supervision_id": supervision["supervision_id"]}

    def competitions(
        self, district: uuid.UUID, members: list[dict[str, Any]], today: date
    ) -> dict[str, list[Any]]:
        body = {
            "name": "2026年叉车技能比武",
            "kind": "skills",
            "union_id": str(district),
            "criteria": [{"key": "skill", "name": "操作技能", "weight": 1}],
            "stages": [{"name": "第一季度", "judges": ["test-cadre", "j-wang"], "chief_judge": "test-cadre"}],
        }  # fmt: skip
        comp = self.until("POST", "competitions", "/competitions", self.cadre(district), body, 201)
        self.example("competitions", "POST /competitions", body=body)
        self.example(
            "competitions",
            "POST /competitions/{competition_id}/entries",
            body={"member_ids": [members[2]["member_id"]]},
        )
        cid = comp["competition_id"]
        entries = [
            self.until("POST", "competitions", f"/competitions/{cid}/entries", self.cadre(district),
                       {"member_ids": [m["member_id"]]}, 201)["entry_id"]
            for m in members[:2]
        ]  # fmt: skip
        honour = {
            "member_id": members[1]["member_id"],
            "kind": "model_worker",
            "title": "杭州市劳动模范",
            "granted_on": today.isoformat(),
            "valid_until": (today + timedelta(days=365 * 4)).isoformat(),
        }
        granted = self.until("POST", "competitions", "/honours", self.admin, honour, 201)
        self.example("competitions", "POST /honours", body=honour)
        return {
            "competition_id": [cid],
            "stage_id": [comp["stages"][0]["stage_id"]],
            "entry_id": entries,
            "honour_id": [granted["honour_id"]],
        }

    def partners(self, tag: str) -> dict[str, list[Any]]:
        partner_id = f"p-{tag}"
        registered = self.call(
            "POST", "partners", "/partners", self.admin, {"partner_id": partner_id, "name": tag}, 201
        )
        merchant = f"m-{tag}"
        listing = {"name": "知味观 · 湖滨店", "category": "dining", "region": "330100"}
        self.call("PUT", "partners", f"/partners/{partner_id}/merchants/{merchant}", self.admin, listing)
        self.example("partners", "POST /partners", body={"partner_id": f"{partner_id}-2", "name": tag})
        self.example("partners", "PUT /partners/{partner_id}/merchants/{merchant_id}", body=listing)
        now = datetime.now(UTC)
        offer = {
            "action": "create", "version": 1, "merchant_id": merchant, "offer_id": f"o-{tag}",
            "title": "会员 8.5 折", "discount": {"kind": "percent", "percent": "15"}, "category": "dining",
            "region": "330100", "eligibility": "all_members",
            "valid_from": (now - timedelta(hours=1)).isoformat(), "valid_until": (now + timedelta(days=30)).isoformat(),
        }  # fmt: skip
        key = registered["key"]["api_key"]
        self.call(
            "POST", "partners", "/partner-api/v1/offers", {"Authorization": f"Bearer {key}"}, offer, 202
        )
        self.example(
            "partners", "POST /partner-api/v1/offers", body={**offer, "action": "update", "version": 2}
        )
        return {
            "partner_id": [partner_id],
            "key_id": [registered["key"]["key_id"]],
            "merchant_id": [merchant],
            "offer_id": [f"o-{tag}"],
            "api_key": [key],
        }


WorldFactory = Callable[[str], World]
