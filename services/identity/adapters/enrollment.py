"""Enrollment as identity sees it: link a verified person to an account, move a link to
another account. Identity calls with a service token it signs for itself (60 s)."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ValidationError


class EnrollmentUnavailable(Exception):
    """Enrollment did not answer, or not in the agreed shape: the caller answers 503."""


class Linked(BaseModel):
    person_id: uuid.UUID
    member_id: uuid.UUID | None = None
    outcome: Literal["linked", "claimed"]


class LinkRefused(Exception):
    """Enrollment's 409: `code` is details_mismatch or claimed_by_another_account."""

    def __init__(self, code: str, person_id: uuid.UUID | None, union_path: list[uuid.UUID] | None) -> None:
        super().__init__(code)
        self.code = code
        self.person_id = person_id
        self.union_path = union_path


ServiceToken = Callable[[], Awaitable[str]]


class EnrollmentClient:
    def __init__(self, base_url: str, token: ServiceToken, timeout: float = 5.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)
        self._token = token

    async def close(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self._token()}"}
        try:
            return await self._client.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise EnrollmentUnavailable(str(exc)) from exc

    async def link(self, account_id: uuid.UUID, name: str, national_id: str, phone: str) -> Linked:
        answer = await self._post(
            "/persons/links",
            {"account_id": str(account_id), "name": name, "national_id": national_id, "phone": phone},
        )
        if answer.status_code == 409:
            raise _refused(answer)
        if answer.status_code not in (200, 201):
            raise EnrollmentUnavailable(f"POST /persons/links answered {answer.status_code}")
        try:
            return Linked.model_validate_json(answer.content)
        except ValidationError as exc:
            raise EnrollmentUnavailable("POST /persons/links answered an unknown shape") from exc

    async def transfer(
        self, person_id: uuid.UUID, from_account: uuid.UUID | None, to_account: uuid.UUID
    ) -> None:
        """Move the person's link; `from_account` None when identity knows no holder."""
        body = {
            "from_account_id": str(from_account) if from_account else None,
            "to_account_id": str(to_account),
        }
        answer = await self._post(f"/persons/{person_id}/links/transfer", body)
        if answer.status_code == 409:
            raise _refused(answer)
        if answer.status_code == 404:  # the holder holds no link to the person (any more)
            raise LinkRefused("not_linked", person_id, None)
        if answer.status_code not in (200, 201, 204):
            raise EnrollmentUnavailable(f"POST /persons/{{id}}/links/transfer answered {answer.status_code}")


class _Refusal(BaseModel):
    code: str = "conflict"
    person_id: uuid.UUID | None = None
    union_path: list[uuid.UUID] | None = None


def _refused(answer: httpx.Response) -> LinkRefused:
    try:
        body = _Refusal.model_validate_json(answer.content)
    except ValidationError as exc:
        raise EnrollmentUnavailable("enrollment's 409 has an unknown shape") from exc
    return LinkRefused(body.code, body.person_id, body.union_path)
