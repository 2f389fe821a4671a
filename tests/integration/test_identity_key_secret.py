"""Identity started with another IDENTITY_KEY_SECRET than the one that wrapped its signing key (a
lost or changed secret): it cannot sign with that key, so it makes a new one signing at once
instead of answering 500 to every sign-in; the old public key stays published for the tokens it
signed."""

import asyncio
from pathlib import Path

import httpx
import pytest

from scripts.identity_client import IdentityClient
from tests.integration.conftest import Stack, side_service

pytestmark = pytest.mark.integration


async def _kids(http: httpx.AsyncClient, url: str) -> set[str]:
    answer = await http.get(f"{url}/.well-known/jwks.json")
    assert answer.status_code == 200, answer.text
    return {k["kid"] for k in answer.json()["keys"]}


async def test_a_changed_key_secret_gets_a_new_signing_key_not_a_500(
    stack_env: Stack, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    codes = tmp_path / "codes.log"
    extra = {"IDENTITY_KEY_SECRET": "first-secret-" + "a" * 40, "IDENTITY_DEV_CODES_FILE": str(codes)}
    async with side_service(stack_env, "identity", "keysecret", tmp_path, extra) as identity:
        client = IdentityClient(http, identity.url, codes)
        first = await client.phone_sign_in("13900001111")
        before = await _kids(http, identity.url)
        assert len(before) == 1

        await asyncio.to_thread(identity.stop)
        identity.env["IDENTITY_KEY_SECRET"] = "second-secret-" + "b" * 40
        await asyncio.to_thread(identity.start)

        after = await _kids(http, identity.url)
        assert before < after and len(after) == 2  # a new key, the old one still published
        second = await client.phone_sign_in("13900002222")
        assert second.access_token != first.access_token
        # Both tokens are good: the new one signed by the new key, the old one by its public key.
        for tokens in (first, second):
            me = await http.get(f"{identity.url}/me", headers=tokens.headers)
            assert me.status_code == 200, me.text
        assert "signing_key_unreadable" in identity.log_path.read_text()
