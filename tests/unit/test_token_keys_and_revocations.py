"""The keys a service trusts (JWKS, the dev issuer, production mode) and the revocation rules."""

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scripts import token as token_script
from shared.auth import (
    DEV_KID,
    Principal,
    TokenRefused,
    TokenVerifier,
    dev_key_pair,
    load_private_key,
    public_jwk,
    sign_access_token,
    sign_dev_token,
)
from shared.contracts.identity import (
    DEV_ISSUER,
    ISSUER,
    AccessClaims,
    AccountDisabled,
    AccountRole,
    RoleBindingGranted,
    RoleBindingRevoked,
    ScopeRef,
    SessionRevoked,
)
from shared.revocations import RevokedTokens
from shared.settings import ServiceSettings
from shared.token_keys import DevIssuerKey, JwksKeys, TrustedKeys, parse_jwks, trusted_keys

DEV_PRIVATE, DEV_PUBLIC = dev_key_pair()
ADMIN = AccessClaims(sub="dev", role=AccountRole.ADMIN)


def settings(**kw: Any) -> ServiceSettings:
    return ServiceSettings(database_url="postgresql://nowhere/none", person_key_secret="s" * 32, **kw)


def verify(keys: Any, token: str, revocations: Any = None) -> Principal:
    return asyncio.run(TokenVerifier(keys, revocations).verify(token))


# The development issuer ------------------------------------------------------------------------


def test_a_dev_token_verifies_with_the_dev_public_key_under_the_dev_issuer() -> None:
    token = sign_dev_token(DEV_PRIVATE, ADMIN)
    dev = DevIssuerKey.from_settings(settings(dev_token_public_key=DEV_PUBLIC))
    assert dev is not None and verify(dev, token).role is AccountRole.ADMIN
    assert dev.key(DEV_KID) is not None and dev.key(DEV_KID)[0] == DEV_ISSUER  # type: ignore[index]
    assert dev.key("k1") is None


def test_dev_tokens_live_at_most_15_minutes() -> None:
    with pytest.raises(ValueError):
        sign_dev_token(DEV_PRIVATE, ADMIN, ttl_seconds=901)


def test_production_mode_ignores_the_dev_key() -> None:
    prod = settings(dev_token_public_key=DEV_PUBLIC, zhijia_mode="production")
    assert DevIssuerKey.from_settings(prod) is None
    assert DevIssuerKey.from_settings(settings()) is None  # no key given: none trusted
    keys = asyncio.run(_trusted(prod))
    assert keys.empty
    with pytest.raises(TokenRefused, match="unknown key id"):
        verify(keys, sign_dev_token(DEV_PRIVATE, ADMIN))


async def _trusted(s: ServiceSettings) -> TrustedKeys:
    return await trusted_keys(s)


def test_a_dev_key_cannot_sign_as_identity() -> None:
    """The dev key is trusted for the dev issuer only: a token claiming identity's is refused."""
    key = load_private_key(DEV_PRIVATE)
    forged = sign_access_token(key, DEV_KID, ADMIN, issuer=ISSUER)
    with pytest.raises(TokenRefused, match="invalid token"):
        verify(TrustedKeys([DevIssuerKey.from_settings(settings(dev_token_public_key=DEV_PUBLIC))]), forged)  # type: ignore[list-item]


def test_make_token_refuses_in_production_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIJIA_MODE", "production")
    with pytest.raises(SystemExit) as refused:
        token_script.main(["--role", "admin"])
    assert "production" in str(refused.value)


def test_make_token_refuses_a_lifetime_over_15_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHIJIA_MODE", raising=False)
    with pytest.raises(SystemExit):
        token_script.main(["--role", "admin", "--minutes", "16"])


# JWKS ------------------------------------------------------------------------------------------


def test_a_jwks_gives_its_ed25519_keys_and_leaves_the_rest_out() -> None:
    k1, k2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    rsa_like = {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}
    private = {**public_jwk(k2.public_key(), "p"), "d": "AAAA"}  # a private key is never trusted
    keys = parse_jwks({"keys": [public_jwk(k1.public_key(), "k1"), rsa_like, private, "junk"]})
    assert list(keys) == ["k1"]
    bad_documents: list[Any] = [{}, {"keys": []}, {"keys": "x"}, [], "text"]
    for bad in bad_documents:
        with pytest.raises(ValueError):
            parse_jwks(bad)


