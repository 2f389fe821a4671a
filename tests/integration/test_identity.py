"""The identity service on the real stack (real processes, broker and database): members sign up
and in by phone and one-time code, enumeration-safe; a code brute force hits the lockout; the
limits per number and per address; refresh rotation, where a reused token kills its family;
sign-out; browser sessions with cookies and CSRF; the JWKS and a key rotation while requests
flow; real-name verification against a provider on loopback; disputes settled by a cadre."""

import asyncio
import itertools
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from scripts.fake_people import national_id
from scripts.fake_realname_provider import FakeRealNameProvider
from scripts.fake_sms_gateway import running_fake_sms_gateway
from services.identity.adapters.dev_notifier import last_code
from services.identity.api.routes import CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE
from services.identity.rotate_keys import rotate
from services.identity.settings import IdentitySettings
from shared.auth import Role, TokenRefused, TokenVerifier
from shared.contracts import decode_event
from shared.contracts.identity import AUDIENCE, ISSUER, SessionRevoked
from shared.contracts.topics import IDENTITY_EVENTS
from shared.pii import PiiProtector
from tests.integration.conftest import PII_KEY, Stack, eventually, read_topic

pytestmark = pytest.mark.integration

REFUSED = "验证码错误或已过期"
_addresses = itertools.count(2)


def new_phone() -> str:
    return f"13{random.randint(5, 9)}{random.randint(0, 10**8 - 1):08d}"


class Identity:
    """Identity's API as a client on a loopback address of its own (the per-address limits of
    one test do not reach the next)."""

    def __init__(self, s: Stack, http: httpx.AsyncClient) -> None:
        self.s = s
        self.http = http
        self.svc = s.services["identity"]
        self.url = self.svc.url
        self.codes = Path(self.svc.env["IDENTITY_DEV_CODES_FILE"])

    async def send(self, phone: str) -> httpx.Response:
        return await self.http.post(f"{self.url}/codes", json={"phone": phone, "purpose": "sign_in"})

    async def code_of(self, phone: str) -> str:
        async def written() -> str | None:
            return last_code(self.codes, phone)

        code: str = await eventually(written, timeout=5)
        return code

    async def sign_in(self, phone: str, code: str, path: str = "/sessions") -> httpx.Response:
        return await self.http.post(f"{self.url}{path}", json={"phone": phone, "code": code})

    async def sign_up(self, phone: str | None = None) -> dict[str, Any]:
        phone = phone or new_phone()
        assert (await self.send(phone)).status_code == 202
        answer = await self.sign_in(phone, await self.code_of(phone))
        assert answer.status_code == 200, answer.text
        pair: dict[str, Any] = answer.json()
        return pair

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.http.post(f"{self.url}/sessions/refresh", json={"refresh_token": refresh_token})

    async def me(self, access_token: str) -> httpx.Response:
        return await self.http.get(f"{self.url}/me", headers={"Authorization": f"Bearer {access_token}"})

    async def db(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.svc.dsn)

    async def forget_sends(self, phone: str) -> None:
        """Age the number's sent codes past the send limits (instead of waiting a minute)."""
        conn = await self.db()
        try:
            await conn.execute(
                "UPDATE attempts SET at = at - interval '1 day' WHERE action = 'code_sent' AND subject = $1",
                PiiProtector(PII_KEY).lookup_hash(phone),
            )
        finally:
            await conn.close()

    async def revoked_sessions(self) -> set[str]:
        records = await read_topic(self.s.bootstrap, self.s.topic(IDENTITY_EVENTS))
        events = [decode_event(r.value) for r in records]
        return {str(p.session_id) for _, p in events if isinstance(p, SessionRevoked)}


