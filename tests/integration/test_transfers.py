"""Transfers (接转) end to end on real processes, a real broker and a real database: a request the
receiving union answers, accepted at once within one parent union, expired by the durable timer,
shown on the card while it waits; the relief case follows only an accepted one."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import ENROLLMENT_EVENTS
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_relief import Relief

pytestmark = pytest.mark.integration


class Transfers:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.url = api.enrollment

    async def setup(self) -> tuple[str, dict[str, uuid.UUID]]:
        """A member of the logistics union; "far" is a base union in another city."""
        units = await self.api.tree()
        units["far"] = await self.api.union("宁波某制造厂工会", "base", units["other_city"])
        member = await self.api.enrolled_member(units["logistics"])
        return str(member["member_id"]), units

    async def ask(
        self, mid: str, to: uuid.UUID, headers: dict[str, str], reason: str = "换工作"
    ) -> httpx.Response:
        body = {"to_union_id": str(to), "reason": reason}
        return await self.api.http.post(f"{self.url}/members/{mid}/transfers", json=body, headers=headers)

    async def answer(
        self, tid: str, step: str, headers: dict[str, str], body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Without a body when none is given (accept takes none; withdraw's is optional)."""
        return await self.api.http.post(f"{self.url}/transfers/{tid}/{step}", json=body, headers=headers)

    async def member(self, mid: str) -> dict[str, Any]:
        r = await self.api.http.get(f"{self.url}/members/{mid}", headers=self.api.admin)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def inbox(self, union: uuid.UUID, headers: dict[str, str], **params: str) -> httpx.Response:
        return await self.api.http.get(
            f"{self.url}/transfers", params={"union_id": str(union), **params}, headers=headers
        )

    async def events(self, mid: str) -> list[tuple[Any, Any]]:
        records = await read_topic(self.api.s.bootstrap, self.api.s.topic(ENROLLMENT_EVENTS))
        return [decode_event(r.value) for r in records if r.key == mid.encode()]

    async def events_until(self, mid: str, event_type: str) -> list[tuple[Any, Any]]:
        async def check() -> list[tuple[Any, Any]] | None:
            found = await self.events(mid)
            return found if any(meta.event_type == event_type for meta, _ in found) else None

        result: list[tuple[Any, Any]] = await eventually(check)
        return result

    async def card(self, mid: str, check: Any) -> dict[str, Any]:
        async def ready() -> dict[str, Any] | None:
            r = await self.api.card(mid)
            body: dict[str, Any] | None = r.json() if r.status_code == 200 else None
            return body if body and body["membership"] and check(body) else None

        result: dict[str, Any] = await eventually(ready)
        return result

    async def db(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.api.s.services["enrollment"].dsn)

    async def rows(self, mid: str) -> tuple[Any, ...]:
        """Everything a refused command must leave as it was."""
        conn = await self.db()
        try:
            member_id = uuid.UUID(mid)
            return (
                await conn.fetch(
                    "SELECT * FROM transfer_requests WHERE member_id = $1 ORDER BY requested_at", member_id
                ),
                await conn.fetch("SELECT * FROM members WHERE member_id = $1", member_id),
                await conn.fetch(
                    "SELECT * FROM membership_periods WHERE member_id = $1 ORDER BY seq", member_id
                ),
                await conn.fetch(
                    """SELECT t.timer_id, t.status, t.fire_at FROM timers t
                       JOIN transfer_requests r ON t.subject = 'transfer:' || r.transfer_id
                       WHERE r.member_id = $1 ORDER BY t.timer_id""",
                    member_id,
                ),
                await conn.fetchval("SELECT count(*) FROM audit_trail WHERE record_id = $1", member_id),
                # Every event of the member takes the next version: unchanged, none was written.
                await conn.fetchval("SELECT version FROM event_versions WHERE subject = $1", mid),
            )
        finally:
            await conn.close()


@pytest.fixture
def transfers(stack_env: Stack, http: httpx.AsyncClient) -> Transfers:
    return Transfers(Api(stack_env, http))


def _types(events: list[tuple[Any, Any]]) -> list[str]:
    return [meta.event_type.removeprefix("enrollment.") for meta, _ in events]


