"""Signed bearer tokens and the three roles: member, cadre of a union, admin.

A token is an HS256 JWT: {"sub", "role", "member_id"?, "union_id"?, "exp"}. A cadre acts within
their union and every union below it; a member sees only their own records.
"""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from shared.errors import InvalidInput

ISSUER = "zhijia"
ALGORITHM = "HS256"


class Role(StrEnum):
    MEMBER = "member"
    CADRE = "cadre"
    ADMIN = "admin"


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)  # one verified token's principal serves many requests

    sub: str
    role: Role
    member_id: uuid.UUID | None = None
    union_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _role_claims(self) -> "Principal":
        if self.role is Role.CADRE and self.union_id is None:
            raise ValueError("a cadre token must name union_id")
        return self

    def is_member(self, member_id: uuid.UUID) -> bool:
        return self.role is Role.MEMBER and self.member_id == member_id

    def covers_union(self, union_path: Sequence[uuid.UUID]) -> bool:
        """True for an admin, or a cadre whose union is on the path (root .. union)."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.CADRE and self.union_id in union_path


def mint_token(
    secret: str,
    *,
    sub: str,
    role: Role,
    member_id: uuid.UUID | None = None,
    union_id: uuid.UUID | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": sub,
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
    }
    if member_id:
        claims["member_id"] = str(member_id)
    if union_id:
        claims["union_id"] = str(union_id)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _verified_claims(secret: str, token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={"require": ["exp", "sub", "iss"]},
    )
    return claims


def verify_token(secret: str, token: str) -> Principal:
    return Principal.model_validate(_verified_claims(secret, token))


class VerifiedTokens:
    """Tokens already verified, until they expire: checking a signature costs more than the rest
    of a card read. Only a token that passed every check is kept, and every check but expiry
    gives the same answer later (the claims are signed), so a hit needs only the clock. Bounded:
    the oldest entry goes first."""

    def __init__(self, secret: str, max_entries: int = 20_000) -> None:
        self._secret = secret
        self._max = max_entries
        self._known: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str, now: float | None = None) -> Principal:
        at = time.time() if now is None else now
        hit = self._known.get(token)
        if hit is not None:
            principal, expires = hit
            if at < expires:
                return principal
            del self._known[token]
            raise jwt.ExpiredSignatureError("Signature has expired")
        claims = _verified_claims(self._secret, token)
        principal, expires = Principal.model_validate(claims), float(claims["exp"])
        if len(self._known) >= self._max:
            del self._known[next(iter(self._known))]
        self._known[token] = (principal, expires)
        return principal


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    tokens: VerifiedTokens = request.app.state.verified_tokens
    try:
        return tokens.verify(credentials.credentials)
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("token expired") from exc
    except (jwt.InvalidTokenError, ValidationError) as exc:
        raise _unauthorized("invalid token") from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class Caller:
    """Who makes a request, and the correlation id that follows it into the trail and events."""

    principal: Principal
    correlation_id: str
    # The Authorization header as given: forwarded when a service reads on the caller's behalf.
    credentials: str = field(default="", repr=False)

    @property
    def actor(self) -> str:
        return f"{self.principal.role}:{self.principal.sub}"

    def member_meant(self, given: uuid.UUID | None, question: str) -> uuid.UUID:
        """The member a request is about: the one it names, else the member calling for themself.
        `question` asks for it in the refusal (e.g. "whose dispute is it?")."""
        member_id = given or self.principal.member_id
        if member_id is None:
            raise InvalidInput(f"member_id is required: {question}")
        return member_id
