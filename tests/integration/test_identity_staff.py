"""Staff accounts end to end on real processes, a real broker and a real database: an admin
makes a cadre account and binding, the cadre signs in with the password and acts only in their
own union (enrollment accepts the token there, refuses it elsewhere) and makes accounts only
inside it; TOTP turns on and a code works once; a password brute force hits the lockout; a
revoked binding ends its sessions (the refresh fails, enrollment refuses the token); `make
admin` makes the first admin once."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pyotp
import pytest

from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import IDENTITY_EVENTS
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "长城永不倒-correct horse"


class Staff:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.s = api.s
        self.http = api.http
        self.url = api.s.services["identity"].url
        self.admin = api.s.headers(Role.ADMIN)

    async def post(
        self, path: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(f"{self.url}{path}", json=body or {}, headers=headers or {})

    async def account(
        self, headers: dict[str, str] | None = None, password: str = PASSWORD
    ) -> tuple[str, str]:
        """A new account's (id, username)."""
        username = f"staff.{uuid.uuid4().hex[:10]}"
        r = await self.post(
            "/staff/accounts", {"username": username, "display_name": "王干部", "password": password},
            headers or self.admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()["account_id"], username

    async def grant(
        self, account_id: str, headers: dict[str, str] | None = None, **binding: Any
    ) -> httpx.Response:
        body = {k: str(v) for k, v in binding.items()}
        return await self.post(f"/staff/accounts/{account_id}/bindings", body, headers or self.admin)

    async def sign_in(self, username: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
        return await self.post("/staff/sessions", {"username": username, "password": password, **extra})

    async def signed_in(self, username: str, **extra: Any) -> dict[str, Any]:
        r = await self.sign_in(username, **extra)
        assert r.status_code == 200, r.text
        pair: dict[str, Any] = r.json()
        return pair

    def bearer(self, pair: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {pair['access_token']}"}

    async def identity_events(self, account_id: str) -> list[tuple[Any, Any]]:
        records = await read_topic(self.s.bootstrap, self.s.topic(IDENTITY_EVENTS))
        return [decode_event(r.value) for r in records if r.key == account_id.encode()]

    async def events_until(self, account_id: str, event_type: str) -> list[tuple[Any, Any]]:
        async def check() -> list[tuple[Any, Any]] | None:
            events = await self.identity_events(account_id)
            return events if any(e.event_type == event_type for e, _ in events) else None

        found: list[tuple[Any, Any]] = await eventually(check, timeout=20)
        return found

    async def db(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.s.services["identity"].dsn)


@pytest.fixture
async def staff(stack_env: Stack, http: httpx.AsyncClient) -> AsyncIterator[Staff]:
    yield Staff(Api(stack_env, http))


async def test_the_first_admin_comes_from_make_admin_once_and_signs_in(staff: Staff) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": staff.s.services["identity"].dsn,
        "TOPIC_PREFIX": staff.s.topic_prefix,
    }
    username = f"root.{uuid.uuid4().hex[:8]}"
    cli = [sys.executable, "-m", "services.identity.admin_cli", username]
    made = await asyncio.to_thread(subprocess.run, cli, cwd=ROOT, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    password = made.stdout.split("shown once, change it with POST /me/password): ")[1].strip()
    assert len(password) >= 12

    pair = await staff.signed_in(username, password=password)
    account_id = pair["account_id"]
    events = await staff.events_until(account_id, "identity.RoleBindingGranted")
    (granted,) = [p for e, p in events if e.event_type == "identity.RoleBindingGranted"]
    assert granted.role == "admin" and granted.granted_by == "cli:make-admin"

    again = await asyncio.to_thread(
        subprocess.run, [*cli[:-1], f"other.{uuid.uuid4().hex[:8]}"], cwd=ROOT, env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert again.returncode == 1 and "an admin exists" in again.stderr


async def test_an_admin_makes_a_cadre_who_signs_in_and_acts_only_in_their_union(staff: Staff) -> None:
    units = await staff.api.tree()
    account_id, username = await staff.account()
    r = await staff.grant(account_id, role="cadre", union_id=units["district"])
    assert r.status_code == 201, r.text
    binding_id = r.json()["binding_id"]
    events = await staff.events_until(account_id, "identity.RoleBindingGranted")
    (granted,) = [p for e, p in events if e.event_type == "identity.RoleBindingGranted"]
    assert (str(granted.binding_id), granted.scope.union_id) == (binding_id, units["district"])

    shown = await staff.http.get(f"{staff.url}/staff/accounts/{account_id}", headers=staff.admin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["bindings"][0]["binding_id"] == binding_id
    assert "argon2" not in shown.text and "hash" not in shown.text and "secret" not in shown.text

    pair = await staff.signed_in(username.upper())  # usernames are not case-sensitive
    assert pair["account_id"] == account_id and pair["token_type"] == "Bearer"
    cadre = staff.bearer(pair)
    own = await staff.http.get(f"{staff.api.enrollment}/unions/{units['logistics']}/subtree", headers=cadre)
    assert own.status_code == 200, own.text
    other = await staff.http.get(
        f"{staff.api.enrollment}/unions/{units['other_city']}/subtree", headers=cadre
    )
    assert other.status_code == 403, other.text

    # The cadre makes an account, which gets bindings inside the cadre's subtree only.
    made_id, _ = await staff.account(headers=cadre)
    assert (await staff.grant(made_id, cadre, role="cadre", union_id=units["logistics"])).status_code == 201
    outside = await staff.grant(made_id, cadre, role="cadre", union_id=units["other_city"])
    assert outside.status_code == 403, outside.text
    assert (await staff.grant(made_id, cadre, role="admin")).status_code == 403
    assert (await staff.grant(made_id, cadre, role="partner_staff", partner_id="p-1")).status_code == 403
    # Even an admin keeps a cadre-made account inside that cadre's subtree.
    beyond = await staff.grant(made_id, role="cadre", union_id=units["other_city"])
    assert beyond.status_code == 403, beyond.text
    listed = await staff.http.get(f"{staff.url}/staff/accounts", headers=cadre)
    assert [a["account_id"] for a in listed.json()] == [made_id]


async def test_an_account_with_several_bindings_chooses_one_at_sign_in(staff: Staff) -> None:
    units = await staff.api.tree()
    account_id, username = await staff.account()
    cadre = (await staff.grant(account_id, role="cadre", union_id=units["riders"])).json()["binding_id"]
    counsel_id = uuid.uuid4()
    counsel = await staff.grant(account_id, role="counsel", union_id=units["district"], counsel_id=counsel_id)
    assert counsel.status_code == 201, counsel.text
    twice = await staff.grant(account_id, role="cadre", union_id=units["riders"])
    assert twice.status_code == 409 and twice.json()["binding_id"] == cadre

    several = await staff.sign_in(username)
    assert several.status_code == 422, several.text
    listed = {b["binding_id"]: b for b in several.json()["bindings"]}
    assert listed[cadre]["role"] == "cadre" and set(listed) == {cadre, counsel.json()["binding_id"]}
    pair = await staff.signed_in(username, binding_id=counsel.json()["binding_id"])
    assert pair["account_id"] == account_id


async def test_unknown_user_and_wrong_password_answer_alike_until_the_lockout(staff: Staff) -> None:
    account_id, username = await staff.account()
    await staff.grant(account_id, role="partner_staff", partner_id="till-7")
    unknown = await staff.sign_in(f"nobody.{uuid.uuid4().hex[:8]}", "some wrong password")
    assert unknown.status_code == 401 and unknown.json()["detail"].startswith("用户名或密码错误")

    for _ in range(5):
        wrong = await staff.sign_in(username, "some wrong password")
        assert wrong.status_code == 401 and wrong.json()["detail"] == unknown.json()["detail"]
    locked = await staff.sign_in(username)  # even the right password waits
    assert locked.status_code == 429, locked.text
    assert 50 <= int(locked.headers["Retry-After"]) <= 60

    conn = await staff.db()
    try:
        trail = await conn.fetch(
            "SELECT action FROM audit_trail WHERE subject = $1 ORDER BY id", f"account:{account_id}"
        )
        actions = [r["action"] for r in trail]
        assert actions.count("staff.sign_in_failed") == 5 and "staff.binding_granted" in actions
        # The lock lifts with time; the next failure would lock twice as long.
        await conn.execute(
            "UPDATE attempts SET at = at - interval '61 seconds' WHERE action = 'password_checked'"
        )
    finally:
        await conn.close()
    again = await staff.sign_in(username, "some wrong password")
    assert again.status_code == 401
    assert 110 <= int((await staff.sign_in(username)).headers["Retry-After"]) <= 120


async def test_with_totp_on_a_sign_in_needs_a_code_and_a_code_works_once(staff: Staff) -> None:
    units = await staff.api.tree()
    account_id, username = await staff.account()
    await staff.grant(account_id, role="cadre", union_id=units["city"])
    me = staff.bearer(await staff.signed_in(username))
    begun = await staff.post("/me/totp", headers=me)
    assert begun.status_code == 200, begun.text
    totp = pyotp.TOTP(begun.json()["secret"])
    assert begun.json()["otpauth_uri"].startswith("otpauth://totp/")
    near = {totp.at(time.time() + d) for d in (-60, -30, 0, 30, 60)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near)
    assert (await staff.post("/me/totp/confirm", {"code": wrong}, me)).status_code == 422
    confirmed = await staff.post("/me/totp/confirm", {"code": totp.now()}, me)
    assert confirmed.status_code == 204, confirmed.text
    assert (await staff.http.get(f"{staff.url}/staff/accounts/{account_id}", headers=staff.admin)).json()[
        "totp_enabled"
    ]

    without = await staff.sign_in(username)
    assert without.status_code == 401 and without.json()["code"] == "totp_required"
    # The code confirmed may be this step's: the next step's code is new, within the drift allowed.
    code = totp.at(time.time() + 30)
    assert (await staff.sign_in(username, totp_code=code)).status_code == 200
    replayed = await staff.sign_in(username, totp_code=code)
    assert replayed.status_code == 401 and "已使用" in replayed.json()["detail"]


async def test_a_staff_member_changes_their_password_knowing_the_current_one(staff: Staff) -> None:
    account_id, username = await staff.account()
    await staff.grant(account_id, role="partner_staff", partner_id="till-9")
    me = staff.bearer(await staff.signed_in(username))
    new = "新密码-another long one"
    wrong = await staff.post(
        "/me/password", {"current_password": "not the password", "new_password": new}, me
    )
    assert wrong.status_code == 403, wrong.text
    short = await staff.post("/me/password", {"current_password": PASSWORD, "new_password": "short"}, me)
    assert short.status_code == 422, short.text
    changed = await staff.post("/me/password", {"current_password": PASSWORD, "new_password": new}, me)
    assert changed.status_code == 204, changed.text
    # Every session ended with the old password: this token too, at once on identity.
    assert (await staff.http.get(f"{staff.url}/me", headers=me)).status_code == 401
    assert (await staff.sign_in(username)).status_code == 401
    assert (await staff.sign_in(username, new)).status_code == 200


async def test_a_revoked_binding_ends_its_sessions_and_their_refresh(staff: Staff) -> None:
    units = await staff.api.tree()
    account_id, username = await staff.account()
    granted = await staff.grant(account_id, role="cadre", union_id=units["district"])
    binding_id = granted.json()["binding_id"]
    pair = await staff.signed_in(username)
    me = f"{staff.url}/staff/accounts/{account_id}"
    assert (await staff.http.get(me, headers=staff.bearer(pair))).status_code == 403  # not their own scope

    path = f"/staff/accounts/{account_id}/bindings/{binding_id}/revoke"
    revoked = await staff.post(path, headers=staff.admin)
    assert revoked.status_code == 200 and revoked.json()["sessions_revoked"] == 1, revoked.text
    refreshed = await staff.post("/sessions/refresh", {"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401, refreshed.text
    assert (await staff.http.get(me, headers=staff.bearer(pair))).status_code == 401  # identity itself
    events = await staff.events_until(account_id, "identity.RoleBindingRevoked")
    (event,) = [p for e, p in events if e.event_type == "identity.RoleBindingRevoked"]
    assert "identity.SessionRevoked" in [e.event_type for e, _ in events]
    assert str(event.binding_id) == binding_id and event.revoked_by == "admin:test-admin"
    again = await staff.post(path, headers=staff.admin)  # a retry changes nothing
    assert again.status_code == 200 and again.json()["sessions_revoked"] == 0
    # No binding left: the password is right but there is no role to sign in as.
    assert (await staff.sign_in(username)).status_code == 403


async def test_a_revoked_binding_stops_working_on_other_services_within_5_seconds(staff: Staff) -> None:
    units = await staff.api.tree()
    account_id, username = await staff.account()
    granted = await staff.grant(account_id, role="cadre", union_id=units["district"])
    pair = await staff.signed_in(username)
    subtree = f"{staff.api.enrollment}/unions/{units['district']}/subtree"
    assert (await staff.http.get(subtree, headers=staff.bearer(pair))).status_code == 200

    path = f"/staff/accounts/{account_id}/bindings/{granted.json()['binding_id']}/revoke"
    assert (await staff.post(path, headers=staff.admin)).status_code == 200

    async def refused() -> bool:
        return (await staff.http.get(subtree, headers=staff.bearer(pair))).status_code == 401

    await eventually(refused, timeout=5)  # enrollment follows identity's events


async def test_a_disabled_account_signs_in_no_more(staff: Staff) -> None:
    units = await staff.api.tree()
    account_id, username = await staff.account()
    await staff.grant(account_id, role="cadre", union_id=units["riders"])
    await staff.signed_in(username)
    disabled = await staff.post(f"/staff/accounts/{account_id}/disable", headers=staff.admin)
    assert disabled.status_code == 200 and disabled.json()["sessions_revoked"] == 1
    await staff.events_until(account_id, "identity.AccountDisabled")
    refused = await staff.sign_in(username)
    assert refused.status_code == 403 and "停用" in refused.json()["detail"]


async def test_bad_staff_requests_get_reasons_not_errors(staff: Staff) -> None:
    short = await staff.post(
        "/staff/accounts", {"username": "li.ming", "display_name": "李明", "password": "short"}, staff.admin
    )
    assert short.status_code == 422 and "12" in short.json()["detail"]
    member = staff.s.headers(Role.MEMBER, member_id=uuid.uuid4())
    made = await staff.post(
        "/staff/accounts", {"username": "li.ming", "display_name": "李明", "password": PASSWORD}, member
    )
    assert made.status_code == 403
    account_id, _ = await staff.account()
    assert (await staff.grant(account_id, role="cadre")).status_code == 422  # no union
    assert (await staff.grant(account_id, role="member")).status_code == 422
    assert (await staff.grant(str(uuid.uuid4()), role="admin")).status_code == 404
    no_such = await staff.post(
        f"/staff/accounts/{account_id}/bindings/{uuid.uuid4()}/revoke", headers=staff.admin
    )
    assert no_such.status_code == 404
    # A development token speaks for no staff account: it has no TOTP or password of its own.
    assert (await staff.post("/me/totp", headers=staff.admin)).status_code == 403
