"""Where a service finds the public keys that verify access tokens (shared/auth.py KeySource).

- `JwksKeys`: identity's JWKS over HTTP, fetched at start and again when a token names a key id
  not seen yet (a rotation), at most once every 2 s so unknown key ids cannot hammer identity,
  and every 5 minutes besides, so a key identity withdrew stops being trusted. A failed fetch
  keeps the keys already held; a first fetch that fails never fails the start.
- `DevIssuerKey`: the development issuer's public key (`make token`, tests), trusted only
  outside production mode.
- `TrustedKeys`: the keys of all of them (the identity service adds its own database keys).

No source ever holds a private key: services verify, only identity (and `make token`) signs.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.auth import DEV_KID, KeySource, load_public_key
from shared.contracts.identity import ALGORITHM, DEV_ISSUER, ISSUER
from shared.logging import get_logger
from shared.settings import ServiceSettings

log = get_logger(__name__)

FETCH_TIMEOUT_SECONDS = 2.0
MIN_REFRESH_SECONDS = 2.0
PERIODIC_REFRESH_SECONDS = 300.0


def parse_jwks(document: Any) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS document by key id; anything else in it is left out.
    Raises ValueError when the document holds no usable key at all."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document")
    usable = [
        k
        for k in document["keys"]
        if isinstance(k, dict) and k.get("kty") == "OKP" and k.get("crv") == "Ed25519"
        and isinstance(k.get("kid"), str) and k.get("alg", ALGORITHM) == ALGORITHM
        and k.get("use", "sig") == "sig" and "d" not in k
    ]  # fmt: skip
    try:
        key_set = jwt.PyJWKSet.from_dict({"keys": usable})
    except jwt.PyJWKSetError as exc:
        raise ValueError(f"no usable key in the JWKS: {exc}") from exc
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in key_set.keys:
        if jwk.key_id and isinstance(jwk.key, Ed25519PublicKey):
            keys[jwk.key_id] = jwk.key
    if not keys:
        raise ValueError("no Ed25519 public key in the JWKS")
    return keys


class JwksKeys:
    """Identity's public keys, from its JWKS endpoint; their issuer is ISSUER."""

    def __init__(self, url: str, *, min_refresh_seconds: float = MIN_REFRESH_SECONDS) -> None:
        self.url = url
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._last_attempt = float("-inf")
        self._lock = asyncio.Lock()

    def key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        found = self._keys.get(kid)
        return (ISSUER, found) if found is not None else None

    async def start(self) -> None:
        """The first fetch: identity may well start after this service, so it never fails."""
        await self.refresh()

    async def refresh(self) -> None:
        async with self._lock:  # concurrent requests naming a new kid share one fetch
            if time.monotonic() - self._last_attempt < self._min_refresh:
                return
            self._last_attempt = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                    keys = parse_jwks(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("jwks_fetch_failed", url=self.url, error=repr(exc), keys_kept=len(self._keys))
                return
            if set(keys) != set(self._keys):
                log.info("jwks_keys", url=self.url, kids=sorted(keys))
            self._keys = keys

    async def follow(self, every_seconds: float = PERIODIC_REFRESH_SECONDS) -> None:
        """Fetch again every so often, until cancelled."""
        while True:
            await asyncio.sleep(every_seconds)
            await self.refresh()


class DevIssuerKey:
    """The development issuer's public key under the key id "dev"."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._key = public_key

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "DevIssuerKey | None":
        """The dev key the settings give, unless the stack runs in production mode."""
        if not settings.dev_token_public_key:
            return None
        if settings.zhijia_mode == "production":
            log.warning("dev_token_key_ignored", reason="ZHIJIA_MODE=production: dev tokens are refused")
            return None
        return cls(load_public_key(settings.dev_token_public_key))

    def key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        return (DEV_ISSUER, self._key) if kid == DEV_KID else None

    async def refresh(self) -> None:
        return None


class TrustedKeys:
    """Every key source a service trusts; the first that knows a key id answers for it."""

    def __init__(self, sources: list[KeySource] | None = None) -> None:
        self._sources: list[KeySource] = list(sources or [])

    def add(self, source: KeySource) -> None:
        self._sources.append(source)

    @property
    def sources(self) -> tuple[KeySource, ...]:
        return tuple(self._sources)

    @property
    def empty(self) -> bool:
        return not self._sources

    def key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        for source in self._sources:
            found = source.key(kid)
            if found is not None:
                return found
        return None

    async def refresh(self) -> None:
        await asyncio.gather(*(source.refresh() for source in self._sources))


async def trusted_keys(settings: ServiceSettings) -> TrustedKeys:
    """The key sources the settings name, JWKS fetched once (a failure only logged)."""
    keys = TrustedKeys()
    if settings.identity_jwks_url:
        jwks = JwksKeys(settings.identity_jwks_url)
        await jwks.start()
        keys.add(jwks)
    dev = DevIssuerKey.from_settings(settings)
    if dev is not None:
        keys.add(dev)
    return keys


@contextlib.asynccontextmanager
async def running_trusted_keys(settings: ServiceSettings) -> AsyncIterator[TrustedKeys]:
    """`trusted_keys`, with identity's JWKS fetched again every 5 minutes while the block runs."""
    keys = await trusted_keys(settings)
    loops = [
        asyncio.create_task(source.follow(), name="jwks-refresh")
        for source in keys.sources
        if isinstance(source, JwksKeys)
    ]
    try:
        yield keys
    finally:
        for task in loops:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
