"""Signing in through the identity service, the way the apps do it: for the demo scenario, the
contract suite's world and the end-to-end tests (one client, not one per caller).

Members sign up with a phone number and the one-time code the development notifier wrote to its
file (`make codes`), verify their real name, and refresh to get a token naming their member id.
Staff accounts are made by an admin and sign in with their password.
"""

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.identity.adapters.dev_notifier import last_code


class SignInFailed(Exception):
    pass


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    account_id: str
    expires_at: float = 0.0  # time.monotonic() when the access token expires

    def fresh_for(self, seconds: float) -> bool:
        return time.monotonic() + seconds < self.expires_at

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def _tokens(r: httpx.Response, what: str) -> Tokens:
    if r.status_code != 200:
        raise SignInFailed(f"{what}: {r.status_code} {r.text[:300]}")
    body = r.json()
    expires_at = time.monotonic() + float(body["expires_in"])
    return Tokens(body["access_token"], body["refresh_token"], str(body["account_id"]), expires_at)


class IdentityClient:
    def __init__(self, http: httpx.AsyncClient, url: str, codes_file: Path) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.codes_file = codes_file

    async def last_code(self, phone: str, after: str | None = None, wait_seconds: float = 10) -> str:
        """The newest code the development notifier wrote for this phone (other than `after`)."""
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while (code := last_code(self.codes_file, phone)) is None or code == after:
            if asyncio.get_running_loop().time() > deadline:
                raise SignInFailed(f"no code for {phone[:3]}****{phone[-4:]} in {self.codes_file}")
            await asyncio.sleep(0.05)
        return code

    async def send_code(self, phone: str) -> str | None:
        """Asks for a code; returns the code this phone had before (not the one to use)."""
        mark = last_code(self.codes_file, phone)
        r = await self.http.post(f"{self.url}/codes", json={"phone": phone, "purpose": "sign_in"})
        if r.status_code != 202:
            raise SignInFailed(f"send code: {r.status_code} {r.text[:300]}")
        return mark

    async def phone_sign_in(self, phone: str) -> Tokens:
        mark = await self.send_code(phone)
        code = await self.last_code(phone, after=mark)
        r = await self.http.post(f"{self.url}/sessions", json={"phone": phone, "code": code})
        return _tokens(r, "phone sign-in")

    async def refresh(self, tokens: Tokens) -> Tokens:
        r = await self.http.post(f"{self.url}/sessions/refresh", json={"refresh_token": tokens.refresh_token})
        return _tokens(r, "refresh")

    async def verify_real_name(self, tokens: Tokens, name: str, national_id: str) -> httpx.Response:
        body = {"name": name, "national_id": national_id}
        return await self.http.post(f"{self.url}/me/real-name", json=body, headers=tokens.headers)

    async def member(self, phone: str, name: str, national_id: str) -> Tokens:
        """A member signed in and verified: the returned token names their person (member) id."""
        tokens = await self.phone_sign_in(phone)
        r = await self.verify_real_name(tokens, name, national_id)
        if r.status_code != 200:
            raise SignInFailed(f"real name: {r.status_code} {r.text[:300]}")
        return await self.refresh(tokens)

    async def staff_account(
        self, admin: dict[str, str], username: str, password: str | None = None, display_name: str = ""
    ) -> tuple[str, str]:
        """A staff account made by an admin (or a cadre above): its id and password."""
        password = password or secrets.token_urlsafe(18)
        body = {"username": username, "display_name": display_name or username, "password": password}
        r = await self.http.post(f"{self.url}/staff/accounts", json=body, headers=admin)
        if r.status_code != 201:
            raise SignInFailed(f"staff account: {r.status_code} {r.text[:300]}")
        return str(r.json()["account_id"]), password

    async def grant(self, by: dict[str, str], account_id: str, role: str, **scope: Any) -> str:
        body = {"role": role, **{k: str(v) for k, v in scope.items() if v is not None}}
        r = await self.http.post(f"{self.url}/staff/accounts/{account_id}/bindings", json=body, headers=by)
        if r.status_code != 201:
            raise SignInFailed(f"grant {role}: {r.status_code} {r.text[:300]}")
        return str(r.json()["binding_id"])

    async def staff_sign_in(self, username: str, password: str, binding_id: str | None = None) -> Tokens:
        body: dict[str, Any] = {"username": username, "password": password}
        if binding_id:
            body["binding_id"] = binding_id
        r = await self.http.post(f"{self.url}/staff/sessions", json=body)
        return _tokens(r, "staff sign-in")

    async def cadre(self, admin: dict[str, str], union_id: uuid.UUID | str, username: str) -> Tokens:
        account, password = await self.staff_account(admin, username)
        await self.grant(admin, account, "cadre", union_id=union_id)
        return await self.staff_sign_in(username, password)
