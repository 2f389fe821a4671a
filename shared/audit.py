"""The append-only audit trail every service keeps (table `audit_trail`, a shared migration):
write an entry in the transaction of the step it records, read a record's trail back."""

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.db import Conn
from shared.events import Trace, next_version_cte

_INSERT = """INSERT INTO audit_trail (actor, action, subject, record_id, reason, correlation_id, detail)
              VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"""
# The entry and the next version of the record's events (its subject is the record's id).
_INSERT_AND_NEXT_VERSION = f"""WITH entry AS ({_INSERT}), {next_version_cte("v", "$4::uuid::text")}
                               SELECT version FROM v"""


def _entry_args(
    trace: Trace, action: str, subject: str, record_id: uuid.UUID | None, reason: str | None, detail: Any
) -> tuple[Any, ...]:
    return (
        trace.actor, action, subject, record_id, reason, trace.correlation_id,
        json.dumps(detail, default=str, ensure_ascii=False),
    )  # fmt: skip


async def record(
    conn: Conn,
    trace: Trace,
    action: str,
    subject: str,
    *,
    record_id: uuid.UUID | None = None,
    reason: str | None = None,
    **detail: Any,
) -> None:
    """One entry: `trace` says who and in answer to what, `detail` what was decided (JSON)."""
    await conn.execute(_INSERT, *_entry_args(trace, action, subject, record_id, reason, detail))


async def record_and_next_version(
    conn: Conn,
    trace: Trace,
    record_id: uuid.UUID,
    action: str,
    subject: str,
    *,
    reason: str | None = None,
    **detail: Any,
) -> int:
    """The entry, and the next version of the record's own events (subject `str(record_id)`),
    in one statement: for a command that writes both, one round trip instead of two. Pass the
    version to `EventWriter.emit(..., version=)`."""
    version = await conn.fetchval(
        _INSERT_AND_NEXT_VERSION, *_entry_args(trace, action, subject, record_id, reason, detail)
    )
    return int(version)


class TrailEntry(BaseModel):
    """An entry as the trail's readers see it (also the HTTP response model)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    action: str
    subject: str
    reason: str | None
    detail: dict[str, Any]


_SELECT = "SELECT at, actor, action, subject, reason, detail FROM audit_trail"


def _entries(rows: list[Any]) -> list[TrailEntry]:
    return [
        TrailEntry(
            at=r["at"], actor=r["actor"], action=r["action"], subject=r["subject"],
            reason=r["reason"], detail=json.loads(r["detail"]),
        )
        for r in rows
    ]  # fmt: skip


async def trail_of_record(conn: Conn, record_id: uuid.UUID) -> list[TrailEntry]:
    """Every entry of one record (a case, a competition), oldest first."""
    return _entries(await conn.fetch(f"{_SELECT} WHERE record_id = $1 ORDER BY id", record_id))


async def trail_of_records(conn: Conn, record_ids: list[uuid.UUID]) -> list[TrailEntry]:
    """Every entry of any of the records (a person's files), oldest first."""
    return _entries(await conn.fetch(f"{_SELECT} WHERE record_id = ANY($1::uuid[]) ORDER BY id", record_ids))


async def trail_of_subject(conn: Conn, subject: str) -> list[TrailEntry]:
    return _entries(await conn.fetch(f"{_SELECT} WHERE subject = $1 ORDER BY id", subject))
