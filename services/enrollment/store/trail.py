"""The audit entry of a step and the next version of its record's events, in one statement.

Every enrollment command writes both for the record it changes (a person, a union: the record
is also its events' subject), so they share one round trip instead of two. The tables and their
columns are the kit's (shared.audit's `audit_trail`, shared.events' `event_versions`)."""

import json
import uuid
from typing import Any

from shared.db import Conn
from shared.events import Trace, next_version_cte

_RECORD_AND_NEXT_VERSION = f"""
    WITH trail AS (
        INSERT INTO audit_trail (actor, action, subject, record_id, reason, correlation_id, detail)
        VALUES ($2, $3, $4, $1::uuid, $5, $6, $7::jsonb)),
    {next_version_cte("v", "$1::uuid::text")}
    SELECT version FROM v"""


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
    """Write the entry (as shared.audit.record would) and take the record's next event version
    (as shared.events.next_version would, subject `str(record_id)`)."""
    version = await conn.fetchval(
        _RECORD_AND_NEXT_VERSION,
        record_id, trace.actor, action, subject, reason, trace.correlation_id,
        json.dumps(detail, default=str, ensure_ascii=False),
    )  # fmt: skip
    return int(version)
