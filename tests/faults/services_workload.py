"""Commands to relief, legal, competitions and partners that remember what was accepted.

Each of these services keeps its own view of membership from enrollment's events, so a command
about a member just enrolled may meet a 404 until that view has caught up: such a command is
sent again (bounded), as a caller would. A command whose outcome is uncertain (connection cut,
5xx) is sent again until the answer is definitive; after an uncertain attempt, "already done"
(a 409, or the idempotent replay's 200) means the first attempt went through.

Only public interfaces are used: the services' HTTP APIs and the partners' Kafka topic. Error
bodies are never read (only status codes and the fields of success responses).

The members worked here are enrolled through the enrollment API and then left alone by the
enrollment workers (no transfer, no leaving), so what each service must show for them is exact.
"""

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from scripts.fake_people import person
from shared.auth import Role
from shared.contracts.topics import partner_offers_topic
from tests.faults.workload import ExpectedMember, Workload

CHINA = timezone(timedelta(hours=8))
# How long a command may keep meeting "not known here yet" (the service's membership view lags).
UNKNOWN_PATIENCE_S = 150.0
# How long the partner (the workload's own producer) keeps trying to publish through a broker restart.
PARTNER_PRODUCE_PATIENCE_S = 180.0
# Filed this long after learning of the dispute, the one-year arbitration limit has passed: both
# of its notices (approaching, missed) are due as soon as the case is accepted.
LEGAL_LEARNED_DAYS_AGO = 400
JUDGES = ("j-li", "j-wang")


def success_body(r: httpx.Response) -> Any:
    """The body of a success; an error's body is never read (only its status code counts)."""
    return r.json() if 200 <= r.status_code < 300 and r.content else None


def china_today() -> date:
    return datetime.now(CHINA).date()


@dataclass
class Tally:
    """One service's commands: accepted per kind, uncertain attempts retried, surprises."""

    accepted: Counter[str] = field(default_factory=Counter)
    uncertain: int = 0
    unexpected: list[str] = field(default_factory=list)


@dataclass
class ReliefCase:
    member_id: str
    case_id: str
    status: str  # the status the accepted commands lead to


@dataclass
class LegalCase:
    member_id: str
    case_id: str
    case_no: str
    accepted: bool  # intake accepted: the arbitration limit's two notices are scheduled


@dataclass
class Offer:
    offer_id: str
    path: str  # http | kafka: every version of one offer takes the same path
    version: int  # the latest accepted version
    title: str
    bodies: dict[int, bytes] = field(default_factory=dict)  # the message of each accepted version