@pytest.fixture
async def identity(stack_env: Stack) -> AsyncIterator[Identity]:
    address = next(_addresses)
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.{address // 250}.{address % 250 + 1}")
    async with httpx.AsyncClient(timeout=10, transport=transport) as http:
        yield Identity(stack_env, http)


def claims_of(token: str) -> dict[str, Any]:
    found: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return found


class JwksKeys:
    """A verifier's KeySource over identity's JWKS, over HTTP: public keys only."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keys: dict[str, Ed25519PublicKey] = {}

    def key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        found = self.keys.get(kid)
        return None if found is None else (ISSUER, found)

    async def refresh(self) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            jwks = (await http.get(self.url)).json()
        for jwk in jwks["keys"]:
            key = jwt.PyJWK(jwk).key
            assert isinstance(key, Ed25519PublicKey)
            assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}  # no private part ("d")
            self.keys[jwk["kid"]] = key


# --- sign-up and sign-in ------------------------------------------------------------------------


async def test_sign_up_by_code_makes_a_member_account_and_keeps_no_phone_in_clear(identity: Identity) -> None:
    phone = new_phone()
    pair = await identity.sign_up(phone)
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 600
    claims = claims_of(pair["access_token"])
    assert claims["role"] == "member" and claims["sub"] == pair["account_id"]
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE and claims["exp"] - claims["iat"] == 600
    assert "member_id" not in claims and claims["sid"]
    me = await identity.me(pair["access_token"])
    assert me.status_code == 200, me.text
    assert me.json() == {
        "account_id": pair["account_id"], "kind": "member", "phone_masked": f"{phone[:3]}****{phone[-4:]}",
        "realname_status": "unverified", "realname_label": "未实名认证", "person_id": None, "member_id": None,
    }  # fmt: skip
    conn = await identity.db()
    try:
        for table in ("accounts", "codes", "sessions", "attempts", "audit_trail"):
            dump = await conn.fetchval(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t")
            assert phone not in dump, table
        actions = await conn.fetch(
            "SELECT action FROM audit_trail WHERE record_id = $1 ORDER BY id", uuid.UUID(pair["account_id"])
        )
        assert [a["action"] for a in actions] == ["account.created", "sign_in.succeeded", "session.opened"]
    finally:
        await conn.close()


async def test_a_second_sign_in_finds_the_same_account(identity: Identity) -> None:
    phone = new_phone()
    first = await identity.sign_up(phone)
    await identity.forget_sends(phone)
    second = await identity.sign_up(phone)
    assert second["account_id"] == first["account_id"]
    assert claims_of(second["access_token"])["sid"] != claims_of(first["access_token"])["sid"]


async def test_answers_are_the_same_whether_or_not_the_number_has_an_account(identity: Identity) -> None:
    known, unknown = new_phone(), new_phone()
    await identity.sign_up(known)
    await identity.forget_sends(known)
    sent_known, sent_unknown = await identity.send(known), await identity.send(unknown)
    assert sent_known.status_code == sent_unknown.status_code == 202
    assert sent_known.json() == sent_unknown.json()
    code = await identity.code_of(known)
    wrong_known = await identity.sign_in(known, "000000" if code != "000000" else "111111")
    never_sent = new_phone()
    wrong_unknown = await identity.sign_in(never_sent, "000000")
    assert wrong_known.status_code == wrong_unknown.status_code == 401
    assert wrong_known.json() == wrong_unknown.json()
    assert wrong_known.json()["detail"] == REFUSED


async def test_a_code_brute_force_hits_the_lockout(identity: Identity) -> None:
    phone = new_phone()
    assert (await identity.send(phone)).status_code == 202
    code = await identity.code_of(phone)
    wrong = [c for c in (f"{n:06d}" for n in range(10)) if c != code][:5]
    for guess in wrong:
        answer = await identity.sign_in(phone, guess)
        assert answer.status_code == 401 and answer.json()["detail"] == REFUSED
    locked = await identity.sign_in(phone, code)  # even the right code, while locked
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "锁定" in locked.json()["detail"]
    conn = await identity.db()
    try:
        statuses = await conn.fetch(
            "SELECT status, failures FROM codes WHERE phone_hash = $1",
            PiiProtector(PII_KEY).lookup_hash(phone),
        )
        assert [(r["status"], r["failures"]) for r in statuses] == [("dead", 5)]
    finally:
        await conn.close()


async def test_codes_are_limited_per_number_and_per_address(identity: Identity) -> None:
    phone = new_phone()
    assert (await identity.send(phone)).status_code == 202
    again = await identity.send(phone)
    assert again.status_code == 429 and 1 <= int(again.headers["Retry-After"]) <= 60
    assert "频繁" in again.json()["detail"]
    answers = [(await identity.send(new_phone())).status_code for _ in range(20)]
    # 20 a 10 minutes from one address: this test's first code, then 19 more, then refused.
    assert answers == [202] * 19 + [429]


async def test_malformed_numbers_and_codes_are_refused_without_a_send(identity: Identity) -> None:
    for phone in ("12345", "23800138000", "1380013800x"):
        assert (await identity.send(phone)).status_code == 422
    assert (await identity.sign_in(new_phone(), "12a456")).status_code == 422


# --- refresh and sign-out ------------------------------------------------------------------------


async def test_refresh_rotates_and_a_reused_refresh_token_kills_the_family(identity: Identity) -> None:
    first = await identity.sign_up()
    rotated = await identity.refresh(first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    sid = claims_of(second["access_token"])["sid"]
    assert sid == claims_of(first["access_token"])["sid"]
    assert (await identity.me(second["access_token"])).status_code == 200
    reused = await identity.refresh(first["refresh_token"])
    assert reused.status_code == 401
    assert (await identity.refresh(second["refresh_token"])).status_code == 401  # the family is dead
    assert (await identity.me(second["access_token"])).status_code == 401  # and its access tokens

    async def announced() -> bool:
        return sid in await identity.revoked_sessions()

    assert await eventually(announced, timeout=20)


async def test_an_unknown_refresh_token_is_refused(identity: Identity) -> None:
    assert (await identity.refresh("x" * 43)).status_code == 401


async def test_sign_out_ends_the_session(identity: Identity) -> None:
    pair = await identity.sign_up()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    out = await identity.http.post(f"{identity.url}/sessions/sign-out", headers=headers)
    assert out.status_code == 204
    assert (await identity.me(pair["access_token"])).status_code == 401
    assert (await identity.refresh(pair["refresh_token"])).status_code == 401
    sid = claims_of(pair["access_token"])["sid"]

    async def announced() -> bool:
        return sid in await identity.revoked_sessions()

    assert await eventually(announced, timeout=20)


# --- browser sessions ----------------------------------------------------------------------------


def cookies_of(answer: httpx.Response) -> dict[str, str]:
    """name -> the whole Set-Cookie line (attributes included)."""
    return {line.split("=", 1)[0]: line for line in answer.headers.get_list("set-cookie")}


def value_of(line: str) -> str:
    return line.split(";", 1)[0].split("=", 1)[1]


async def web_sign_in(identity: Identity) -> dict[str, str]:
    phone = new_phone()
    assert (await identity.send(phone)).status_code == 202
    answer = await identity.sign_in(phone, await identity.code_of(phone), path="/web/sessions")
    assert answer.status_code == 200, answer.text
    assert "refresh_token" not in answer.json() and answer.json()["access_token"]
    return cookies_of(answer)


def cookie_header(refresh: str, csrf: str) -> dict[str, str]:
    # Set by hand: a client keeps Secure cookies off plain http, and the tests run on loopback.
    return {"Cookie": f"{REFRESH_COOKIE}={refresh}; {CSRF_COOKIE}={csrf}"}


async def test_browser_session_cookies_and_csrf(identity: Identity) -> None:
    set_cookies = await web_sign_in(identity)
    refresh_line, csrf_line = set_cookies[REFRESH_COOKIE], set_cookies[CSRF_COOKIE]
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute.lower() in refresh_line.lower()
    assert "httponly" not in csrf_line.lower() and "secure" in csrf_line.lower()
    assert "domain=" not in refresh_line.lower()  # __Host-: this origin only
    refresh, csrf = value_of(refresh_line), value_of(csrf_line)
    url = f"{identity.url}/web/token"

    assert (await identity.http.post(url, headers=cookie_header(refresh, csrf))).status_code == 403
    forged = {**cookie_header(refresh, "forged"), CSRF_HEADER: "forged"}
    assert (await identity.http.post(url, headers=forged)).status_code == 403
    other_csrf = value_of((await web_sign_in(identity))[CSRF_COOKIE])  # another session's
    borrowed = {**cookie_header(refresh, other_csrf), CSRF_HEADER: other_csrf}
    assert (await identity.http.post(url, headers=borrowed)).status_code == 403

    token = await identity.http.post(url, headers={**cookie_header(refresh, csrf), CSRF_HEADER: csrf})
    assert token.status_code == 200, token.text
    assert (await identity.me(token.json()["access_token"])).status_code == 200
    new_refresh = value_of(cookies_of(token)[REFRESH_COOKIE])
    assert new_refresh != refresh  # rotated
    assert value_of(cookies_of(token)[CSRF_COOKIE]) == csrf  # bound to the session, not the token

    signed_out = await identity.http.post(
        f"{identity.url}/web/sign-out", headers={**cookie_header(new_refresh, csrf), CSRF_HEADER: csrf}
    )
    assert signed_out.status_code == 204
    assert all("max-age=0" in line.lower() for line in cookies_of(signed_out).values())
    after = await identity.http.post(url, headers={**cookie_header(new_refresh, csrf), CSRF_HEADER: csrf})
    assert after.status_code == 401


# --- keys ----------------------------------------------------------------------------------------


async def test_a_key_rotation_while_requests_flow_fails_none(identity: Identity) -> None:
    verifier = TokenVerifier(JwksKeys(f"{identity.url}/.well-known/jwks.json"))
    pair = await identity.sign_up()
    before = pair["access_token"]
    old_kid = jwt.get_unverified_header(before)["kid"]
    failures: list[str] = []
    kids: list[str] = []
    stop = asyncio.Event()

    async def flow() -> None:
        refresh = pair["refresh_token"]
        while not stop.is_set():
            answer = await identity.refresh(refresh)
            if answer.status_code != 200:
                failures.append(f"refresh {answer.status_code}")
                return
            refresh, access = answer.json()["refresh_token"], answer.json()["access_token"]
            kids.append(jwt.get_unverified_header(access)["kid"])
            try:
                await verifier.verify(access)
            except TokenRefused as refused:
                failures.append(f"verify {refused}")
            me = await identity.me(access)
            if me.status_code != 200:
                failures.append(f"me {me.status_code}")

    flowing = asyncio.create_task(flow())
    admin = identity.s.headers(Role.ADMIN)
    assert (await identity.http.post(f"{identity.url}/admin/keys/rotate", headers={})).status_code == 401
    member = {"Authorization": f"Bearer {before}"}
    assert (await identity.http.post(f"{identity.url}/admin/keys/rotate", headers=member)).status_code == 403
    rotated = await identity.http.post(f"{identity.url}/admin/keys/rotate", headers=admin)
    assert rotated.status_code == 202, rotated.text
    new_kid = rotated.json()["rotated"]["key_id"]
    jwks = (await identity.http.get(f"{identity.url}/.well-known/jwks.json")).json()
    assert {old_kid, new_kid} <= {k["kid"] for k in jwks["keys"]}  # published before it signs

    async def signing_with_new_key() -> bool:
        return kids.count(new_kid) >= 3

    await eventually(signing_with_new_key, timeout=30)
    stop.set()
    await flowing
    assert failures == []
    assert old_kid in kids and kids.index(new_kid) > kids.index(old_kid)
    # A token signed by the old key before the switch still works everywhere.
    assert (await identity.me(before)).status_code == 200
    await verifier.verify(before)


# --- real name and disputes ----------------------------------------------------------------------


@pytest.fixture
def provider(stack_env: Stack) -> FakeRealNameProvider:
    """The stack's real-name provider on loopback (tests/conftest.py)."""
    assert stack_env.provider is not None
    return stack_env.provider


async def test_a_name_and_id_that_do_not_match_are_refused_and_the_id_is_never_kept(
    provider: FakeRealNameProvider, identity: Identity
) -> None:
    pair = await identity.sign_up()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    number = national_id(random.Random())
    provider.register_mismatch("王小明", number)
    answer = await identity.http.post(
        f"{identity.url}/me/real-name", json={"name": "王小明", "national_id": number}, headers=headers
    )
    assert answer.status_code == 422 and "不一致" in answer.json()["detail"]
    assert number not in answer.text
    provider.fail("unavailable")
    try:
        down = await identity.http.post(
            f"{identity.url}/me/real-name", json={"name": "王小明", "national_id": number}, headers=headers
        )
        assert down.status_code == 503 and down.headers["Retry-After"]
    finally:
        provider.recover()
    me = (await identity.me(pair["access_token"])).json()
    assert me["realname_status"] == "unverified" and me["person_id"] is None
    conn = await identity.db()
    try:
        for table in ("accounts", "attempts", "audit_trail", "disputes", "outbox"):
            dump = await conn.fetchval(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t")
            assert number not in dump, table
    finally:
        await conn.close()


async def test_a_cadre_settles_a_dispute_in_their_subtree_only(identity: Identity) -> None:
    claimant = await identity.sign_up()
    root, branch = uuid.uuid4(), uuid.uuid4()
    person = uuid.uuid4()
    conn = await identity.db()
    try:
        # The dispute as a claimed person opens it (enrollment's answer), seeded here.
        dispute_id = uuid.uuid4()
        await conn.execute(
            """INSERT INTO disputes (dispute_id, account_id, person_id, union_path, opened_at)
               VALUES ($1, $2, $3, $4, now())""",
            dispute_id, uuid.UUID(claimant["account_id"]), person, [root, branch],
        )  # fmt: skip
    finally:
        await conn.close()
    s = identity.s
    url = f"{identity.url}/disputes"
    mine = await identity.http.get(url, headers=s.headers(Role.CADRE, union_id=root))
    assert str(dispute_id) in {d["dispute_id"] for d in mine.json()}
    theirs = await identity.http.get(url, headers=s.headers(Role.CADRE, union_id=uuid.uuid4()))
    assert str(dispute_id) not in {d["dispute_id"] for d in theirs.json()}
    member = {"Authorization": f"Bearer {claimant['access_token']}"}
    assert (await identity.http.get(url, headers=member)).status_code == 403
    body = {"decision": "keep", "reason": "原账号持有人已到场核实身份"}
    outsider = await identity.http.post(
        f"{url}/{dispute_id}/settle", json=body, headers=s.headers(Role.CADRE, union_id=uuid.uuid4())
    )
    assert outsider.status_code == 404
    settled = await identity.http.post(
        f"{url}/{dispute_id}/settle", json=body, headers=s.headers(Role.CADRE, union_id=branch)
    )
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "kept" and settled.json()["reason"] == body["reason"]
    again = await identity.http.post(
        f"{url}/{dispute_id}/settle", json=body, headers=s.headers(Role.CADRE, union_id=branch)
    )
    assert again.status_code == 409


async def test_real_name_links_the_person_and_a_second_claim_is_settled_by_transfer(
    provider: FakeRealNameProvider, identity: Identity
) -> None:
    number, name = national_id(random.Random()), "陈思远"
    first = await identity.sign_up()
    first_headers = {"Authorization": f"Bearer {first['access_token']}"}
    body = {"name": name, "national_id": number}
    linked = await identity.http.post(f"{identity.url}/me/real-name", json=body, headers=first_headers)
    assert linked.status_code == 200, linked.text
    person = linked.json()["person_id"]
    assert linked.json()["status"] == "verified" and linked.json()["member_id"] == person
    refreshed = (await identity.refresh(first["refresh_token"])).json()
    assert claims_of(refreshed["access_token"])["member_id"] == person  # the refresh carries it
    again = await identity.http.post(f"{identity.url}/me/real-name", json=body, headers=first_headers)
    assert again.status_code == 409

    second = await identity.sign_up()
    second_headers = {"Authorization": f"Bearer {second['access_token']}"}
    claimed = await identity.http.post(f"{identity.url}/me/real-name", json=body, headers=second_headers)
    assert claimed.status_code == 409, claimed.text
    assert claimed.json()["code"] == "dispute_opened" and "工会干部" in claimed.json()["message"]
    dispute_id = claimed.json()["dispute_id"]
    assert (await identity.me(second["access_token"])).json()["realname_status"] == "disputed"

    s = identity.s
    cadre = s.headers(Role.CADRE, union_id=uuid.uuid4())
    listed = await identity.http.get(f"{identity.url}/disputes", headers=cadre)
    assert dispute_id not in {d["dispute_id"] for d in listed.json()}  # no union: an admin's
    admin = s.headers(Role.ADMIN)
    listed = await identity.http.get(f"{identity.url}/disputes?status=open", headers=admin)
    assert dispute_id in {d["dispute_id"] for d in listed.json()}
    settle = {"decision": "transfer", "reason": "本人持身份证到工会核实"}
    settled = await identity.http.post(
        f"{identity.url}/disputes/{dispute_id}/settle", json=settle, headers=admin
    )
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "transferred"

    assert (
        await identity.refresh(refreshed["refresh_token"])
    ).status_code == 401  # the old holder's sessions end
    now_second = (await identity.me(second["access_token"])).json()
    assert now_second["realname_status"] == "verified" and now_second["person_id"] == person
    new_pair = (await identity.refresh(second["refresh_token"])).json()
    assert claims_of(new_pair["access_token"])["member_id"] == person


async def test_make_rotate_keys_publishes_a_new_key_before_it_signs(
    scratch_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = IdentitySettings.model_validate(
        {
            "database_url": scratch_dsn, "pii_key": PII_KEY, "identity_key_secret": "k" * 32,
            "auth_secret": "a" * 32, "person_key_secret": "p" * 32, "identity_key_lead_seconds": 60,
        }
    )  # fmt: skip
    await rotate(settings)
    printed = capsys.readouterr().out
    conn = await asyncpg.connect(scratch_dsn)
    try:
        rows = await conn.fetch(
            "SELECT key_id, created_at, activates_at FROM signing_keys ORDER BY activates_at"
        )
        trail = await conn.fetchval("SELECT count(*) FROM audit_trail WHERE action = 'keys.rotated'")
    finally:
        await conn.close()
    first, made = rows
    assert made["activates_at"] - made["created_at"] == timedelta(seconds=60)
    assert first["activates_at"] <= made["created_at"]
    assert f"new key {made['key_id']}: published now" in printed
    listed = [line.split() for line in printed.splitlines() if line.startswith("  ")]
    assert [(k[0], k[-1]) for k in listed] == [(str(r["key_id"]), "published") for r in rows]
    assert trail == 1


async def test_codes_by_sms_and_a_gateway_refusal_counts_nothing_as_sent(identity: Identity) -> None:
    svc = identity.svc
    sms = {
        "IDENTITY_NOTIFIER": "sms", "SMS_GATEWAY_KEY_ID": "identity-tests", "SMS_GATEWAY_SECRET": "s" * 32,
        "SMS_SIGN_NAME": "职工之家", "SMS_TEMPLATE_ID": "SMS_0001", "SMS_GATEWAY_TIMEOUT": "2",
    }  # fmt: skip
    with running_fake_sms_gateway(
        key_id=sms["SMS_GATEWAY_KEY_ID"], secret=sms["SMS_GATEWAY_SECRET"]
    ) as gateway:
        svc.stop()
        svc.env.update({**sms, "SMS_GATEWAY_URL": gateway.url})
        svc.start()
        try:
            phone = new_phone()
            gateway.refuse()
            refused = await identity.send(phone)
            assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
            gateway.recover()
            sent = await identity.send(phone)  # at once: the refused one did not count
            assert sent.status_code == 202, sent.text
            code = gateway.last_code(phone)
            assert code is not None and last_code(identity.codes, phone) is None
            assert (await identity.sign_in(phone, code)).status_code == 200
        finally:
            svc.stop()
            for name in [*sms, "SMS_GATEWAY_URL"]:
                svc.env.pop(name, None)
            svc.start()
