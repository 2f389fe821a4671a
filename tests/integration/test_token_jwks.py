"""A service verifies identity's tokens with the public keys of identity's JWKS (issue 17): a key
added later works without a restart; a token that claims to live 100 years, an HS256 token and,
in production mode, a dev token are refused. The JWKS is served by a small loopback server in
place of the identity service; the service is a real process started on the side."""

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import Role, public_jwk, sign_access_token
from shared.contracts.identity import ALGORITHM, AUDIENCE, ISSUER, AccessClaims
from tests.conftest import RunningService, dev_token
from tests.integration.conftest import Stack, eventually, side_service

pytestmark = pytest.mark.integration

ADMIN = AccessClaims(sub=str(uuid.uuid4()), role=Role.ADMIN)


class Jwks:
    """Identity's JWKS endpoint, as the service sees it; the test adds keys to it."""

    def __init__(self) -> None:
        self.keys: list[dict[str, str]] = []
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/.well-known/jwks.json":
                    self.send_error(404)
                    return
                body = json.dumps({"keys": list(served.keys)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def add(self, key: Ed25519PrivateKey, kid: str) -> None:
        self.keys.append(public_jwk(key.public_key(), kid))


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    served = Jwks()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture(scope="module")
def first_key(jwks: Jwks) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    jwks.add(key, "k1")
    return key


@pytest.fixture(scope="module")
async def production_partners(
    stack_env: Stack, jwks: Jwks, first_key: Ed25519PrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningService]:
    """The partners service in production mode trusting identity's JWKS only (its dev key is
    given too, and must be ignored), on topics and a database of its own."""
    extra = {"ZHIJIA_MODE": "production", "IDENTITY_JWKS_URL": jwks.url}
    async with side_service(stack_env, "partners", "jwks", tmp_path_factory.mktemp("jwks"), extra) as service:
        yield service


async def _partners(http: httpx.AsyncClient, service: RunningService, token: str) -> httpx.Response:
    return await http.get(f"{service.url}/partners", headers={"Authorization": f"Bearer {token}"})


async def test_tokens_of_the_jwks_keys_work_and_a_key_added_later_too(
    production_partners: RunningService, jwks: Jwks, first_key: Ed25519PrivateKey, http: httpx.AsyncClient
) -> None:
    ok = await _partners(http, production_partners, sign_access_token(first_key, "k1", ADMIN))
    assert ok.status_code == 200, ok.text
    rotated = Ed25519PrivateKey.generate()
    unknown = await _partners(http, production_partners, sign_access_token(rotated, "k2", ADMIN))
    assert unknown.status_code == 401 and unknown.json()["detail"] == "invalid token: unknown key id"
    jwks.add(rotated, "k2")  # identity rotates: the service fetches the JWKS again (at most every 2 s)

    async def accepted() -> bool:
        token = sign_access_token(rotated, "k2", ADMIN)
        return (await _partners(http, production_partners, token)).status_code == 200

    await eventually(accepted, timeout=10, interval=0.5)


async def test_a_100_year_token_and_an_hs256_token_are_refused(
    production_partners: RunningService, first_key: Ed25519PrivateKey, http: httpx.AsyncClient
) -> None:
    now = int(time.time())
    claims = {"sub": ADMIN.sub, "role": "admin", "iss": ISSUER, "aud": AUDIENCE, "iat": now}
    century = jwt.encode(
        {**claims, "exp": now + 100 * 365 * 24 * 3600}, first_key, algorithm=ALGORITHM, headers={"kid": "k1"}
    )
    refused = await _partners(http, production_partners, century)
    assert refused.status_code == 401 and "at most 900 s" in refused.json()["detail"]
    hs256 = jwt.encode({**claims, "exp": now + 600}, "s" * 48, algorithm="HS256", headers={"kid": "k1"})
    refused = await _partners(http, production_partners, hs256)
    assert refused.status_code == 401 and refused.json()["detail"].startswith("invalid token")
    unsigned = jwt.encode({**claims, "exp": now + 600}, "", algorithm="none", headers={"kid": "k1"})
    assert (await _partners(http, production_partners, unsigned)).status_code == 401


async def test_a_service_in_production_mode_refuses_dev_tokens(
    stack_env: Stack, production_partners: RunningService, http: httpx.AsyncClient
) -> None:
    token = dev_token(Role.ADMIN)
    in_development = await _partners(http, stack_env.services["partners"], token)
    assert in_development.status_code == 200, in_development.text
    in_production = await _partners(http, production_partners, token)
    assert in_production.status_code == 401
    assert in_production.json()["detail"] == "invalid token: unknown key id"
    log = await asyncio.to_thread(production_partners.log_path.read_text, errors="replace")
    assert "dev_token_key_ignored" in log