async def test_a_transfer_waits_for_the_receiving_union(transfers: Transfers) -> None:
    api = transfers.api
    mid, units = await transfers.setup()
    sender, receiver = api.cadre(units["logistics"]), api.cadre(units["other_city"])

    asked = await transfers.ask(mid, units["far"], sender, reason="  随配偶迁居宁波  ")
    assert asked.status_code == 201, asked.text
    t = asked.json()
    assert (t["status"], t["status_label"], t["reason"]) == ("pending", "待接收", "随配偶迁居宁波")
    assert (t["from_union_id"], t["to_union_id"]) == (str(units["logistics"]), str(units["far"]))
    requested_at = datetime.fromisoformat(t["requested_at"])
    assert datetime.fromisoformat(t["expires_at"]) - requested_at == timedelta(days=30)
    assert (await transfers.member(mid))["base_union_id"] == str(units["logistics"])  # not moved yet

    incoming = await transfers.inbox(units["other_city"], receiver, direction="incoming", status="pending")
    assert [x["transfer_id"] for x in incoming.json()] == [t["transfer_id"]]
    outgoing = await transfers.inbox(units["district"], api.cadre(units["district"]), direction="outgoing")
    assert [x["transfer_id"] for x in outgoing.json()] == [t["transfer_id"]]
    assert (await transfers.inbox(units["far"], sender)).status_code == 403  # not the sender's inbox

    # One request waits per member: a second is refused and names the first; nothing changes.
    before = await transfers.rows(mid)
    again = await transfers.ask(mid, units["riders"], sender)
    assert again.status_code == 409 and again.json()["transfer_id"] == t["transfer_id"]
    assert await transfers.rows(mid) == before

    accepted = await transfers.answer(t["transfer_id"], "accept", receiver)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["status_label"]) == ("accepted", "已接收")
    moved = await transfers.member(mid)
    assert moved["base_union_id"] == str(units["far"])
    assert [p["end_reason"] for p in moved["periods"]] == ["transferred", None]
    twice = await transfers.answer(t["transfer_id"], "accept", receiver)
    assert twice.status_code == 409

    events = await transfers.events_until(mid, "enrollment.MemberTransferred")
    assert _types(events)[-3:] == ["TransferRequested", "TransferAccepted", "MemberTransferred"]
    versions = [meta.subject_version for meta, _ in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert events[-2][1].automatic is False and str(events[-2][1].transfer.decided_by).startswith("cadre:")
    card = await transfers.card(mid, lambda c: c["membership"]["base_union"]["name"] == "宁波某制造厂工会")
    assert card["pending_transfer"] is None

    conn = await transfers.db()
    try:
        trail = await conn.fetch(
            "SELECT action, reason FROM audit_trail WHERE record_id = $1 AND action LIKE 'transfer.%' ORDER BY at",
            uuid.UUID(mid),
        )
        assert [(r["action"], r["reason"]) for r in trail] == [
            ("transfer.requested", "随配偶迁居宁波"),
            ("transfer.accepted", "随配偶迁居宁波"),
        ]
        timers = await conn.fetch(
            "SELECT status FROM timers WHERE kind = 'enrollment.transfer_expiry' AND subject = $1",
            f"transfer:{t['transfer_id']}",
        )
        assert [r["status"] for r in timers] == ["cancelled"]  # answered: it will not expire
    finally:
        await conn.close()


async def test_a_cadre_outside_the_receiving_union_cannot_accept(transfers: Transfers) -> None:
    api = transfers.api
    mid, units = await transfers.setup()
    t = (await transfers.ask(mid, units["far"], api.s.headers(Role.MEMBER, member_id=uuid.UUID(mid)))).json()
    tid = t["transfer_id"]
    assert t["status"] == "pending" and t["requested_by"].startswith("member:")

    before = await transfers.rows(mid)
    outsiders = {
        "the sending union's cadre": api.cadre(units["logistics"]),
        "the sending district's cadre": api.cadre(units["district"]),
        "the member": api.s.headers(Role.MEMBER, member_id=uuid.UUID(mid)),
    }
    for who, headers in outsiders.items():
        for step, body in (("accept", None), ("decline", {"reason": "不同意"})):
            r = await transfers.answer(tid, step, headers, body)
            assert r.status_code == 403, (who, step, r.text)
            assert r.headers["content-type"] == "application/problem+json"
    # Nor may a stranger ask, or withdraw someone else's request.
    other_member = api.s.headers(Role.MEMBER, member_id=uuid.uuid4())
    assert (await transfers.answer(tid, "withdraw", other_member)).status_code == 403
    assert (await transfers.answer(tid, "withdraw", api.cadre(units["other_city"]))).status_code == 403
    assert (await transfers.ask(mid, units["riders"], api.cadre(units["riders"]))).status_code == 403
    # Bad input: 4xx, never 5xx, and nothing written.
    refusals = [
        (await transfers.answer(tid, "decline", api.cadre(units["other_city"]), {"reason": "  "}), 422),
        (await transfers.answer(tid, "decline", api.cadre(units["other_city"]), {"reason": "长" * 501}), 422),
        (await transfers.answer(str(uuid.uuid4()), "accept", api.admin), 404),
        (await transfers.ask(mid, units["district"], api.admin), 422),  # not a base union
        (await transfers.ask(mid, uuid.uuid4(), api.admin), 404),
        (await transfers.ask(mid, units["far"], api.admin, reason=" "), 422),
        (await transfers.ask(mid, units["far"], api.admin, reason="长" * 501), 422),
    ]
    assert [r.status_code for r, _ in refusals] == [status for _, status in refusals], [
        r.text for r, _ in refusals
    ]
    assert await transfers.rows(mid) == before

    declined = await transfers.answer(
        tid, "decline", api.cadre(units["other_city"]), {"reason": "本单位未录用"}
    )
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status_label"], declined.json()["decision_reason"]) == ("已拒绝", "本单位未录用")
    assert (await transfers.member(mid))["base_union_id"] == str(units["logistics"])
    assert (await transfers.answer(tid, "accept", api.cadre(units["other_city"]))).status_code == 409
    events = await transfers.events_until(mid, "enrollment.TransferDeclined")
    assert "MemberTransferred" not in _types(events)


async def test_transfer_within_one_parent_is_accepted_at_once(transfers: Transfers) -> None:
    api = transfers.api
    mid, units = await transfers.setup()  # logistics and riders are both under the district
    r = await transfers.ask(mid, units["riders"], api.s.headers(Role.MEMBER, member_id=uuid.UUID(mid)))
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["status"], t["status_label"], t["decided_by"]) == (
        "accepted",
        "已接收",
        "rule:same-parent-union",
    )
    assert (await transfers.member(mid))["base_union_id"] == str(units["riders"])

    events = await transfers.events_until(mid, "enrollment.MemberTransferred")
    assert _types(events)[-2:] == ["TransferAccepted", "MemberTransferred"]
    assert "TransferRequested" not in _types(events)
    assert events[-2][1].automatic is True
    await transfers.card(mid, lambda c: c["membership"]["base_union"]["name"] == "外卖骑手网格工会")
    conn = await transfers.db()
    try:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM timers WHERE subject = $1", f"transfer:{t['transfer_id']}"
            )
            == 0
        )
    finally:
        await conn.close()


