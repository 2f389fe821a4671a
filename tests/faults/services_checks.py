"""After the faults: relief, legal, competitions and partners against what was accepted.

Everything is read through public interfaces: each service's HTTP API, the member cards, the
services' topics and dead-letter topics, and the consumer groups' committed offsets. For each
service: every accepted command's effect is present once (in the owning service, on its topic,
on the card where it is projected), no event id carries two contents, no (subject, version) two
event ids, nothing left unread by a consumer group, and the poison went to the dead letters.
"""

import asyncio
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.contracts.partners import offer_key
from shared.contracts.topics import (
    COMPETITIONS_EVENTS,
    ENROLLMENT_EVENTS,
    LEGAL_EVENTS,
    PARTNERS_EVENTS,
    RELIEF_EVENTS,
    dead_letter_topic,
)
from tests.faults.services_workload import ServicesWorkload, Tally, success_body
from tests.integration.conftest import read_topic

FORGED = "fault-out-of-order"
Loader = Callable[[], Awaitable["TopicLog"]]


@dataclass
class TopicLog:
    """One service's own events on its topic (the suite's forgeries and poison set aside)."""

    events: dict[uuid.UUID, tuple[EventMetadata, EventPayload]] = field(default_factory=dict)
    by_version: dict[tuple[str, int], set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    contents: dict[uuid.UUID, set[str]] = field(default_factory=lambda: defaultdict(set))
    delivered: int = 0

    def doubled(self) -> int:
        """(subject, version) published under two event ids; an event id with two contents."""
        return sum(len(ids) > 1 for ids in self.by_version.values()) + sum(
            len(c) > 1 for c in self.contents.values()
        )

    def gaps(self) -> int:
        """Versions missing below a subject's newest (each subject's events are numbered 1..n)."""
        newest: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        for subject, version in self.by_version:
            newest[subject] = max(newest[subject], version)
            seen[subject] += 1
        return sum(newest[s] - seen[s] for s in newest)

    def of_type(self, event_type: str) -> list[tuple[EventMetadata, Any]]:
        return [(e, p) for e, p in self.events.values() if e.event_type == event_type]


async def topic_log(bootstrap: str, topic: str, source: str) -> TopicLog:
    log = TopicLog()
    for r in await read_topic(bootstrap, topic):
        try:
            envelope, payload = decode_event(r.value)
        except Exception:  # noqa: S112 (poison the suite published: counted from the dead letters)
            continue
        if envelope.source != source or envelope.correlation_id == FORGED:
            continue
        log.delivered += 1
        log.events[envelope.event_id] = (envelope, payload)
        log.by_version[(envelope.subject, envelope.subject_version)].add(envelope.event_id)
        log.contents[envelope.event_id].add(json.dumps(json.loads(r.value), sort_keys=True))
    return log


async def dead_letters(bootstrap: str, topic: str, poison: set[bytes], by_value: bool = False) -> int:
    """How many of the poison records (by key, or by value) are on a dead-letter topic with a
    reason. Dead-lettering is at least once: distinct poison records, not dead-letter records."""
    found = set()
    for r in await read_topic(bootstrap, topic):
        ident = r.value if by_value else r.key
        if ident in poison and dict(r.headers).get("deadletter_reason"):
            found.add(ident)
    return len(found)


async def group_lag(bootstrap: str, group: str, topics: list[str], timeout: float = 60) -> int:
    """Records on the topics the group has not committed yet (waits up to `timeout` for 0)."""
    admin_client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin_client.start()
    await reader.start()
    try:
        lag = -1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            committed = await admin_client.list_consumer_group_offsets(group)
            parts = [TopicPartition(t, p) for t in topics for p in reader.partitions_for_topic(t) or []]
            if len({tp.topic for tp in parts}) < len(topics):
                await reader._client.force_metadata_update()
                await asyncio.sleep(0.2)
                continue
            end = await reader.end_offsets(parts)
            lag = sum(end[tp] - (committed[tp].offset if tp in committed else 0) for tp in parts)
            if lag == 0:
                return 0
            await asyncio.sleep(0.5)
        return lag
    finally:
        await reader.stop()
        await admin_client.close()


async def until(check: Callable[[], Awaitable[bool]], deadline: float) -> bool:
    """Poll a state check until it holds or the deadline passes (no sleeping-then-hoping)."""
    while True:
        if await check():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.5)


