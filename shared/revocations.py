"""Revoked bindings, disabled accounts and ended sessions, as every service learns them.

Each service follows identity's events topic itself (a plain consumer, no group, no offsets
stored), from REVOCATION_HORIZON_SECONDS ago: an older revocation no longer matters, since every
token issued before it has expired. A token is refused (shared/auth.py TokenVerifier) when

- its role binding (`bid`) was revoked;
- its account (`sub`) was disabled at or after the token was issued;
- its session (`sid`) was revoked.

The service is not ready (/health/ready) until the follower has read what the topic held when
it started, so a restarted service never forgets a revocation. A record that is no event of the
identity contract is logged and skipped, never fatal.
"""

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord

from shared.auth import Principal
from shared.contracts.envelope import ContractError, decode_event
from shared.contracts.identity import (
    REVOCATION_HORIZON_SECONDS,
    AccountDisabled,
    RoleBindingRevoked,
    SessionRevoked,
)
from shared.kafka import TopicFollower
from shared.logging import get_logger

log = get_logger(__name__)

_PRUNE_EVERY_SECONDS = 60.0


class RevokedTokens:
    """The revocations of the horizon, in memory; `take` one event at a time (pure, testable)."""

    def __init__(self, horizon_seconds: float = REVOCATION_HORIZON_SECONDS) -> None:
        self._horizon = horizon_seconds
        self._bindings: dict[uuid.UUID, float] = {}
        self._sessions: dict[uuid.UUID, float] = {}
        self._accounts: dict[str, float] = {}  # account id -> latest time it was disabled

    def take(self, payload: Any) -> None:
        if isinstance(payload, RoleBindingRevoked):
            self._bindings[payload.binding_id] = _ts(payload.revoked_at)
        elif isinstance(payload, SessionRevoked):
            self._sessions[payload.session_id] = _ts(payload.revoked_at)
        elif isinstance(payload, AccountDisabled):
            account = str(payload.account_id)
            self._accounts[account] = max(self._accounts.get(account, 0.0), _ts(payload.disabled_at))

    def revoked(self, principal: Principal, issued_at: float) -> bool:
        if principal.bid is not None and principal.bid in self._bindings:
            return True
        if principal.sid is not None and principal.sid in self._sessions:
            return True
        disabled = self._accounts.get(_account_key(principal.sub))
        return disabled is not None and disabled >= issued_at

    def prune(self, now: float | None = None) -> None:
        """Forget what no living token can be affected by any more."""
        oldest = (time.time() if now is None else now) - self._horizon
        self._bindings = {k: at for k, at in self._bindings.items() if at >= oldest}
        self._sessions = {k: at for k, at in self._sessions.items() if at >= oldest}
        self._accounts = {k: at for k, at in self._accounts.items() if at >= oldest}


def _ts(at: datetime) -> float:
    return at.timestamp()


def _account_key(sub: str) -> str:
    try:
        return str(uuid.UUID(sub))  # the events' form, whatever case or dashes a token uses
    except ValueError:
        return sub


class RevocationFollower:
    """RevokedTokens kept up to date from the identity topic while the service runs."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        partitions: int,
        horizon_seconds: float = REVOCATION_HORIZON_SECONDS,
    ) -> None:
        self.state = RevokedTokens(horizon_seconds)
        self._pruned = time.monotonic()
        self._topic = TopicFollower(
            bootstrap, topic, partitions, self._take, name="revocations",
            since_seconds=horizon_seconds, after_batch=self._prune_now_and_then,
        )  # fmt: skip

    @property
    def caught_up(self) -> bool:
        """Whether everything the topic held at start has been read."""
        return self._topic.caught_up

    def revoked(self, principal: Principal, issued_at: float) -> bool:
        return self.state.revoked(principal, issued_at)

    async def start(self) -> None:
        await self._topic.start()

    async def stop(self) -> None:
        await self._topic.stop()

    def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._pruned > _PRUNE_EVERY_SECONDS:
            self.state.prune()
            self._pruned = time.monotonic()

    def _take(self, record: ConsumerRecord[bytes, bytes]) -> None:
        where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        try:
            _, payload = decode_event(record.value)
        except ContractError as exc:
            log.warning("revocation_record_skipped", **where, reason=str(exc))
            return
        except Exception as exc:  # whatever the bytes are, the follower keeps following
            log.warning("revocation_record_skipped", **where, reason=repr(exc))
            return
        self.state.take(payload)


@contextlib.asynccontextmanager
async def following_revocations(
    bootstrap: str, topic: str, partitions: int
) -> AsyncIterator[RevocationFollower]:
    follower = RevocationFollower(bootstrap, topic, partitions)
    await follower.start()
    try:
        yield follower
    finally:
        await follower.stop()