async def test_an_unanswered_transfer_expires_by_the_durable_timer(transfers: Transfers) -> None:
    api = transfers.api
    mid, units = await transfers.setup()
    t = (await transfers.ask(mid, units["far"], api.cadre(units["logistics"]))).json()
    subject = f"transfer:{t['transfer_id']}"
    conn = await transfers.db()
    try:
        timer = await conn.fetchrow(
            "SELECT fire_at, status FROM timers WHERE kind = 'enrollment.transfer_expiry' AND subject = $1",
            subject,
        )
        assert (
            timer is not None
            and timer["status"] == "pending"
            and timer["fire_at"] == datetime.fromisoformat(t["expires_at"])
        )
        await transfers.card(mid, lambda c: c["pending_transfer"] is not None)
        # Thirty days pass: the timer is due now.
        await conn.execute("UPDATE timers SET fire_at = now() WHERE subject = $1", subject)
    finally:
        await conn.close()

    async def expired() -> list[Any] | None:
        r = await transfers.inbox(units["other_city"], api.cadre(units["other_city"]), status="expired")
        found: list[Any] = r.json()
        return found or None

    [lapsed] = await eventually(expired, timeout=30)
    assert (lapsed["transfer_id"], lapsed["status_label"], lapsed["decided_by"]) == (
        t["transfer_id"], "已过期", "scheduler",
    )  # fmt: skip
    events = await transfers.events_until(mid, "enrollment.TransferExpired")
    assert _types(events)[-2:] == ["TransferRequested", "TransferExpired"]
    await transfers.card(mid, lambda c: c["pending_transfer"] is None)
    late = await transfers.answer(t["transfer_id"], "accept", api.cadre(units["other_city"]))
    assert late.status_code == 409
    assert (await transfers.member(mid))["base_union_id"] == str(units["logistics"])
    # The lapsed request no longer blocks a new one.
    assert (await transfers.ask(mid, units["far"], api.cadre(units["logistics"]))).status_code == 201


