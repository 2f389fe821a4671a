"""The signing keys: made, wrapped at rest, rotated with overlap, published as a JWKS, and the
KeySource the kit's TokenVerifier reads identity's own keys from."""

import asyncio
import contextlib
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from services.identity.domain.keys import KeyTimes, next_activation, published_keys, signing_key
from services.identity.store import keys as store
from services.identity.store.keys import KeyRow
from shared import audit
from shared.auth import public_jwk, sign_access_token
from shared.contracts.identity import ISSUER, AccessClaims
from shared.db import Conn
from shared.events import Clock, Trace, utcnow
from shared.logging import get_logger
from shared.shredding import KeyWrapper, Unreadable

log = get_logger(__name__)

# How long a replica trusts its copy of the keys table (a rotation's lead is longer).
RELOAD_SECONDS = 5.0


def _times(row: KeyRow) -> KeyTimes:
    return KeyTimes(row.key_id, row.created_at, row.activates_at)


class SigningKeys:
    """The keys table as this replica sees it, reloaded every few seconds by its own loop
    (`run`): signing never waits for the database, so a request that holds a connection while
    it signs never needs a second one (a full pool would wait on itself)."""

    def __init__(self, pool: asyncpg.Pool, secret: str, *, now: Clock = utcnow) -> None:
        self._pool = pool
        self._wrapper = KeyWrapper(secret, purpose=b"zhijia identity signing keys")
        self._now = now
        self._rows: dict[uuid.UUID, KeyRow] = {}
        self._public: dict[uuid.UUID, Ed25519PublicKey] = {}
        self._private: dict[uuid.UUID, Ed25519PrivateKey] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Reload the keys every RELOAD_SECONDS until stopped (a Background of the kit)."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RELOAD_SECONDS)
            if not self._stopping.is_set():
                try:
                    await self.reload()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("signing_keys_reload_failed", error=type(exc).__name__)  # keeps its copy

    def stop(self) -> None:
        self._stopping.set()

    async def ensure_first_key(self) -> None:
        """At start: the first key, signing at once, if there is none yet; and a new one signing
        at once when the key that signs now does not unwrap with this service's secret
        (IDENTITY_KEY_SECRET changed or was lost): signing with it is impossible, while its
        public key stays published, so the tokens it signed live out their minutes."""
        async with self._pool.acquire() as conn, conn.transaction():
            await store.lock_keys(conn)
            rows = await store.all_keys(conn)
            now = self._now()
            current = signing_key([_times(r) for r in rows], now)
            lost = current is not None and not self._unwraps(
                next(r for r in rows if r.key_id == current.key_id)
            )
            if lost and current is not None:
                log.error("signing_key_unreadable", key_id=str(current.key_id), action="a new key signs now")
            if not rows or lost:
                await store.insert_key(conn, self._new_key(now, now))
        await self.reload()

    def _unwraps(self, row: KeyRow) -> bool:
        try:
            self._wrapper.unwrap(row.key_id, row.private_key)
        except Unreadable:
            return False
        return True

    async def rotate(self, conn: Conn, lead: timedelta) -> KeyTimes:
        """A new key, published now and signing after `lead` (in the caller's transaction)."""
        await store.lock_keys(conn)
        now = self._now()
        known = [_times(r) for r in await store.all_keys(conn)]
        row = self._new_key(now, next_activation(known, now, lead))
        await store.insert_key(conn, row)
        self._loaded_at = 0.0  # read again on next use
        return _times(row)

    def _new_key(self, created: datetime, activates: datetime) -> KeyRow:
        key_id = uuid.uuid4()
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return KeyRow(key_id, self._wrapper.wrap(key_id, raw), public, created, activates)

    async def reload(self) -> None:
        async with self._lock:
            async with self._pool.acquire() as conn:
                rows = await store.all_keys(conn)
            self._rows = {r.key_id: r for r in rows}
            self._public = {r.key_id: Ed25519PublicKey.from_public_bytes(r.public_key) for r in rows}
            self._private = {k: v for k, v in self._private.items() if k in self._rows}
            self._loaded_at = time.monotonic()

    def _private_key(self, key_id: uuid.UUID) -> Ed25519PrivateKey:
        key = self._private.get(key_id)
        if key is None:
            raw = self._wrapper.unwrap(key_id, self._rows[key_id].private_key)
            key = self._private[key_id] = Ed25519PrivateKey.from_private_bytes(raw)
        return key

    async def sign(self, claims: AccessClaims, ttl_seconds: int) -> str:
        now = self._now()
        signing = signing_key([_times(r) for r in self._rows.values()], now)
        if signing is None:
            raise RuntimeError("no signing key is active: the service made none at start")
        return sign_access_token(
            self._private_key(signing.key_id), str(signing.key_id), claims,
            issuer=ISSUER, ttl_seconds=ttl_seconds, now=now.timestamp(),
        )  # fmt: skip

    async def jwks(self) -> dict[str, Any]:
        shown = published_keys([_times(r) for r in self._rows.values()], self._now())
        return {"keys": [public_jwk(self._public[k.key_id], str(k.key_id)) for k in shown]}

    def schedule(self) -> list[KeyTimes]:
        return sorted((_times(r) for r in self._rows.values()), key=lambda k: k.activates_at)

    # KeySource (shared/auth.py): identity verifies its own tokens from its own table.
    def key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        try:
            found = self._public.get(uuid.UUID(kid))
        except ValueError:
            return None
        return None if found is None else (ISSUER, found)

    async def refresh(self) -> None:
        # An unknown kid may be a rotation or a forgery: at most one read a second either way.
        if time.monotonic() - self._loaded_at > 1.0:
            await self.reload()


async def rotate_keys(keys: SigningKeys, pool: asyncpg.Pool, lead: timedelta, trace: Trace) -> KeyTimes:
    """Rotate (the admin route and `make rotate-keys`): a new key, published now, signing after
    the lead; the old one stays published until its last token has expired."""
    async with pool.acquire() as conn, conn.transaction():
        made = await keys.rotate(conn, lead)
        await audit.record(
            conn, trace, "keys.rotated", f"key:{made.key_id}", record_id=made.key_id,
            activates_at=made.activates_at.isoformat(),
        )  # fmt: skip
    await keys.reload()
    return made