class _Jwks:
    """A JWKS endpoint on loopback whose document the test changes."""

    def __init__(self) -> None:
        self.document: Any = {"keys": []}
        self.status = 200
        self.hits = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.hits += 1
                body = json.dumps(served.document).encode()
                self.send_response(served.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"


@pytest.fixture
def jwks() -> Iterator[_Jwks]:
    served = _Jwks()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_jwks_keys_refresh_on_an_unknown_kid_at_most_every_2_seconds_and_keep_keys_on_failure(
    jwks: _Jwks,
) -> None:
    k1, k2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    jwks.document = {"keys": [public_jwk(k1.public_key(), "k1")]}

    async def scenario() -> None:
        keys = JwksKeys(jwks.url, min_refresh_seconds=0.5)
        await keys.start()
        verifier = TokenVerifier(keys)
        assert (await verifier.verify(sign_access_token(k1, "k1", ADMIN))).sub == "dev"
        jwks.document = {"keys": [public_jwk(k1.public_key(), "k1"), public_jwk(k2.public_key(), "k2")]}
        # Fetched at start a moment ago: an unknown kid waits for the next allowed fetch.
        with pytest.raises(TokenRefused, match="unknown key id"):
            await verifier.verify(sign_access_token(k2, "k2", ADMIN))
        hits = jwks.hits
        with pytest.raises(TokenRefused):
            await verifier.verify(sign_access_token(k2, "k9", ADMIN))
        assert jwks.hits == hits  # no fetch per unknown kid
        await asyncio.sleep(0.6)
        assert (await verifier.verify(sign_access_token(k2, "k2", ADMIN))).sub == "dev"
        jwks.status = 500
        await asyncio.sleep(0.6)
        await keys.refresh()  # fails: the keys held stay
        assert keys.key("k1") is not None and keys.key("k2") is not None

    asyncio.run(scenario())


def test_a_key_withdrawn_from_the_jwks_is_dropped_at_the_next_periodic_fetch(jwks: _Jwks) -> None:
    k1 = Ed25519PrivateKey.generate()
    jwks.document = {"keys": [public_jwk(k1.public_key(), "k1")]}

    async def scenario() -> None:
        keys = JwksKeys(jwks.url, min_refresh_seconds=0)
        await keys.start()
        assert keys.key("k1") is not None
        jwks.document = {"keys": [public_jwk(Ed25519PrivateKey.generate().public_key(), "k2")]}
        following = asyncio.create_task(keys.follow(every_seconds=0.1))
        try:
            for _ in range(50):
                if keys.key("k1") is None:
                    break
                await asyncio.sleep(0.05)
        finally:
            following.cancel()
        assert keys.key("k1") is None and keys.key("k2") is not None

    asyncio.run(scenario())


def test_an_unreachable_jwks_never_fails_the_start() -> None:
    keys = JwksKeys("http://127.0.0.1:9/.well-known/jwks.json")
    asyncio.run(keys.start())
    assert keys.key("k1") is None


# Revocation rules ------------------------------------------------------------------------------

ACCOUNT = uuid.uuid4()


def principal(**kw: Any) -> Principal:
    return Principal(sub=str(ACCOUNT), role=AccountRole.ADMIN, **kw)


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_a_revoked_binding_refuses_its_tokens_only() -> None:
    state, binding = RevokedTokens(), uuid.uuid4()
    state.take(
        RoleBindingRevoked(binding_id=binding, account_id=ACCOUNT, revoked_by="x", revoked_at=at(time.time()))
    )
    assert state.revoked(principal(bid=binding), issued_at=time.time())
    assert not state.revoked(principal(bid=uuid.uuid4()), issued_at=time.time())
    assert not state.revoked(principal(), issued_at=time.time())


def test_a_disabled_account_refuses_tokens_issued_at_or_before_it() -> None:
    state, now = RevokedTokens(), float(int(time.time()))  # a token's iat is whole seconds
    state.take(AccountDisabled(account_id=ACCOUNT, disabled_at=at(now)))
    assert state.revoked(principal(), issued_at=now - 60)
    assert state.revoked(principal(), issued_at=now)
    assert not state.revoked(principal(), issued_at=now + 1)  # signed in again afterwards
    assert state.revoked(Principal(sub=str(ACCOUNT).upper(), role=AccountRole.ADMIN), issued_at=now)
    assert not state.revoked(Principal(sub="someone-else", role=AccountRole.ADMIN), issued_at=now)


def test_a_revoked_session_refuses_its_tokens_only() -> None:
    state, session = RevokedTokens(), uuid.uuid4()
    state.take(SessionRevoked(session_id=session, account_id=ACCOUNT, revoked_at=at(time.time())))
    assert state.revoked(principal(sid=session), issued_at=time.time())
    assert not state.revoked(principal(sid=uuid.uuid4()), issued_at=time.time())


def test_a_grant_revokes_nothing_and_old_revocations_are_forgotten() -> None:
    state, binding, now = RevokedTokens(horizon_seconds=100), uuid.uuid4(), time.time()
    state.take(
        RoleBindingGranted(
            binding_id=binding, account_id=ACCOUNT, role=AccountRole.CADRE,
            scope=ScopeRef(union_id=uuid.uuid4()), granted_by="x", granted_at=at(now),
        )
    )  # fmt: skip
    assert not state.revoked(principal(bid=binding), issued_at=now)
    state.take(RoleBindingRevoked(binding_id=binding, account_id=ACCOUNT, revoked_by="x", revoked_at=at(now)))
    state.prune(now=now + 50)
    assert state.revoked(principal(bid=binding), issued_at=now)
    state.prune(now=now + 101)  # every token issued before it has expired by now
    assert not state.revoked(principal(bid=binding), issued_at=now)


def test_the_verifier_refuses_a_revoked_token_it_had_accepted() -> None:
    state, session = RevokedTokens(), uuid.uuid4()
    dev = DevIssuerKey.from_settings(settings(dev_token_public_key=DEV_PUBLIC))
    assert dev is not None
    verifier = TokenVerifier(dev, state)
    token = sign_dev_token(DEV_PRIVATE, AccessClaims(sub=str(ACCOUNT), role=AccountRole.ADMIN, sid=session))

    async def scenario() -> None:
        assert (await verifier.verify(token)).sid == session
        state.take(SessionRevoked(session_id=session, account_id=ACCOUNT, revoked_at=at(time.time())))
        with pytest.raises(TokenRefused, match="token revoked"):
            await verifier.verify(token)

    asyncio.run(scenario())