async def test_the_card_shows_a_pending_transfer(transfers: Transfers) -> None:
    api = transfers.api
    mid, units = await transfers.setup()
    me = api.s.headers(Role.MEMBER, member_id=uuid.UUID(mid))
    t = (await transfers.ask(mid, units["far"], me)).json()
    card = await transfers.card(mid, lambda c: c["pending_transfer"] is not None)
    shown = card["pending_transfer"]
    assert (shown["transfer_id"], shown["to_union_name"], shown["status"], shown["status_label"]) == (
        t["transfer_id"], "宁波某制造厂工会", "pending", "待接收",
    )  # fmt: skip
    assert datetime.fromisoformat(shown["requested_at"]) == datetime.fromisoformat(t["requested_at"])
    assert card["membership"]["base_union"]["name"] == "某物流公司工会"

    withdrawn = await transfers.answer(t["transfer_id"], "withdraw", me, {"reason": "不去了"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status_label"] == "已撤回"
    await transfers.card(mid, lambda c: c["pending_transfer"] is None)
    assert (await transfers.answer(t["transfer_id"], "withdraw", me)).status_code == 409

    # Leaving takes a waiting request back with it.
    again = (await transfers.ask(mid, units["far"], me)).json()
    await transfers.card(
        mid, lambda c: (c["pending_transfer"] or {}).get("transfer_id") == again["transfer_id"]
    )
    left = await api.http.post(
        f"{api.enrollment}/members/{mid}/leave", json={"reason": "离开本市"}, headers=me
    )
    assert left.status_code == 200, left.text
    card = await transfers.card(mid, lambda c: c["membership"]["status"] == "left")
    assert card["pending_transfer"] is None
    [closed] = (await transfers.inbox(units["other_city"], api.admin, status="withdrawn")).json()[:1]
    assert (closed["transfer_id"], closed["decision_reason"]) == (again["transfer_id"], "会员已退会")


async def test_relief_case_follows_only_on_acceptance(transfers: Transfers) -> None:
    api = transfers.api
    relief = Relief(api)
    mid, units = await transfers.setup()
    await relief.known(mid)
    old, far = units["logistics"], units["far"]
    opened = await relief.ok(await relief.report(relief.cadre(old), member_id=mid), 201)
    cid = opened["case"]["case_id"]

    t = (await transfers.ask(mid, far, api.cadre(old))).json()
    assert t["status"] == "pending"
    # Once relief has consumed the request, its case has not moved nor is it offered to the
    # receiving union: a request is not a move.
    [requested] = [meta for meta, _ in await transfers.events_until(mid, "enrollment.TransferRequested")
                   if meta.event_type == "enrollment.TransferRequested"]  # fmt: skip
    conn = await asyncpg.connect(api.s.services["relief"].dsn)
    try:

        async def consumed() -> bool:
            n = await conn.fetchval(
                "SELECT count(*) FROM processed_events WHERE event_id = $1", requested.event_id
            )
            return bool(n)

        await eventually(consumed)
    finally:
        await conn.close()
    case = await relief.ok(await relief.get(f"/cases/{cid}", relief.cadre(old)))
    assert (case["union_id"], case["pending_transfer_to"]) == (str(old), None)
    assert (await relief.get(f"/cases/{cid}", relief.cadre(units["other_city"]))).status_code == 403

    assert (
        await transfers.answer(t["transfer_id"], "accept", api.cadre(units["other_city"]))
    ).status_code == 200

    async def offered() -> dict[str, Any] | None:
        body: dict[str, Any] = (await relief.get(f"/cases/{cid}", relief.cadre(old))).json()
        return body if body["pending_transfer_to"] == str(far) else None

    await eventually(offered)