@dataclass
class ServicesWorkload:
    work: Workload
    urls: dict[str, list[str]]  # each service's replicas, as behind a load balancer
    rng: random.Random
    tallies: dict[str, Tally] = field(
        default_factory=lambda: {s: Tally() for s in ("relief", "legal", "competitions", "partners")}
    )
    relief_cases: dict[str, ReliefCase] = field(default_factory=dict)
    legal_cases: dict[str, LegalCase] = field(default_factory=dict)
    competition_id: str = ""
    city: str = ""
    results: dict[str, tuple[str, str]] = field(default_factory=dict)  # member -> (contest id, name)
    entries: set[str] = field(default_factory=set)  # members with an accepted entry
    honours: dict[str, str] = field(default_factory=dict)  # title -> member
    partner_id: str = ""
    partner_key: str = ""
    merchant_id: str = ""
    offers_topic: str = ""
    offers: dict[str, Offer] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)  # member -> union, the members worked here

    @property
    def http(self) -> httpx.AsyncClient:
        return self.work.http

    def headers(self, role: Role, **kw: Any) -> dict[str, str]:
        return self.work.headers(role, **kw)

    def cadre(self, union_id: str) -> dict[str, str]:
        return self.headers(Role.CADRE, union_id=uuid.UUID(union_id))

    async def call(
        self, service: str, method: str, path: str, headers: dict[str, str], *,
        body: Any = None, content: bytes | None = None, until_known: bool = False,
    ) -> tuple[int, Any, bool]:  # fmt: skip
        """Send until the answer is definitive; report whether an earlier attempt was uncertain.
        until_known: a 404 means the service has not heard of the member or union yet."""
        tally = self.tallies[service]
        uncertain = False
        deadline = time.monotonic() + UNKNOWN_PATIENCE_S
        replicas = self.urls[service]
        attempt = self.rng.randrange(len(replicas))
        while time.monotonic() < deadline:
            url = f"{replicas[attempt % len(replicas)]}{path}"
            try:
                r = await self.http.request(method, url, json=body, content=content, headers=headers)
            except httpx.TransportError:
                r = None
            if r is None or r.status_code >= 500:  # the next attempt goes to the next replica
                uncertain = True
                tally.uncertain += 1
                attempt += 1
                await asyncio.sleep(0.3)
                continue
            if r.status_code == 404 and until_known:
                await asyncio.sleep(0.3)
                continue
            return r.status_code, success_body(r), uncertain
        raise RuntimeError(f"{service}: no definitive answer for {method} {path}")

    def accept(
        self, service: str, what: str, status: int, uncertain: bool, ok: set[int], done: set[int]
    ) -> bool:
        """ok: first-time success; done: what a retry answers once an uncertain attempt went through."""
        if status in ok or (uncertain and status in done):
            self.tallies[service].accepted[what] += 1
            return True
        self.tallies[service].unexpected.append(f"{what}: {status}")
        return False

    # Members ------------------------------------------------------------------------------------

    async def enrolled_member(self) -> tuple[str, str] | None:
        """A new member, through the enrollment API, counted in the enrollment workload's checks."""
        work = self.work
        p = person(self.rng)
        union = self.rng.choice(work.unions)
        body = {"name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer or "个体",
                "employment_type": p.employment_type, "base_union_id": union}  # fmt: skip
        status, sub, uncertain = await work.command("/applications", body, work.headers(Role.ADMIN))
        if not work._accept("submit", status, uncertain, {200, 201}):
            return None
        app = sub["application"]
        status, _, uncertain = await work.command(
            f"/applications/{app['application_id']}/approve", None, self.cadre(union)
        )
        if not work._accept("approve", status, uncertain, {200}):
            return None
        mid = str(app["member_id"])
        # Busy for good: no enrollment worker transfers this member or makes them leave.
        work.busy.add(mid)
        work.members[mid] = ExpectedMember("active", union, 1)
        self.members[mid] = union
        return mid, union

    # Relief: report a hardship case, visit, ask for verification --------------------------------

    async def relief(self, mid: str, union: str) -> None:
        cadre = self.cadre(union)
        household = {"household_size": 3, "monthly_income_fen": 240_000, "causes": ["illness"]}
        report = {
            "member_id": mid,
            "household_register_no": f"33{uuid.uuid4().int % 10**12:012d}",
            **household,
        }
        # A retry of a report that went through joins the member's open file: 200, the same case.
        status, out, uncertain = await self.call(
            "relief", "POST", "/cases", cadre, body=report, until_known=True
        )
        if not self.accept("relief", "report", status, uncertain, {201}, {200}):
            return
        case_id = str(out["case"]["case_id"])
        case = self.relief_cases[mid] = ReliefCase(mid, case_id, "reported")
        visit = {"visited_on": china_today().isoformat(), "findings": "入户核实", **household}
        status, _, uncertain = await self.call(
            "relief", "POST", f"/cases/{case_id}/visits", cadre, body=visit
        )
        if not self.accept("relief", "visit", status, uncertain, {200}, set()):
            return
        status, _, uncertain = await self.call(
            "relief", "POST", f"/cases/{case_id}/verification", cadre, body={"note": "核实"}
        )
        if self.accept("relief", "request verification", status, uncertain, {200}, {409}):
            case.status = "verification_requested"

    # Legal: a member files (Idempotency-Key), a cadre accepts; the scheduler fires the clocks ----

    async def legal(self, mid: str, union: str) -> None:
        me = self.headers(Role.MEMBER, member_id=uuid.UUID(mid))
        filing = {"kind": "wage_arrears", "employer": "某外卖配送站", "amount_claimed_fen": 680_000,
                  "learned_on": (china_today() - timedelta(days=LEGAL_LEARNED_DAYS_AGO)).isoformat(),
                  "migrant_worker": True}  # fmt: skip
        key = {**me, "Idempotency-Key": f"fault-{uuid.uuid4().hex}"}
        status, out, uncertain = await self.call(
            "legal", "POST", "/cases", key, body=filing, until_known=True
        )
        if not self.accept("legal", "file", status, uncertain, {201}, {200}):
            return
        case = self.legal_cases[mid] = LegalCase(mid, str(out["case_id"]), str(out["case_no"]), False)
        status, _, uncertain = await self.call(
            "legal", "POST", f"/cases/{case.case_id}/disposition", self.cadre(union),
            body={"disposition": "accept"},
        )  # fmt: skip
        if self.accept("legal", "accept", status, uncertain, {200}, {409}):
            case.accepted = True

    # Competitions: one contest; each member enters once and is granted an honour ----------------

    async def create_competition(self, city: str) -> None:
        self.city = city
        body = {
            "name": "故障演练技能比武", "kind": "skills", "union_id": city,
            "criteria": [{"key": "technique", "name": "操作技能", "weight": 100, "max_points": "100"}],
            "stages": [{"name": "初赛", "judges": ["j-li", "j-wang"], "chief_judge": "j-li"}],
        }  # fmt: skip
        status, out, uncertain = await self.call(
            "competitions", "POST", "/competitions", self.headers(Role.ADMIN), body=body, until_known=True
        )
        assert status == 201 and not uncertain, f"competition not created: {status}"
        self.competition_id = str(out["competition_id"])

    async def competitions(self, mid: str, union: str) -> None:
        cadre = self.cadre(union)
        status, _, uncertain = await self.call(
            "competitions", "POST", f"/competitions/{self.competition_id}/entries", cadre,
            body={"member_ids": [mid]}, until_known=True,
        )  # fmt: skip
        if self.accept("competitions", "enter", status, uncertain, {201}, {409}):
            self.entries.add(mid)
        await self.grant_honour(mid, cadre)

    async def grant_honour(self, mid: str, cadre: dict[str, str]) -> None:
        """Granting is not idempotent: after an uncertain attempt, look before granting again."""
        title = f"技术能手-{uuid.uuid4().hex[:8]}"
        today = china_today()
        body = {"member_id": mid, "kind": "technical_expert", "title": title,
                "granted_on": today.isoformat(), "valid_until": (today + timedelta(days=365)).isoformat()}  # fmt: skip
        tally = self.tallies["competitions"]
        url = f"{self.urls['competitions'][0]}/honours"
        deadline = time.monotonic() + UNKNOWN_PATIENCE_S
        while time.monotonic() < deadline:
            try:
                status: int | None = (await self.http.post(url, json=body, headers=cadre)).status_code
            except httpx.TransportError:
                status = None
            if status == 404:  # the service has not heard of the member yet
                await asyncio.sleep(0.3)
                continue
            if status is not None and status < 500:
                if self.accept("competitions", "honour", status, False, {201}, set()):
                    self.honours[title] = mid
                return
            tally.uncertain += 1
            await asyncio.sleep(1)  # let a request cut mid-way finish (or not) before looking
            status, held, _ = await self.call("competitions", "GET", f"/members/{mid}/honours", cadre)
            if status == 200 and any(h["title"] == title for h in held):
                tally.accepted["honour"] += 1  # the uncertain attempt went through
                self.honours[title] = mid
                return
            if status not in (200, 404):  # 404: not known yet, so surely not granted
                tally.unexpected.append(f"honours of a member: {status}")
                return
        raise RuntimeError(f"honour {title} never got a definitive answer")

    async def final_results(self) -> None:
        """A small contest run to its end: three new members enter, two judges score them, the
        results are published and made final (an objection window of 0 days): each entrant gets
        one final result, on their card."""
        enrolled = [m for m in [await self.enrolled_member() for _ in range(3)] if m is not None]
        admin = self.headers(Role.ADMIN)
        name = f"故障演练决赛-{uuid.uuid4().hex[:6]}"
        body = {
            "name": name, "kind": "skills", "union_id": self.city,
            "criteria": [{"key": "technique", "name": "操作技能", "weight": 100, "max_points": "100"}],
            "stages": [{"name": "决赛", "judges": list(JUDGES), "chief_judge": JUDGES[0], "objection_days": 0}],
        }  # fmt: skip
        status, out, uncertain = await self.call(
            "competitions", "POST", "/competitions", admin, body=body, until_known=True
        )
        if not self.accept("competitions", "create contest", status, uncertain, {201}, set()):
            return
        cid, sid = str(out["competition_id"]), str(out["stages"][0]["stage_id"])
        for mid, union in enrolled:
            status, _, uncertain = await self.call(
                "competitions", "POST", f"/competitions/{cid}/entries", self.cadre(union),
                body={"member_ids": [mid]}, until_known=True,
            )  # fmt: skip
            if not self.accept("competitions", "enter", status, uncertain, {201}, {409}):
                return
        status, out, _ = await self.call("competitions", "GET", f"/competitions/{cid}", admin)
        if status != 200:
            self.tallies["competitions"].unexpected.append(f"contest: {status}")
            return
        entry_of = {str(m): str(e["entry_id"]) for e in out["entries"] for m in e["member_ids"]}
        for n, (mid, _) in enumerate(enrolled):
            for judge in JUDGES:  # the same points from both judges: no spread to review
                sheet = {"entry_id": entry_of[mid], "points": {"technique": str(90 - 5 * n)}}
                status, _, uncertain = await self.call(
                    "competitions", "POST", f"/stages/{sid}/scores", self.judge(judge), body=sheet
                )
                if not self.accept("competitions", "score", status, uncertain, {201}, {409}):
                    return
        for step in ("publish", "finalize"):
            status, _, uncertain = await self.call("competitions", "POST", f"/stages/{sid}/{step}", admin)
            if not self.accept("competitions", step, status, uncertain, {200}, {409}):
                return
        for mid, _ in enrolled:
            self.results[mid] = (cid, name)

    def judge(self, sub: str) -> dict[str, str]:
        return self.work.headers(Role.CADRE, sub=sub, union_id=uuid.UUID(self.city))

    # Partners: one partner and merchant; offers over HTTP and over the partner's own topic ------

    async def register_partner(self, topic_prefix: str) -> None:
        admin = self.headers(Role.ADMIN)
        self.partner_id = f"fault-{uuid.uuid4().hex[:6]}"
        body = {"partner_id": self.partner_id, "name": "故障演练平台"}
        status, out, _ = await self.call("partners", "POST", "/partners", admin, body=body)
        assert status == 201, f"partner not registered: {status}"
        self.partner_key = str(out["key"]["api_key"])
        self.merchant_id = f"{self.partner_id}-shop"
        merchant = {"name": "演练商户", "category": "dining", "region": "330100", "address": "湖滨路 1 号"}
        status, _, _ = await self.call(
            "partners",
            "PUT",
            f"/partners/{self.partner_id}/merchants/{self.merchant_id}",
            admin,
            body=merchant,
        )
        assert status == 200, f"merchant not listed: {status}"
        self.offers_topic = f"{topic_prefix}{partner_offers_topic(self.partner_id)}"

    def offer_message(self, offer_id: str, version: int) -> tuple[bytes, str]:
        now = datetime.now(UTC)
        title = f"会员专享 {offer_id} v{version}"
        body = {
            "action": "create" if version == 1 else "update", "merchant_id": self.merchant_id,
            "offer_id": offer_id, "version": version, "title": title,
            "discount": {"kind": "percent", "percent": "15"}, "category": "dining", "region": "330100",
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=30)).isoformat(), "eligibility": "all_members",
        }  # fmt: skip
        return json.dumps(body, ensure_ascii=False).encode(), title

    async def publish_offer(self, producer: AIOKafkaProducer, offer_id: str, path: str, version: int) -> None:
        raw, title = self.offer_message(offer_id, version)
        what = f"offer v{'1' if version == 1 else 'n'} over {path}"
        if path == "http":
            auth = {"Authorization": f"Bearer {self.partner_key}", "Content-Type": "application/json"}
            # Re-sending the same version is harmless (the service says so): retry until 202.
            status, _, uncertain = await self.call(
                "partners", "POST", "/partner-api/v1/offers", auth, content=raw
            )
            if not self.accept("partners", what, status, uncertain, {202}, set()):
                return
        else:
            # The partner's own producer, not a service: it retries for as long as a broker restart
            # can take on a busy machine (a partition's leader came back after more than 60 s once;
            # a refusal is immediate, so a count of tries measured too short a time).
            deadline = time.monotonic() + PARTNER_PRODUCE_PATIENCE_S
            while True:
                try:
                    await asyncio.wait_for(
                        producer.send_and_wait(self.offers_topic, raw, key=offer_id.encode()), timeout=10
                    )
                    break
                except (KafkaError, TimeoutError):
                    self.tallies["partners"].uncertain += 1
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"offer {offer_id} v{version} never reached the partner's topic"
                        ) from None
                    await asyncio.sleep(0.3)
            self.tallies["partners"].accepted[what] += 1
        offer = self.offers.setdefault(offer_id, Offer(offer_id, path, version, title))
        offer.version, offer.title = version, title
        offer.bodies[version] = raw

    async def offers_worker(self, producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            if self.offers and self.rng.random() < 0.3:
                offer = self.rng.choice(list(self.offers.values()))
                await self.publish_offer(producer, offer.offer_id, offer.path, offer.version + 1)
            else:
                n += 1
                await self.publish_offer(producer, f"o{n:04d}", "http" if n % 2 else "kafka", 1)
            await asyncio.sleep(0.1)

    # The stream -----------------------------------------------------------------------------------

    async def worker(self, service: str, stop: asyncio.Event) -> None:
        """Enroll a member, then work them in one service (relief, legal or competitions): one
        service that is down for a while does not hold up the others' streams."""
        if service == "results":
            while not stop.is_set():
                await self.final_results()
            return
        flow = {"relief": self.relief, "legal": self.legal, "competitions": self.competitions}[service]
        while not stop.is_set():
            enrolled = await self.enrolled_member()
            if enrolled is not None:
                await flow(*enrolled)
