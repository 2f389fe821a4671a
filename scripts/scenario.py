"""A realistic morning at a city federation, played through the HTTP APIs: `make scenario`.

Builds a city's union tree, files a few hundred online applications (some with invalid ID
numbers, some duplicates), has cadres approve or reject them, transfers some members, lets some
leave and one come back, waits until every member card agrees, then prints a summary and cards.
"""

import argparse
import asyncio
import contextlib
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from scripts.fake_people import Person, person, with_bad_checksum
from scripts.identity_client import IdentityClient, Tokens
from scripts.rosters import make_roster
from scripts.stack import ROOT, dev_secrets
from services.enrollment.domain.employers import random_credit_code
from shared.auth import Role, sign_dev_token
from shared.contracts.identity import AccessClaims
from shared.events import CHINA

IDENTITY = "http://127.0.0.1:8007"
CODES = ROOT / ".run" / "codes.log"  # identity's development notifier (make codes)
ENROLLMENT = "http://127.0.0.1:8001"
CARDS = "http://127.0.0.1:8002"
RELIEF = "http://127.0.0.1:8003"
LEGAL = "http://127.0.0.1:8004"
COMPETITIONS = "http://127.0.0.1:8005"
PARTNERS = "http://127.0.0.1:8006"
WEB = "http://127.0.0.1:8000"  # the member app, the till and the cadre console
REPORTS = "http://127.0.0.1:8008"
ROSTER = ROOT / ".run" / "demo-roster.csv"  # a roster file to try the console's import with
REJECTION_REASONS = [
    "身份证照片不清晰 (ID photo unreadable)",
    "所选工会与工作单位不符 (union does not match employer)",
]


K = TypeVar("K")


