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

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.auth import Principal
from shared.contracts.envelope import ContractError, decode_event
from shared.contracts.identity import (
    REVOCATION_HORIZON_SECONDS,
    AccountDisabled,
    RoleBindingRevoked,
    SessionRevoked,
)
from shared.kafka import ensure_topics
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
        self._bootstrap, self._topic, self._partitions = bootstrap, topic, partitions
        self._horizon = horizon_seconds
        self.state = RevokedTokens(horizon_seconds)
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None
        self._behind: dict[TopicPartition, int] = {}  # end offsets seen at start, not read yet

    @property
    def caught_up(self) -> bool:
        """Whether everything the topic held at start has been read."""
        return self._task is not None and not self._behind

    def revoked(self, principal: Principal, issued_at: float) -> bool:
        return self.state.revoked(principal, issued_at)

    async def start(self) -> None:
        await ensure_topics(self._bootstrap, {self._topic: self._partitions})
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        self._consumer = consumer
        parts = consumer.partitions_for_topic(self._topic)
        while not parts:
            await consumer._client.force_metadata_update()  # a topic just created
            parts = consumer.partitions_for_topic(self._topic)
        tps = [TopicPartition(self._topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        since_ms = int((time.time() - self._horizon) * 1000)
        starts = await consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            found = starts.get(tp)
            start = found.offset if found is not None else ends[tp]
            consumer.seek(tp, start)
            if start < ends[tp]:
                self._behind[tp] = ends[tp]
        self._task = asyncio.create_task(self._follow(), name="revocations")
        log.info("revocations_following", topic=self._topic, behind=sum(self._behind.values()))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _follow(self) -> None:
        pruned = time.monotonic()
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=200)
            except Exception as exc:  # the broker away: keep what is known, read on later
                log.warning("revocations_retrying", error=repr(exc))
                await asyncio.sleep(1)
                continue
            for records in batch.values():
                for record in records:
                    self._take(record.value, record.offset, record.topic, record.partition)
            if self._behind:
                for tp in list(self._behind):
                    if await self._consumer.position(tp) >= self._behind[tp]:
                        del self._behind[tp]
                if not self._behind:
                    log.info("revocations_caught_up", topic=self._topic)
            if time.monotonic() - pruned > _PRUNE_EVERY_SECONDS:
                self.state.prune()
                pruned = time.monotonic()

    def _take(self, value: bytes | None, offset: int, topic: str, partition: int) -> None:
        try:
            _, payload = decode_event(value)
        except ContractError as exc:
            log.warning(
                "revocation_record_skipped", topic=topic, partition=partition, offset=offset, reason=str(exc)
            )
            return
        except Exception as exc:  # whatever the bytes are, the follower keeps following
            log.warning(
                "revocation_record_skipped", topic=topic, partition=partition, offset=offset, reason=repr(exc)
            )
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
