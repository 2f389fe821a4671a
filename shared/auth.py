"""Signed bearer tokens and the roles they carry (shared/contracts/identity.py).

Access tokens are EdDSA JWTs signed by the identity service (`sign_access_token`), the key named
by `kid`; every service verifies them with public keys only (`TokenVerifier`). A cadre acts
within their union and every union below it; a member sees only their own records; counsel,
partner staff and services have only what a route grants them by name.
"""

import base64
import binascii
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from shared.contracts.identity import (
    ALGORITHM as TOKEN_ALGORITHM,
)
from shared.contracts.identity import (
    AUDIENCE,
    DEV_ISSUER,
    ISSUER,
    MAX_ACCESS_TOKEN_SECONDS,
    AccessClaims,
    AccountRole,
)
from shared.errors import InvalidInput

Role = AccountRole


class Principal(AccessClaims):
    """Who a verified token speaks for; one verified token's principal serves many requests."""

    def is_member(self, member_id: uuid.UUID) -> bool:
        return self.role is Role.MEMBER and self.member_id == member_id

    def is_cadre_or_admin(self) -> bool:
        """Union staff: the roles that work cases and records. Counsel, partner staff and
        services are not staff: they get only what a route grants them by name."""
        return self.role in (Role.CADRE, Role.ADMIN)

    def covers_union(self, union_path: Sequence[uuid.UUID]) -> bool:
        """True for an admin, or a cadre whose union is on the path (root .. union)."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.CADRE and self.union_id in union_path


def sign_access_token(
    key: Ed25519PrivateKey,
    kid: str,
    claims: AccessClaims,
    *,
    issuer: str = ISSUER,
    ttl_seconds: int = MAX_ACCESS_TOKEN_SECONDS,
    now: float | None = None,
) -> str:
    """An EdDSA access token for these claims, living `ttl_seconds` (at most the cap)."""
    if not 0 < ttl_seconds <= MAX_ACCESS_TOKEN_SECONDS:
        raise ValueError(f"an access token lives 1..{MAX_ACCESS_TOKEN_SECONDS} s, not {ttl_seconds}")
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        **claims.model_dump(mode="json", exclude_none=True),
        "iss": issuer,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, key, algorithm=TOKEN_ALGORITHM, headers={"kid": kid})


DEV_KID = "dev"


def _pem_of(text: str) -> bytes:
    """A key given as PEM, or as the base64 of its PEM (one line: fits an env file)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a key is PEM or the base64 of a PEM") from exc


def load_private_key(text: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(_pem_of(text), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_public_key(text: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(_pem_of(text))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def dev_key_pair() -> tuple[str, str]:
    """A new development key pair as (private, public), each the base64 of its PEM."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def sign_dev_token(
    private_key_pem_or_b64: str, claims: AccessClaims, ttl_seconds: int = MAX_ACCESS_TOKEN_SECONDS
) -> str:
    """A token of the development issuer (`make token`, tests): trusted only by services outside
    production mode that hold its public key (DEV_TOKEN_PUBLIC_KEY)."""
    key = load_private_key(private_key_pem_or_b64)
    return sign_access_token(key, DEV_KID, claims, issuer=DEV_ISSUER, ttl_seconds=ttl_seconds)


def public_jwk(key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    """One entry of a JWKS (RFC 8037: an OKP key on Ed25519)."""
    jwk: dict[str, str] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "use": "sig", "alg": TOKEN_ALGORITHM}


class KeySource(Protocol):
    """Where a verifier finds the public key a token names: identity's JWKS, the development
    issuer's key. `refresh` is awaited when a token names a key id not seen yet (a rotation)."""

    def key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        """The issuer that signs with this key id, and its public key."""
        ...

    async def refresh(self) -> None: ...


class Revocations(Protocol):
    def revoked(self, principal: "Principal", issued_at: float) -> bool: ...


# Expiry and issue time are checked against the verifier's own clock (testable, one place).
_CHECKED_HERE: Any = {
    "require": ["exp", "iat", "sub", "iss", "aud"],
    "verify_exp": False,
    "verify_iat": False,
}


class TokenRefused(Exception):
    """A token that does not verify; the message is the reason a 401 gives."""


class TokenVerifier:
    """Verifies access tokens with public keys only: the signature by the key its `kid` names
    (EdDSA, no other algorithm), the issuer that key belongs to, the audience, the expiry, and
    a lifetime no longer than the cap (a signed 100-year token is refused too). Verified tokens
    are remembered until they expire; revocations are checked on every use."""

    def __init__(
        self, keys: KeySource, revocations: Revocations | None = None, max_entries: int = 20_000
    ) -> None:
        self._keys = keys
        self._revocations = revocations
        self._max = max_entries
        self._known: dict[str, tuple[Principal, float, float]] = {}

    async def verify(self, token: str, now: float | None = None) -> Principal:
        at = time.time() if now is None else now
        hit = self._known.get(token)
        if hit is None:
            hit = await self._verified(token, at)
        principal, issued, expires = hit
        if at >= expires:
            self._known.pop(token, None)
            raise TokenRefused("token expired")
        if self._revocations is not None and self._revocations.revoked(principal, issued):
            raise TokenRefused("token revoked")
        return principal

    async def _verified(self, token: str, at: float) -> tuple[Principal, float, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise TokenRefused("invalid token") from exc
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("invalid token: no key id")
        found = self._keys.key(kid)
        if found is None:
            await self._keys.refresh()
            found = self._keys.key(kid)
        if found is None:
            raise TokenRefused("invalid token: unknown key id")
        issuer, key = found
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[TOKEN_ALGORITHM], issuer=issuer, audience=AUDIENCE,
                options=_CHECKED_HERE,
            )  # fmt: skip
        except jwt.InvalidTokenError as exc:
            raise TokenRefused("invalid token") from exc
        issued, expires = float(claims["iat"]), float(claims["exp"])
        if at >= expires:
            raise TokenRefused("token expired")
        if expires - issued > MAX_ACCESS_TOKEN_SECONDS or issued > at + 60:
            raise TokenRefused(f"invalid token: an access token lives at most {MAX_ACCESS_TOKEN_SECONDS} s")
        try:
            principal = Principal.model_validate(claims)
        except ValidationError as exc:
            raise TokenRefused("invalid token: claims") from exc
        if len(self._known) >= self._max:
            del self._known[next(iter(self._known))]
        self._known[token] = (principal, issued, expires)
        return principal, issued, expires


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    tokens: TokenVerifier = request.app.state.tokens
    try:
        return await tokens.verify(credentials.credentials)
    except TokenRefused as exc:
        raise _unauthorized(str(exc)) from exc


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