class Office:
    """The scenario's people, each signed in through the identity service as the apps do: the
    federation's admin (made once with a development token, as `make admin` makes the first),
    cadres with their passwords, members with their phone, a one-time code and their real name."""

    def __init__(
        self, http: httpx.AsyncClient, identity: IdentityClient, tag: str, rng: random.Random
    ) -> None:
        self.http = http
        self.identity = identity
        self.tag = tag
        self.rng = rng
        self.gate = asyncio.Semaphore(16)
        self.people: dict[str, Person] = {}  # member id -> the person behind it, to sign them in
        self.signed_in: Counter[str] = Counter()
        self._admin: Tokens | None = None
        self._cadres: dict[tuple[str, str], Tokens] = {}
        self._members: dict[str, Tokens] = {}
        self._locks: defaultdict[object, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def sign_in_admin(self, signing_key: str) -> None:
        claims = AccessClaims(sub="scenario-bootstrap", role=Role.ADMIN)
        bootstrap = {"Authorization": f"Bearer {sign_dev_token(signing_key, claims, ttl_seconds=60)}"}
        username = f"demo.admin.{self.tag}"
        account, password = await self.identity.staff_account(bootstrap, username, display_name="演示管理员")
        await self.identity.grant(bootstrap, account, "admin")
        self._admin = await self.identity.staff_sign_in(username, password)
        self.signed_in["admin (password)"] += 1

    @property
    def admin(self) -> dict[str, str]:
        assert self._admin is not None, "sign_in_admin first"
        return self._admin.headers

    async def cadre(self, union: str | uuid.UUID, label: str = "cadre") -> dict[str, str]:
        """A cadre of the union, made by the admin and signed in with a password (one per label:
        the four-eyes rule needs a second cadre)."""
        key = (str(union), label)
        async with self._locks[key]:
            if key not in self._cadres:
                username = f"demo.{label}.{str(union)[:8]}.{self.tag}"
                self._cadres[key] = await self.identity.cadre(self.admin, union, username)
                self.signed_in["cadres (password)"] += 1
        return self._cadres[key].headers

    async def member(self, member_id: str) -> dict[str, str]:
        """The member signed in on their own phone: a code, then their real name, which claims
        the membership a cadre filed for them (name, ID number and phone match)."""
        async with self._locks[member_id]:
            if member_id not in self._members:
                p = self.people[member_id]
                async with self.own_phone() as identity:
                    self._members[member_id] = await identity.member(p.phone, p.name, p.national_id)
                self.signed_in["members (phone code, real name)"] += 1
        return self._members[member_id].headers

    @contextlib.asynccontextmanager
    async def own_phone(self) -> AsyncIterator[IdentityClient]:
        """A client on a loopback address of its own: identity limits codes per client address,
        and every member here has a phone of their own."""
        address = f"127.{self.rng.randrange(1, 255)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(transport=transport, timeout=30) as http:
            yield IdentityClient(http, self.identity.url, self.identity.codes_file)

    def remember(self, member_id: str, tokens: Tokens) -> None:
        self._members[member_id] = tokens

    async def keep_fresh(self) -> None:
        """Access tokens live minutes: each is refreshed in its last third, as an app does."""
        while True:
            await asyncio.sleep(20)
            if self._admin and not self._admin.fresh_for(200):
                self._admin = await self.identity.refresh(self._admin)
            await self._refresh_stale(self._cadres)
            await self._refresh_stale(self._members)

    async def _refresh_stale(self, book: dict[K, Tokens]) -> None:
        for key, tokens in list(book.items()):
            if not tokens.fresh_for(200):
                book[key] = await self.identity.refresh(tokens)

    async def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        async with self.gate:
            return await self.http.request(method, url, **kw)

    async def union(self, name: str, kind: str, parent: str | None = None, region: str | None = None) -> str:
        body = {"name": name, "kind": kind, "parent_id": parent, "region": region}
        r = await self.call("POST", f"{ENROLLMENT}/unions", json=body, headers=self.admin)
        r.raise_for_status()
        return str(r.json()["union_id"])


async def apply_online(office: Office, p: Person, union: str) -> httpx.Response:
    """我要入会 in the app: sign up by phone and code, verify the real name (the person is linked
    to the account), then apply for oneself."""
    async with office.own_phone() as identity:
        signed_up = await identity.phone_sign_in(p.phone)
        verified = await identity.verify_real_name(signed_up, p.name, p.national_id)
        verified.raise_for_status()
        me = await identity.refresh(signed_up)
    office.remember(str(verified.json()["person_id"]), me)
    office.signed_in["applicants (phone code, real name)"] += 1
    body = {
        "name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer,
        "employment_type": p.employment_type, "base_union_id": union,
    }  # fmt: skip
    return await office.call("POST", f"{ENROLLMENT}/applications", json=body, headers=me.headers)


async def build_tree(office: Office, tag: str) -> tuple[str, list[str]]:
    city = await office.union(f"杭州市总工会 · 演示 {tag}", "city", region="330100")
    bases: list[str] = []
    employers: list[tuple[str, str, str, str]] = []  # (region, district, logistics union, joint union)
    districts = [("西湖区总工会", "330106"), ("滨江区总工会", "330108"), ("余杭区总工会", "330110")]
    for district, region in districts:
        d = await office.union(district, "county", city)
        street = await office.union(district.replace("区总工会", "") + "某街道总工会", "township", d)
        for base_name, parent in [
            ("某物流有限公司工会", d),
            ("某电子商务公司工会", d),
            ("外卖骑手网格工会", street),  # flexible workers join through a grid union
            ("小微企业联合工会", street),
        ]:
            u = await office.union(base_name, "base", parent)
            bases.append(u)
        employers.append((region, d, bases[-4], bases[-1]))
    await register_employers(office, employers)
    return city, bases


async def register_employers(office: Office, districts: list[tuple[str, str, str, str]]) -> None:
    """The employer register (用人单位名录) the coverage figures count: in each district one
    employer with its own union, a small one covered by the street's 联合工会, and a factory that
    should found a union and has not yet; the district's union organises them (both base unions
    are in its subtree). Codes are fresh each run (a code registers once)."""
    codes = random.Random(uuid.uuid4().int)
    for region, district, logistics, joint in districts:
        for name, workforce, base in [
            ("某物流有限公司", 320, logistics),
            ("某小餐馆", 8, joint),
            ("某机械制造有限公司", 60, None),
        ]:
            body = {
                "name": name, "credit_code": random_credit_code(codes, region), "region": region,
                "workforce": workforce, "responsible_union_id": district, "base_union_id": base,
            }  # fmt: skip
            r = await office.call("POST", f"{ENROLLMENT}/employers", json=body, headers=office.admin)
            r.raise_for_status()


async def play(args: argparse.Namespace) -> None:
    signing_key = dev_secrets()["DEV_TOKEN_PRIVATE_KEY"]
    rng = random.Random(args.seed)
    tally: Counter[str] = Counter()
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as http:
        identity = IdentityClient(http, IDENTITY, CODES)
        office = Office(http, identity, datetime.now().strftime("%H%M%S"), rng)
        await office.sign_in_admin(signing_key)
        fresh = asyncio.create_task(office.keep_fresh())
        try:
            await play_morning(office, rng, tally, started, args.applicants)
        finally:
            fresh.cancel()


async def play_morning(
    office: Office, rng: random.Random, tally: Counter[str], started: float, applicants: int
) -> None:
    city, bases = await build_tree(office, datetime.now().strftime("%H:%M:%S"))
    print(f"union tree: 1 city, 3 districts, 3 street unions, {len(bases)} base unions, 9 employers")

    people: list[Person] = [person(rng) for _ in range(applicants)]
    by_application: dict[str, Person] = {}

    async def submit(p: Person, union: str, national_id: str | None = None) -> httpx.Response:
        body = {
            "name": p.name, "national_id": national_id or p.national_id, "phone": p.phone,
            "employer": p.employer, "employment_type": p.employment_type, "base_union_id": union,
        }  # fmt: skip
        return await office.call("POST", f"{ENROLLMENT}/applications", json=body, headers=office.admin)

    chosen = {p.national_id: rng.choice(bases) for p in people}
    invalid = rng.sample(people, k=len(people) // 12)
    invalid_ids = {p.national_id for p in invalid}
    # A few apply online on their own (我要入会): sign up with their phone, verify their real
    # name, apply for themselves; a cadre files the others' paper forms.
    online = rng.sample([p for p in people if p.national_id not in invalid_ids], k=min(6, len(people) // 10))
    pending: list[dict[str, Any]] = []
    for p, r in zip(
        online,
        await asyncio.gather(*(apply_online(office, p, chosen[p.national_id]) for p in online)),
        strict=True,
    ):
        r.raise_for_status()
        tally["applications filed online by the applicants themselves"] += 1
        pending.append(r.json()["application"])
        by_application[r.json()["application"]["application_id"]] = p
    on_paper = [p for p in people if p not in online]
    results = await asyncio.gather(
        *(
            submit(
                p,
                chosen[p.national_id],
                with_bad_checksum(p.national_id) if p.national_id in invalid_ids else None,
            )
            for p in on_paper
        )
    )
    for p, r in zip(on_paper, results, strict=True):
        if r.status_code == 201:
            tally["applications accepted"] += 1
            pending.append(r.json()["application"])
            by_application[r.json()["application"]["application_id"]] = p
        elif r.status_code == 422:
            tally[f"refused: {r.json()['detail']}"] += 1
        else:
            tally[f"unexpected {r.status_code}"] += 1

    # Some people press "submit" twice: they get their pending application back, not a second one.
    retried = rng.sample([p for p in people if p.national_id not in invalid_ids], k=len(people) // 20)
    for r in await asyncio.gather(*(submit(p, chosen[p.national_id]) for p in retried)):
        tally[f"duplicate answered with {r.json()['outcome']}"] += 1

    async def decide(app: dict[str, Any]) -> tuple[str, httpx.Response]:
        cadre = await office.cadre(app["base_union_id"])
        url = f"{ENROLLMENT}/applications/{app['application_id']}"
        if rng.random() < 0.1:
            body = {"reason": rng.choice(REJECTION_REASONS)}
            return "rejected", await office.call("POST", f"{url}/reject", json=body, headers=cadre)
        return "approved", await office.call("POST", f"{url}/approve", headers=cadre)

    members: dict[str, dict[str, Any]] = {}
    for app, (outcome, r) in zip(pending, await asyncio.gather(*(decide(a) for a in pending)), strict=True):
        r.raise_for_status()
        tally[f"applications {outcome}"] += 1
        if outcome == "approved":
            members[r.json()["member_id"]] = r.json()
            office.people[r.json()["member_id"]] = by_application[app["application_id"]]

    # Enrolled people applying again get their membership back (one person, one member).
    enrolled_people = [p for p in people if any(m["name"] == p.name for m in members.values())][:5]
    for r in await asyncio.gather(*(submit(p, rng.choice(bases)) for p in enrolled_people)):
        tally[f"re-application answered with {r.json()['outcome']}"] += 1

    ids = list(members)
    rng.shuffle(ids)
    movers, leavers = ids[: len(ids) // 20], ids[len(ids) // 20 : len(ids) // 20 + len(ids) // 25]

    async def cadre_of(union: str) -> dict[str, str]:
        return await office.cadre(union)

    async def transfer(mid: str) -> str:
        """Asked by the sending union's cadre; answered by the receiving union's unless both
        unions share a parent (then it is accepted at once)."""
        here = members[mid]["base_union_id"]
        there = rng.choice([b for b in bases if b != here])
        body = {"to_union_id": there, "reason": "换工作 (changed employer)"}
        url = f"{ENROLLMENT}/members/{mid}/transfers"
        r = await office.call("POST", url, json=body, headers=await cadre_of(here))
        r.raise_for_status()
        if r.json()["status"] == "pending":
            url = f"{ENROLLMENT}/transfers/{r.json()['transfer_id']}/accept"
            r = await office.call("POST", url, headers=await cadre_of(there))
            r.raise_for_status()
        moved = await office.call("GET", f"{ENROLLMENT}/members/{mid}", headers=await cadre_of(there))
        moved.raise_for_status()
        members[mid] = moved.json()
        return str(r.json()["status"])

    async def leave(mid: str) -> httpx.Response:
        me = await office.member(mid)
        body = {"reason": "离开本市 (moved away)"}
        return await office.call("POST", f"{ENROLLMENT}/members/{mid}/leave", json=body, headers=me)

    for outcome in await asyncio.gather(*(transfer(m) for m in movers)):
        tally[f"transfers {outcome}"] += 1
    for r in await asyncio.gather(*(leave(m) for m in leavers)):
        r.raise_for_status()
        members[r.json()["member_id"]] = r.json()
    tally["members transferred"] = len(movers)
    tally["members left"] = len(leavers)
    if leavers:
        back = leavers[0]
        union = members[back]["periods"][-1]["union_id"]
        r = await office.call(
            "POST", f"{ENROLLMENT}/members/{back}/reinstate", json={"union_id": union},
            headers=await office.cadre(union),
        )  # fmt: skip
        r.raise_for_status()
        members[back] = r.json()
        tally["members reinstated (gap kept)"] = 1
    commands_done = time.perf_counter()
    legal_lines, legal_members = await play_legal(
        office, rng, [m for m in members.values() if m["status"] == "active"]
    )
    honour_lines, honoured = await play_honours(
        office, rng, [m for m in members.values() if m["status"] == "active"]
    )
    relief_lines, relief_members = await play_relief(
        office, rng, city, [m for m in members.values() if m["status"] == "active"]
    )
    # The programmes' steps use this module's Office: imported here, not at the top (no cycle).
    from scripts.scenario_campaign import play_campaign
    from scripts.scenario_student_aid import play_student_aid

    print("\n=== 送温暖 (a Spring Festival campaign) ===")
    _, consoled = await play_campaign(office, city, bases)
    print("\n=== 金秋助学 (student aid) ===")
    await play_student_aid(office, city, bases, [m for m in members.values() if m["status"] == "active"], rng)
    partner_lines, till_login = await play_partners(office)
    console_login = await play_console(office, city, bases, rng)

    # Wait until every card agrees with the enrollment service.
    expected = {mid: m["status"] for mid, m in members.items()}
    seen: dict[str, str] = {}
    while time.perf_counter() - commands_done < 60:
        seen = await list_cards(office, city)
        if all(seen.get(mid) == st for mid, st in expected.items()):
            break
        await asyncio.sleep(0.2)
    caught_up = time.perf_counter() - commands_done
    agree = sum(seen.get(mid) == st for mid, st in expected.items())

    print("\n=== scenario summary ===")
    for line, n in sorted(tally.items()):
        print(f"  {n:5d}  {line}")
    statuses = Counter(expected.values())
    print(f"  members: {len(expected)} ({', '.join(f'{v} {k}' for k, v in statuses.items())})")
    print(
        f"  cards agreeing with enrollment: {agree}/{len(expected)}, {caught_up:.2f}s after the last command"
    )
    print(f"  total time: {time.perf_counter() - started:.1f}s")
    print("  signed in through the identity service (no minted token): " + ", ".join(
        f"{n} {who}" for who, n in sorted(office.signed_in.items())))  # fmt: skip

    print("\n=== legal rights (法律维权) ===")
    for line in legal_lines:
        print(f"  {line}")
    print("\n=== honours (劳模, 技术能手) ===")
    for line in honour_lines:
        print(f"  {line}")
    print("\n=== relief (困难职工帮扶) ===")
    for line in relief_lines:
        print(f"  {line}")
    print("\n=== partner offers (会员普惠) ===")
    for line in partner_lines:
        print(f"  {line}")

    sample = [*relief_members[:1], *legal_members[:1], *honoured[:1], *consoled[:1], ids[-1]]
    sample += [*movers[:1], *leavers[:1]]
    await _until_offers_projected(office, honoured[0])
    print("\n=== a few member service cards (会员服务卡) ===")
    for mid in sample:
        me = await office.member(mid)
        card = (await office.call("GET", f"{CARDS}/cards/{mid}", headers=me)).json()
        offers = await office.call("GET", f"{CARDS}/cards/{mid}/offers", params={"limit": 4}, headers=me)
        print_card(card, offers.json()["items"] if offers.status_code == 200 else [])
    if agree != len(expected):
        raise SystemExit("the card read model did not catch up with enrollment")

    someone = office.people[sample[0]]
    print("\n=== try it yourself ===")
    print(f"  member app  {WEB}/  phone {someone.phone} ({someone.name}); the code: make codes")
    print(f"  till        {WEB}/till  username {till_login[0]}  password {till_login[1]}")
    print("              offer: spring-dining (知味观 · 湖滨店, 会员 8 折); the code: the member's card")
    print(f"  console     {WEB}/console  username {console_login[0]}  password {console_login[1]}")
    print(f"              (the city's cadre: 3 applications wait in 待办; a roster to import: {ROSTER})")
    print(
        f"""
=== where things are ===
  member app       {WEB}/   (会员服务: sign in with a phone and `make codes`; docs/member-app.md)
  till             {WEB}/till   (商户核验: till staff of a partner)
  cadre console    {WEB}/console   (工作台: queues, coverage, import, reports; docs/console.md)
  identity API     {IDENTITY}/docs   (sign-in, accounts: docs/identity.md; one-time codes: make codes)
  enrollment API   {ENROLLMENT}/docs
  card API         {CARDS}/docs
  relief API       {RELIEF}/docs
  legal API        {LEGAL}/docs
  competitions API {COMPETITIONS}/docs
  partners API     {PARTNERS}/docs   (partner guide: docs/partners.md)
  reports API      {REPORTS}/docs   (统计报表 for cadres: docs/reports.md)
  first admin      make admin USERNAME=<name>   (then accounts and bindings: docs/identity-staff.md)
  logs             .run/logs/
  stop services    make stop      (and Kafka + PostgreSQL: make down)"""
    )


async def play_relief(
    office: Office, rng: random.Random, city: str, active: list[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """Grid workers report households in hardship after visits; the union verifies them (a second
    cadre approves: four eyes) and puts them on public disclosure (公示) for the window."""
    lines: list[str] = []
    in_disclosure: list[str] = []
    households = [
        (3, 240_000, ["illness"], "丈夫重病住院, 妻子照顾无法工作"),  # 800 yuan a head: deep hardship
        (4, 520_000, ["children_schooling", "illness"], "两个孩子上学, 老人慢性病"),  # relative
        (2, 500_000, ["accident"], "工伤后停工"),  # 2,500 a head after an accident
        (3, 900_000, ["unemployment"], "家庭收入尚可"),  # 3,000 a head: not eligible
    ]
    today = datetime.now().date().isoformat()
    for member, (size, income, causes, note) in zip(
        rng.sample(active, k=len(households)), households, strict=True
    ):
        union = uuid.UUID(member["base_union_id"])
        grid_worker = await office.cadre(union, "grid")
        chair = await office.cadre(union, "chair")  # approves: four eyes
        report = {
            "member_id": member["member_id"],
            "household_register_no": f"3301{rng.randrange(10**8):08d}",
            "household_size": size,
            "monthly_income_fen": income,
            "causes": causes,
            "note": note,
        }
        r = await _until_known(office, f"{RELIEF}/cases", report, grid_worker)
        case = r.json()["case"]
        url = f"{RELIEF}/cases/{case['case_id']}"
        visit = {**{k: report[k] for k in ("household_size", "monthly_income_fen", "causes")}}
        visit.update(visited_on=today, findings="入户走访核实: " + note)
        (await office.call("POST", f"{url}/visits", json=visit, headers=grid_worker)).raise_for_status()
        eligibility = (await office.call("GET", f"{url}/eligibility", headers=grid_worker)).json()
        r = await office.call("POST", f"{url}/verification", json={"note": "已入户核实"}, headers=grid_worker)
        if r.status_code != 200:
            lines.append(f"{member['name']}: not verified: {r.json()['detail']} (eligibility: {eligibility})")
            continue
        r = await office.call(
            "POST", f"{url}/steps/verification/approve", json={"note": "同意"}, headers=chair
        )
        if r.status_code == 200:
            proposed = {"proposed_aid": ["consolation", "medical"]}
            r = await office.call("POST", f"{url}/disclosure", json=proposed, headers=chair)
        if r.status_code != 200:
            lines.append(f"household of {size} ({', '.join(causes)}): refused: {r.json()['detail']}")
            continue
        case = r.json()
        in_disclosure.append(member["member_id"])
        lines.append(f"household of {size} ({', '.join(causes)}): tier {case['tier']}, now {case['status']}")
    notices = (
        await office.call("GET", f"{RELIEF}/disclosures", params={"union_id": city}, headers=office.admin)
    ).json()
    lines.append(f"public disclosure list (公示), {len(notices)} households, names masked:")
    lines += [
        f"  {n['disclosure_no']}  {n['name_masked']}  {n['union_name']}  {n['tier']}  to {n['ends_at'][:10]}"
        for n in notices
    ]
    return lines, in_disclosure


async def play_legal(
    office: Office, rng: random.Random, active: list[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """Migrant workers file wage-arrears disputes (green channel); the union accepts them."""
    lines: list[str] = []
    filers: list[str] = []
    for member in rng.sample(active, k=2):
        me = await office.member(member["member_id"])
        learned_on = datetime.now().date() - timedelta(days=rng.randrange(5, 60))
        body = {
            "kind": "wage_arrears",
            "employer": member["employer"] or "某建筑劳务公司",
            "amount_claimed_fen": rng.randrange(300_000, 2_000_000),
            "migrant_worker": True,
            "learned_on": learned_on.isoformat(),
        }
        r = await _until_known(office, f"{LEGAL}/cases", body, me)
        case = r.json()
        cadre = await office.cadre(member["base_union_id"])
        accept = {"disposition": "accept"}
        r = await office.call(
            "POST", f"{LEGAL}/cases/{case['case_id']}/disposition", json=accept, headers=cadre
        )
        r.raise_for_status()
        after = r.json()
        filers.append(member["member_id"])
        lines.append(
            f"{case['case_no']} wage arrears ¥{case['amount_claimed_fen'] // 100}: "
            f"priority {case['priority']}{' (green channel)' if case['green_channel'] else ''}, "
            f"now {after['stage']}"
        )
    return lines, filers


async def play_honours(
    office: Office, rng: random.Random, active: list[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """The city federation names a model worker (劳动模范) for five years."""
    member = rng.choice(active)
    granted = datetime.now().date()
    body = {
        "member_id": member["member_id"],
        "kind": "model_worker",
        "title": "杭州市劳动模范",
        "granted_on": granted.isoformat(),
        "valid_until": granted.replace(year=granted.year + 5).isoformat(),  # at most five years
    }
    r = await _until_known(office, f"{COMPETITIONS}/honours", body, office.admin)
    return [f"{member['name']}: 杭州市劳动模范 until {r.json()['valid_until']}"], [member["member_id"]]


# Partners registered by the demo: meituan-HHMMSS and intime-HHMMSS (one pair per run).
DEMO_PARTNER = re.compile(r"(meituan|intime)-[0-9]{6}")


async def play_console(office: Office, city: str, bases: list[str], rng: random.Random) -> tuple[str, str]:
    """What a cadre finds in the console (工作台): a city cadre's password, three paper
    applications left for them to review, and a roster file with three faulty lines to import."""
    username = f"demo.console.{office.tag}"
    account, password = await office.identity.staff_account(
        office.admin, username, display_name="市总工会干部"
    )
    await office.identity.grant(office.admin, account, "cadre", union_id=city)
    for p in (person(rng) for _ in range(3)):
        body = {
            "name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer,
            "employment_type": p.employment_type, "base_union_id": bases[0],
        }  # fmt: skip
        r = await office.call(
            "POST", f"{ENROLLMENT}/applications", json=body, headers=await office.cadre(bases[0])
        )
        r.raise_for_status()
    ROSTER.parent.mkdir(exist_ok=True)
    seed = rng.randrange(1 << 30)
    ROSTER.write_bytes(make_roster(30, bases[1], errors={"checksum": 2, "duplicate": 1}, seed=seed))
    return username, password


async def play_partners(office: Office) -> tuple[list[str], tuple[str, str]]:
    """Two partner platforms chosen by the city federation publish offers over the partner API;
    one tries a merchant that is not its own and is refused with the reason."""
    tag = datetime.now().strftime("%H%M%S")
    now = datetime.now(UTC)
    window = {
        "valid_from": (now - timedelta(hours=1)).isoformat(),
        "valid_until": (now + timedelta(days=60)).isoformat(),
    }
    meituan, intime = f"meituan-{tag}", f"intime-{tag}"
    retired = await retire_earlier_demo_partners(office, keep=(meituan, intime))
    merchants = [
        (meituan, "zhiweiguan", "知味观 · 湖滨店", "dining", "330100"),
        (meituan, "hz-health", "杭州体检中心", "health", "330100"),
        (intime, "intime-wulin", "银泰 · 武林店", "groceries", "330100"),
        (intime, "intime-nb", "银泰 · 宁波天一店", "groceries", "330200"),
    ]
    keys: dict[str, str] = {}
    for partner_id in (meituan, intime):
        body = {"partner_id": partner_id, "name": partner_id}
        r = await office.call("POST", f"{PARTNERS}/partners", json=body, headers=office.admin)
        r.raise_for_status()
        keys[partner_id] = r.json()["key"]["api_key"]
    for partner_id, merchant, name, category, region in merchants:
        body = {"name": name, "category": category, "region": region}
        url = f"{PARTNERS}/partners/{partner_id}/merchants/{merchant}-{tag}"
        (await office.call("PUT", url, json=body, headers=office.admin)).raise_for_status()

    def offer(
        merchant: str, offer_id: str, title: str, off: str, category: str, region: str, who: str
    ) -> Any:
        discount = {"kind": "percent", "percent": off[:-1]} if off.endswith("%") else {
            "kind": "amount", "amount_yuan": off}  # fmt: skip
        return {"action": "create", "version": 1, "merchant_id": f"{merchant}-{tag}", "offer_id": offer_id,
                "title": title, "discount": discount, "category": category, "region": region,
                "eligibility": who, **window}  # fmt: skip

    everyone, model, hardship = "all_members", "model_workers", "hardship_households"
    offers = [
        (meituan, offer("zhiweiguan", "spring-dining", "会员 8.5 折", "15%", "dining", "330100", everyone)),
        (meituan, offer("hz-health", "model-checkup", "劳模免费体检", "100%", "health", "330100", model)),
        (intime, offer("intime-wulin", "hardship-bag", "日用品立减", "50", "groceries", "330100", hardship)),
        (intime, offer("intime-nb", "ningbo-only", "宁波会员 9 折", "10%", "groceries", "330200", everyone)),
        (intime, offer("zhiweiguan", "poach", "不是自己的商户", "20%", "dining", "330100", everyone)),
    ]  # fmt: skip
    lines: list[str] = []
    accepted = 0

    async def publish(partner_id: str, body: Any) -> httpx.Response:
        auth = {"Authorization": f"Bearer {keys[partner_id]}"}
        return await office.call("POST", f"{PARTNERS}/partner-api/v1/offers", json=body, headers=auth)

    for partner_id, body in offers:
        r = await publish(partner_id, body)
        if r.status_code == 202:
            accepted += 1
        else:
            lines.append(
                f"refused: {partner_id} {body['offer_id']}: {r.status_code} {'; '.join(r.json()['reasons'])}"
            )
    update = {**offers[0][1], "action": "update", "version": 2, "title": "会员 8 折 (春季加码)",
              "discount": {"kind": "percent", "percent": "20"}}  # fmt: skip
    (await publish(meituan, update)).raise_for_status()
    lines.insert(
        0, f"2 partners, {len(merchants)} merchants, {accepted} offers accepted, 1 updated to version 2"
    )
    if retired:
        lines.insert(1, f"{retired} partners of earlier demo runs suspended, their merchants delisted")
    lines.append("the Ningbo offer stays off Hangzhou cards; the check-up is on the model worker's card only")
    lines.append("the hardship offer shows only to members in the relief register, and only to themselves")
    lines.append("(none here yet: the demo's relief cases are still in public disclosure)")
    # A till account of the first partner's own, to try the till page (商户核验) by hand.
    username = f"till.{tag}"
    account, password = await office.identity.staff_account(
        office.admin, username, display_name="知味观收银台"
    )
    await office.identity.grant(office.admin, account, "partner_staff", partner_id=meituan)
    return lines, (username, password)


async def retire_earlier_demo_partners(office: Office, keep: tuple[str, ...]) -> int:
    """Each run registers its own demo partners; those of earlier runs leave the programme (their
    merchants delisted, so their offers leave the cards, the partner suspended), as a federation
    would end a partnership. Otherwise every re-run would add the same offers to the cards again."""
    r = await office.call("GET", f"{PARTNERS}/partners", headers=office.admin)
    r.raise_for_status()
    retired = 0
    for partner in r.json():
        pid = partner["partner_id"]
        if not DEMO_PARTNER.fullmatch(pid) or pid in keep or partner["status"] == "suspended":
            continue
        why = {"reason": "演示重跑：上一轮演示的合作方退出"}
        listed = await office.call("GET", f"{PARTNERS}/partners/{pid}/merchants", headers=office.admin)
        listed.raise_for_status()
        for m in listed.json():
            if m["listed"]:
                url = f"{PARTNERS}/partners/{pid}/merchants/{m['merchant_id']}/delist"
                (await office.call("POST", url, json=why, headers=office.admin)).raise_for_status()
        url = f"{PARTNERS}/partners/{pid}/suspend"
        (await office.call("POST", url, json=why, headers=office.admin)).raise_for_status()
        retired += 1
    return retired


async def _until_offers_projected(office: Office, member_id: str) -> None:
    """The offers travel partners -> Kafka -> projector: wait (briefly) for this run's last update
    to land and the earlier runs' offers to leave."""
    me = await office.member(member_id)
    for _ in range(150):
        r = await office.call("GET", f"{CARDS}/cards/{member_id}/offers", headers=me)
        titles = [o["title"] for o in r.json()["items"]] if r.status_code == 200 else []
        if titles.count("会员 8 折 (春季加码)") == 1 and "会员 8.5 折" not in titles:
            return
        await asyncio.sleep(0.1)


async def _until_known(
    office: Office, url: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    """A service learns of members from enrollment's events: a moment after the approval."""
    for _ in range(100):
        r = await office.call("POST", url, json=body, headers=headers)
        if r.status_code in (200, 201):
            return r
        await asyncio.sleep(0.1)
    r.raise_for_status()
    return r


async def list_cards(office: Office, city: str) -> dict[str, str]:
    seen: dict[str, str] = {}
    after: str | None = None
    while True:
        params = {"limit": 1000, **({"after": after} if after else {})}
        r = await office.call("GET", f"{CARDS}/unions/{city}/cards", params=params, headers=office.admin)
        if r.status_code == 404:  # the city's union event has not reached the projector yet
            return seen
        page = r.json()
        seen.update({c["member_id"]: c["status"] for c in page})
        if len(page) < 1000:
            return seen
        after = page[-1]["member_id"]


def print_card(card: dict[str, Any], offers: list[dict[str, Any]]) -> None:
    m = card["membership"]
    number = " ".join(m["card_number"][i : i + 4] for i in range(0, 16, 4))
    print("\n  ┌─ 职工之家 · 会员服务卡 ─────────────────────────────")
    print(f"  │ {number}")
    print(f"  │ {m['name']}  {m['national_id_masked']}  会员号 {m['membership_number']}")
    print(f"  │ {' › '.join(m['base_union']['path'])}")
    print(f"  │ {m['status_label']}   member since {m['member_since']}")
    for g in m["gaps"]:
        print(f"  │ gap: left {g['left_at'][:10]} → back {(g['returned_at'] or '…')[:10]}")
    for h in card.get("honours", []):
        print(f"  │ 🏅 {h['title']} (until {h['valid_until']})")
    for d in card.get("legal_cases", []):
        due = f"; {d['next_deadline_label']} {d['next_due_on']}" if d["next_deadline"] else ""
        print(f"  │ 维权 {d['case_no']} {d['kind_label']}: {d['stage_label']}{due}")
    if r := card.get("relief"):
        tier = f" · {r['tier_label']}" if r["tier"] else ""
        print(f"  │ 困难帮扶 (only you see this): {r['status_label']}{tier}, paid ¥{r['aid_paid_yuan']}")
    for a in card.get("programme_aid", []):
        paid_on = datetime.fromisoformat(a["paid_at"]).astimezone(CHINA).date()
        print(f"  │ {a['programme_label']}: {a['title']} ¥{a['amount_fen'] / 100:.2f} ({paid_on})")
    for o in offers:
        d = o["discount"]
        off = f"{d['percent']}% off" if d["kind"] == "percent" else f"¥{d['amount_yuan']} off"
        print(f"  │ 🎫 {o['merchant']['name']}: {o['title']} ({off}, until {o['valid_until'][:10]})")
    for a in card["needs_action"]:
        print(f"  │ ⚑ {a}")
    print("  └──────────────────────────────────────────────────")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applicants", type=int, default=300)
    parser.add_argument("--seed", type=int, default=None, help="fixed seed for a reproducible run")
    asyncio.run(play(parser.parse_args()))


if __name__ == "__main__":
    main()
