"""A stream of enrollment commands that remembers what was accepted, and the checks against it.

A command whose outcome is uncertain (connection cut, 5xx) is sent again until it gets a
definitive answer; a 409 after an uncertain attempt means the first attempt went through.
Each member is worked by one worker at a time, so the expected state is exact.
"""

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from scripts.fake_people import person
from shared.auth import Role
from tests.conftest import dev_token


@dataclass
class ExpectedMember:
    status: str
    union_id: str
    periods: int


@dataclass
class Workload:
    http: httpx.AsyncClient
    enrollment: str
    unions: list[str]
    rng: random.Random
    members: dict[str, ExpectedMember] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)
    accepted: Counter[str] = field(default_factory=Counter)
    uncertain: int = 0
    unexpected: list[str] = field(default_factory=list)

    def headers(self, role: Role, **kw: Any) -> dict[str, str]:
        kw.setdefault("sub", f"fault-{role}")  # a judge is named by their sub
        return {"Authorization": f"Bearer {dev_token(role, **kw)}"}

    async def command(
        self, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> tuple[int, Any, bool]:
        """POST until the answer is definitive; report whether an earlier attempt was uncertain."""
        uncertain = False
        for _ in range(600):
            try:
                r = await self.http.post(f"{self.enrollment}{path}", json=body, headers=headers)
            except httpx.TransportError:
                uncertain = True
                self.uncertain += 1
                await asyncio.sleep(0.3)
                continue
            if r.status_code >= 500:
                uncertain = True
                self.uncertain += 1
                await asyncio.sleep(0.3)
                continue
            return r.status_code, r.json(), uncertain
        raise RuntimeError(f"no definitive answer for {path}")

    def _accept(self, what: str, status: int, uncertain: bool, ok: set[int]) -> bool:
        # After an uncertain attempt, "already done" is a 409, or a 403 once a transfer accepted
        # at once has moved the member out of the old union's cadres' scope.
        if (
            status in ok
            or (uncertain and status == 409)
            or (uncertain and what == "transfer" and status == 403)
        ):
            self.accepted[what] += 1
            return True
        self.unexpected.append(f"{what}: {status}")
        return False

    async def enroll(self, reject: bool = False) -> None:
        p = person(self.rng)
        union = self.rng.choice(self.unions)
        body = {"name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer or "个体",
                "employment_type": p.employment_type, "base_union_id": union}  # fmt: skip
        status, sub, uncertain = await self.command("/applications", body, self.headers(Role.ADMIN))
        if not self._accept("submit", status, uncertain, {200, 201}):
            return
        app = sub["application"]
        cadre = self.headers(Role.CADRE, union_id=uuid.UUID(union))
        if reject:
            path, payload = f"/applications/{app['application_id']}/reject", {"reason": "材料不全"}
        else:
            path, payload = f"/applications/{app['application_id']}/approve", None
        status, _, uncertain = await self.command(path, payload, cadre)
        if self._accept("reject" if reject else "approve", status, uncertain, {200}) and not reject:
            self.members[app["member_id"]] = ExpectedMember("active", union, 1)

    async def transfer(self, mid: str) -> None:
        """Asked by the sending union's cadre, accepted by the receiving one's (at once when both
        unions are under one district)."""
        m = self.members[mid]
        target = self.rng.choice([u for u in self.unions if u != m.union_id])
        body = {"to_union_id": target, "reason": "换工作"}
        cadre = self.headers(Role.CADRE, union_id=uuid.UUID(m.union_id))
        status, answer, uncertain = await self.command(f"/members/{mid}/transfers", body, cadre)
        if uncertain and status == 409 and "transfer_id" in answer:
            tid, pending = answer["transfer_id"], True  # the uncertain attempt's request waits
        elif self._accept("transfer", status, uncertain, {200, 201}):
            tid, pending = answer.get("transfer_id"), status == 201
        else:
            return
        if pending:
            receiving = self.headers(Role.CADRE, union_id=uuid.UUID(target))
            status, _, uncertain = await self.command(f"/transfers/{tid}/accept", None, receiving)
            if not self._accept("accept transfer", status, uncertain, {200}):
                return
        self.members[mid] = ExpectedMember("active", target, m.periods + 1)

    async def leave(self, mid: str) -> None:
        m = self.members[mid]
        status, _, uncertain = await self.command(
            f"/members/{mid}/leave",
            {"reason": "离开本市"},
            self.headers(Role.MEMBER, member_id=uuid.UUID(mid)),
        )
        if self._accept("leave", status, uncertain, {200}):
            self.members[mid] = ExpectedMember("left", m.union_id, m.periods)

    async def reinstate(self, mid: str) -> None:
        m = self.members[mid]
        union = self.rng.choice(self.unions)
        status, _, uncertain = await self.command(
            f"/members/{mid}/reinstate",
            {"union_id": union},
            self.headers(Role.CADRE, union_id=uuid.UUID(union)),
        )
        if self._accept("reinstate", status, uncertain, {200}):
            self.members[mid] = ExpectedMember("active", union, m.periods + 1)

    async def worker(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            free = [mid for mid in self.members if mid not in self.busy]
            roll = self.rng.random()
            if len(free) < 20 or roll < 0.45:
                await self.enroll()
                continue
            if roll < 0.5:
                await self.enroll(reject=True)
                continue
            mid = self.rng.choice(free)
            self.busy.add(mid)
            try:
                m = self.members[mid]
                if m.status == "left":
                    await self.reinstate(mid)
                elif roll < 0.8:
                    await self.transfer(mid)
                else:
                    await self.leave(mid)
            finally:
                self.busy.discard(mid)