@dataclass
class Reader:
    """GETs against the services after the drive (each retried through a passing hiccup)."""

    sw: ServicesWorkload
    cards_url: str

    @property
    def http(self) -> httpx.AsyncClient:
        return self.sw.http

    async def get(self, url: str, headers: dict[str, str], **params: Any) -> tuple[int, Any]:
        for _ in range(20):
            try:
                r = await self.http.get(url, headers=headers, params=params)
            except httpx.TransportError:
                await asyncio.sleep(0.5)
                continue
            if r.status_code < 500:
                return r.status_code, success_body(r)
            await asyncio.sleep(0.5)
        return 0, None

    def member(self, mid: str) -> dict[str, str]:
        return self.sw.headers(Role.MEMBER, member_id=uuid.UUID(mid))

    async def card(self, mid: str) -> dict[str, Any]:
        status, body = await self.get(f"{self.cards_url}/cards/{mid}", self.member(mid))
        return body if status == 200 and isinstance(body, dict) else {}

    async def card_offers(self, mid: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(100):
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            status, body = await self.get(
                f"{self.cards_url}/cards/{mid}/offers", self.sw.headers(Role.ADMIN), **params
            )
            if status != 200:
                return items
            items.extend(body["items"])
            cursor = body.get("next_cursor")
            if not cursor:
                break
        return items


def _service(
    tally: Tally, log: TopicLog, lost: dict[str, int], doubled: dict[str, int],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "commands accepted": dict(tally.accepted),
        "uncertain attempts retried": tally.uncertain,
        "events (distinct, on the topic)": len(log.events),
        "event records delivered (incl. redeliveries)": log.delivered,
        "lost": sum(lost.values()),
        "lost detail": lost,
        "doubled": sum(doubled.values()),
        "doubled detail": doubled,
        **(extra or {}),
    }


async def check_relief(rd: Reader, load: Loader, deadline: float) -> dict[str, Any]:
    sw = rd.sw
    url = sw.urls["relief"][0]
    seen: dict[str, list[dict[str, Any]]] = {}
    cards: dict[str, dict[str, Any]] = {}

    async def settled() -> bool:
        for mid, case in sw.relief_cases.items():
            if mid not in seen or [c["status"] for c in seen[mid]] != [case.status]:
                status, body = await rd.get(f"{url}/members/{mid}/cases", sw.cadre(sw.members[mid]))
                seen[mid] = body["cases"] if status == 200 else []
            if (cards.get(mid) or {}).get("relief") != {"case_id": case.case_id, "status": case.status}:
                relief = (await rd.card(mid)).get("relief") or {}
                cards[mid] = {"relief": {k: relief.get(k) for k in ("case_id", "status")}}
        return all(
            [(c["case_id"], c["status"]) for c in seen[m]] == [(k.case_id, k.status)]
            and cards[m]["relief"] == {"case_id": k.case_id, "status": k.status}
            for m, k in sw.relief_cases.items()
        )

    await until(settled, deadline)
    log = await load()
    opened = Counter(str(p.case.case_id) for _, p in log.of_type("relief.CaseOpened"))
    reached = {
        (str(p.case.case_id), p.case.status.value) for _, p in log.events.values() if hasattr(p, "case")
    }
    lost = {
        "cases": sum(not any(c["case_id"] == k.case_id for c in seen[m]) for m, k in sw.relief_cases.items()),
        "statuses": sum(
            any(c["case_id"] == k.case_id and c["status"] != k.status for c in seen[m])
            for m, k in sw.relief_cases.items()
        ),
        "stale cards": sum(
            cards[m]["relief"] != {"case_id": k.case_id, "status": k.status}
            for m, k in sw.relief_cases.items()
        ),
        "missing events": sum(opened[k.case_id] == 0 for k in sw.relief_cases.values())
        + sum((k.case_id, k.status) not in reached for k in sw.relief_cases.values())
        + log.gaps(),
    }
    doubled = {
        "cases": sum(max(0, len(seen[m]) - 1) for m in sw.relief_cases),
        "events": log.doubled() + sum(max(0, opened[k.case_id] - 1) for k in sw.relief_cases.values()),
    }
    return _service(sw.tallies["relief"], log, lost, doubled)


async def check_legal(rd: Reader, load: Loader, deadline: float) -> dict[str, Any]:
    sw = rd.sw
    url = sw.urls["legal"][0]
    cases: dict[str, dict[str, Any]] = {}
    listed: dict[str, int] = {}
    cards: dict[str, list[dict[str, Any]]] = {}

    def fired(case: dict[str, Any]) -> bool:
        notices = [d for d in case.get("deadlines", []) if d["name"] == "arbitration_limit"]
        return sorted(d["notice"] for d in notices) == ["approaching", "missed"] and all(
            d["status"] == "fired" for d in notices
        )

    def done(mid: str) -> bool:
        k, c = sw.legal_cases[mid], cases.get(mid, {})
        on_card = [x for x in cards.get(mid, []) if x["case_no"] == k.case_no]
        return (
            bool(c)
            and (c["stage"] != "intake") == k.accepted
            and (not k.accepted or fired(c))
            and [x["stage"] for x in on_card] == [c["stage"]]
            and listed.get(mid) == 1
        )

    async def settled() -> bool:
        for mid, k in sw.legal_cases.items():
            if done(mid):
                continue
            cadre = sw.cadre(sw.members[mid])
            status, body = await rd.get(f"{url}/cases/{k.case_id}", cadre)
            cases[mid] = body if status == 200 else {}
            status, body = await rd.get(f"{url}/members/{mid}/cases", cadre)
            listed[mid] = len(body) if status == 200 and isinstance(body, list) else -1
            cards[mid] = (await rd.card(mid)).get("legal_cases") or []
        return all(done(m) for m in sw.legal_cases)

    await until(settled, deadline)
    accepted = [k for k in sw.legal_cases.values() if k.accepted]
    kinds = ("legal.DeadlineApproaching", "legal.DeadlineMissed")
    log = await load()

    async def every_notice_on_the_topic() -> bool:
        # The API shows a notice fired once its transaction commits; its event reaches the topic
        # when the outbox relay publishes it, which after a restart can take a back-off longer.
        nonlocal log
        log = await load()
        on_topic = {(str(p.case.case_id), k) for k in kinds for _, p in log.of_type(k) if p.case is not None}
        return all((k.case_id, kind) in on_topic for k in accepted for kind in kinds)

    await until(every_notice_on_the_topic, deadline)
    filed = Counter(str(p.case.case_id) for _, p in log.of_type("legal.CaseFiled"))
    decided = Counter(str(p.case.case_id) for _, p in log.of_type("legal.IntakeDecided"))
    notices: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
    for kind in ("legal.DeadlineApproaching", "legal.DeadlineMissed"):
        for envelope, p in log.of_type(kind):
            if p.case is not None:
                notices[(str(p.case.case_id), kind)].add(envelope.event_id)
                notices[(str(p.case.case_id), "deadline ids")].add(p.deadline_id)
    lost = {
        "cases": sum(not cases.get(m) for m in sw.legal_cases),
        "dispositions": sum(
            bool(cases.get(m)) and cases[m]["stage"] == "intake"
            for m, k in sw.legal_cases.items()
            if k.accepted
        ),
        "notices not fired (API)": sum(not fired(cases.get(k.member_id, {})) for k in accepted),
        "stale cards": sum(
            not any(x["case_no"] == k.case_no for x in cards.get(m, [])) for m, k in sw.legal_cases.items()
        ),
        "missing events": sum(filed[k.case_id] == 0 for k in sw.legal_cases.values())
        + sum(decided[k.case_id] == 0 for k in accepted)
        + sum(not notices[(k.case_id, kind)] for k in accepted for kind in kinds)
        + log.gaps(),
    }
    doubled = {
        "cases": sum(max(0, listed.get(m, 1) - 1) for m in sw.legal_cases),
        "cards": sum(
            max(0, sum(x["case_no"] == k.case_no for x in cards.get(m, [])) - 1)
            for m, k in sw.legal_cases.items()
        ),
        "events": log.doubled()
        + sum(max(0, filed[k.case_id] - 1) for k in sw.legal_cases.values())
        + sum(max(0, decided[k.case_id] - 1) for k in accepted),
        "deadline notices": sum(
            max(0, len(notices[(k.case_id, kind)]) - 1) for k in accepted for kind in kinds
        )
        + sum(max(0, len(notices[(k.case_id, "deadline ids")]) - 2) for k in accepted),
    }
    fired_notices = sum(len(notices[(k.case_id, kind)]) for k in accepted for kind in kinds)
    return _service(
        sw.tallies["legal"], log, lost, doubled,
        {"deadline notices fired (events)": fired_notices, "deadline notices expected": 2 * len(accepted)},
    )  # fmt: skip


async def check_competitions(rd: Reader, load: Loader, deadline: float) -> dict[str, Any]:
    sw = rd.sw
    url = sw.urls["competitions"][0]
    entries: Counter[str] = Counter()  # in the contest every competitions-stream member enters
    held: dict[str, Counter[str]] = {}  # honours per member, in the service
    on_card: dict[str, Counter[str]] = {}  # honours per member, on the card
    results: dict[str, Counter[str]] = {}  # final results per member, on the card, by contest name
    admin = sw.headers(Role.ADMIN)
    holders = set(sw.honours.values())

    def honours_done(mid: str) -> bool:
        titles = [t for t, m in sw.honours.items() if m == mid]
        return all(held.get(mid, Counter())[t] == 1 and on_card.get(mid, Counter())[t] == 1 for t in titles)

    def result_done(mid: str) -> bool:
        return results.get(mid, Counter())[sw.results[mid][1]] == 1

    async def settled() -> bool:
        status, body = await rd.get(f"{url}/competitions/{sw.competition_id}", admin)
        entries.clear()
        for e in (body or {}).get("entries") or [] if status == 200 else []:
            entries.update(str(m) for m in e["member_ids"])
        for mid in holders:
            if not honours_done(mid):
                status, body = await rd.get(f"{url}/members/{mid}/honours", admin)
                held[mid] = Counter(h["title"] for h in body) if status == 200 else Counter()
                on_card[mid] = Counter(h["title"] for h in (await rd.card(mid)).get("honours") or [])
        for mid in sw.results:
            if not result_done(mid):
                card = await rd.card(mid)
                results[mid] = Counter(r["competition_name"] for r in card.get("results") or [])
        return (
            all(entries[m] == 1 for m in sw.entries)
            and all(honours_done(m) for m in holders)
            and all(result_done(m) for m in sw.results)
        )

    await until(settled, deadline)
    log = await load()
    registered = Counter(str(p.member_id) for _, p in log.of_type("competitions.EntryRegistered"))
    granted = Counter(p.title for _, p in log.of_type("competitions.HonourGranted"))
    finalized = Counter(
        (str(p.competition.competition_id), str(p.member_id))
        for _, p in log.of_type("competitions.ResultFinalized")
    )
    lost = {
        "entries": sum(entries[m] == 0 for m in sw.entries),
        "honours": sum(held.get(m, Counter())[t] == 0 for t, m in sw.honours.items()),
        "stale cards": sum(on_card.get(m, Counter())[t] == 0 for t, m in sw.honours.items())
        + sum(results.get(m, Counter())[name] == 0 for m, (_, name) in sw.results.items()),
        "missing events": sum(registered[m] == 0 for m in [*sw.entries, *sw.results])
        + sum(granted[t] == 0 for t in sw.honours)
        + sum(finalized[(cid, m)] == 0 for m, (cid, _) in sw.results.items())
        + log.gaps(),
    }
    doubled = {
        "entries": sum(max(0, n - 1) for n in entries.values()),
        "honours": sum(max(0, held.get(m, Counter())[t] - 1) for t, m in sw.honours.items()),
        "cards": sum(max(0, on_card.get(m, Counter())[t] - 1) for t, m in sw.honours.items())
        + sum(max(0, results.get(m, Counter())[name] - 1) for m, (_, name) in sw.results.items()),
        "events": log.doubled()
        + sum(max(0, n - 1) for n in registered.values())
        + sum(max(0, n - 1) for n in granted.values())
        + sum(max(0, n - 1) for n in finalized.values()),
    }
    return _service(
        sw.tallies["competitions"], log, lost, doubled, {"members with a final result": len(sw.results)}
    )


async def check_partners(rd: Reader, load: Loader, deadline: float, viewer: str) -> dict[str, Any]:
    """viewer: a member in the offers' region, whose card lists them."""
    sw = rd.sw
    url = sw.urls["partners"][0]
    auth = {"Authorization": f"Bearer {sw.partner_key}"}
    versions: dict[str, int] = {}
    listed: Counter[str] = Counter()
    titles: dict[str, str] = {}

    def done() -> bool:
        return all(
            versions.get(o.offer_id) == o.version
            and listed[offer_key(sw.partner_id, o.offer_id)] == 1
            and titles.get(offer_key(sw.partner_id, o.offer_id)) == o.title
            for o in sw.offers.values()
        )

    async def settled() -> bool:
        for o in sw.offers.values():
            if versions.get(o.offer_id) != o.version:
                status, body = await rd.get(f"{url}/partner-api/v1/offers/{o.offer_id}", auth)
                versions[o.offer_id] = int(body["version"]) if status == 200 else 0
        items = await rd.card_offers(viewer)
        listed.clear()
        listed.update(i["offer_key"] for i in items)
        titles.update({i["offer_key"]: i["title"] for i in items})
        return done()

    await until(settled, deadline)
    log = await load()
    published: Counter[tuple[str, int]] = Counter(
        (p.offer_key, p.version) for _, p in log.of_type("partners.OfferPublished")
    )
    keyed = {o.offer_id: offer_key(sw.partner_id, o.offer_id) for o in sw.offers.values()}
    lost = {
        "offers (partner API)": sum(versions.get(o.offer_id, 0) < o.version for o in sw.offers.values()),
        "stale cards": sum(
            listed[keyed[o.offer_id]] == 0 or titles.get(keyed[o.offer_id]) != o.title
            for o in sw.offers.values()
        ),
        "missing events": sum(
            published[(keyed[o.offer_id], v)] == 0 for o in sw.offers.values() for v in o.bodies
        )
        + log.gaps(),
    }
    doubled = {
        "offers (partner API)": sum(versions.get(o.offer_id, 0) > o.version for o in sw.offers.values()),
        "cards": sum(max(0, listed[k] - 1) for k in keyed.values()),
        "events": log.doubled() + sum(max(0, n - 1) for n in published.values()),
    }
    return _service(
        sw.tallies["partners"], log, lost, doubled,
        {"offers": len(sw.offers), "offers on the card": sum(listed[k] > 0 for k in keyed.values())},
    )  # fmt: skip


SERVICE_TOPICS = {"relief": RELIEF_EVENTS, "legal": LEGAL_EVENTS, "competitions": COMPETITIONS_EVENTS,
                  "partners": PARTNERS_EVENTS}  # fmt: skip


async def converge_services(
    sw: ServicesWorkload, cards_url: str, bootstrap: str, prefix: str, poison: dict[str, set[bytes]]
) -> dict[str, Any]:
    """Per service: wait (bounded) until the accepted commands' effects show, then count.
    poison: what was published where ("enrollment", each service's topic, "partner topic")."""
    rd = Reader(sw, cards_url)
    deadline = time.monotonic() + 150
    assert sw.members and sw.offers, "nothing was driven through the services"
    viewer = next(iter(sw.members))  # in the offers' region (330100), like every member here

    def loader(service: str) -> Loader:
        return lambda: topic_log(bootstrap, f"{prefix}{SERVICE_TOPICS[service]}", service)

    report = {
        "relief": await check_relief(rd, loader("relief"), deadline),
        "legal": await check_legal(rd, loader("legal"), deadline),
        "competitions": await check_competitions(rd, loader("competitions"), deadline),
        "partners": await check_partners(rd, loader("partners"), deadline, viewer),
    }
    enrollment_topic = f"{prefix}{ENROLLMENT_EVENTS}"
    projector_dlq = f"{prefix}{dead_letter_topic('projector')}"
    for service, numbers in report.items():
        own_dlq = f"{prefix}{dead_letter_topic(service)}"
        service_topic = f"{prefix}{SERVICE_TOPICS[service]}"
        dead: dict[str, tuple[int, int]] = {
            f"poison on {SERVICE_TOPICS[service]} -> projector": (
                await dead_letters(bootstrap, projector_dlq, poison[service]),
                len(poison[service]),
            ),
        }
        lags = {
            f"projector on {SERVICE_TOPICS[service]}": await group_lag(
                bootstrap, f"{prefix}projector", [service_topic]
            )
        }
        if service == "partners":
            dead["poison on the partner's topic -> partners"] = (
                await dead_letters(bootstrap, own_dlq, poison["partner topic"], by_value=True),
                len(poison["partner topic"]),
            )
            lags["partners"] = await group_lag(bootstrap, f"{prefix}partners", [sw.offers_topic])
        else:
            dead[f"poison on {ENROLLMENT_EVENTS} -> {service}"] = (
                await dead_letters(bootstrap, own_dlq, poison["enrollment"]),
                len(poison["enrollment"]),
            )
            lags[service] = await group_lag(bootstrap, f"{prefix}{service}", [enrollment_topic])
        numbers["dead-lettered with reason"] = dead
        numbers["consumer group lag"] = lags
    return report
