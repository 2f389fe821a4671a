"""Emitting a service's own events: who acted (Trace), the clock, China's time zone, and `emit`
with a per-subject version kept in one table (`event_versions`, a shared migration).

The version is what lets a consumer apply only what is newer than what it holds (the projector
does), so each subject's events must number 1, 2, 3… in the order they were committed: the
version row is taken with the event, in the caller's transaction, and stays locked until commit.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from shared.auth import Caller
from shared.contracts import new_envelope
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.db import Conn
from shared.outbox import enqueue

# China Standard Time: no daylight saving, so a fixed offset is exact.
CHINA = timezone(timedelta(hours=8))

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def china_date(at: datetime) -> date:
    """The calendar day in China at that instant (deadlines, years and windows are counted so)."""
    return at.astimezone(CHINA).date()


@dataclass(frozen=True)
class Trace:
    """Who did it and in answer to what: for the audit trail and for the events' envelopes."""

    actor: str
    correlation_id: str
    causation_id: str | None = None

    @classmethod
    def of(cls, caller: Caller) -> "Trace":
        return cls(caller.actor, caller.correlation_id)

    @classmethod
    def answering(cls, envelope: EventMetadata, actor: str | None = None) -> "Trace":
        """A change made in answer to another service's event (actor: `source:EventType`)."""
        return cls(
            actor or f"{envelope.source}:{envelope.event_type}",
            envelope.correlation_id,
            str(envelope.event_id),
        )


def next_version_cte(name: str, subject_param: str) -> str:
    """The step that takes a subject's next event version, as a CTE: a store can fold it into a
    statement it runs anyway (one round trip less per command), as shared.audit does."""
    return (
        f"{name} AS (INSERT INTO event_versions (subject, version) VALUES ({subject_param}, 1)"
        " ON CONFLICT (subject) DO UPDATE SET version = event_versions.version + 1 RETURNING version)"
    )


_NEXT_VERSION = f"WITH {next_version_cte('v', '$1::text')} SELECT version FROM v"


async def next_version(conn: Conn, subject: str) -> int:
    """The subject's next event version, taken in the caller's transaction."""
    return int(await conn.fetchval(_NEXT_VERSION, subject))


async def forget_subject(conn: Conn, subject: str) -> None:
    """Drop a subject's version counter (an erased member's, where nothing else of theirs stays):
    it would still tell how many events were about them. A later event would start at 1 again."""
    await conn.execute("DELETE FROM event_versions WHERE subject = $1", subject)


@dataclass(frozen=True)
class EventWriter:
    """A service's way to publish: its source name, its (prefixed) events topic and the
    compacted state topic next to it (`shared.contracts.topics.state_topic`)."""

    source: str
    topic: str
    state_topic: str | None = None

    async def emit(
        self,
        conn: Conn,
        trace: Trace,
        subject: str | uuid.UUID,
        payload: EventPayload,
        *,
        version: int | None = None,
    ) -> int:
        """Queue the event in the outbox, in the caller's transaction. Its version is the
        subject's next one, unless the caller took it already (`version`, from
        `next_version_cte` or an owner-given version such as a partner's offer version)."""
        key = str(subject)
        if version is None:
            version = await next_version(conn, key)
        envelope = new_envelope(
            payload,
            source=self.source,
            subject=key,
            subject_version=version,
            correlation_id=trace.correlation_id,
            causation_id=trace.causation_id,
        )
        parts = payload.carries_state_of() if self.state_topic else ()
        await enqueue(conn, self.topic, envelope, state_topic=self.state_topic, parts=parts)
        return version
