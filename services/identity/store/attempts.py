"""The attempts the abuse limits count: explicit SQL over asyncpg."""

from datetime import datetime

from services.identity.domain.limits import KEPT
from shared.db import Conn

# Actions counted.
CODE_SENT = "code_sent"
CODE_CHECKED = "code_checked"
REALNAME = "realname"


async def lock_subject(conn: Conn, subject: bytes) -> None:
    """Serialise the steps on one subject (a phone's hash) for this transaction, so two
    requests at once cannot both slip under a limit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::bytea::text, 17))", subject)


async def record(conn: Conn, action: str, subject: bytes, at: datetime, *, succeeded: bool) -> None:
    await conn.execute(
        "INSERT INTO attempts (action, subject, at, succeeded) VALUES ($1, $2, $3, $4)",
        action, subject, at, succeeded,
    )  # fmt: skip


async def forget(conn: Conn, action: str, subjects: list[bytes], at: datetime) -> None:
    """Take back what was counted at `at` (a code the notifier did not take)."""
    await conn.execute(
        "DELETE FROM attempts WHERE action = $1 AND subject = ANY($2::bytea[]) AND at = $3",
        action,
        subjects,
        at,
    )


async def times(
    conn: Conn, action: str, subject: bytes, now: datetime, *, failed_only: bool = False
) -> list[datetime]:
    """When the subject did this within the longest window (failures only, if asked)."""
    rows = await conn.fetch(
        """SELECT at FROM attempts WHERE action = $1 AND subject = $2 AND at > $3
             AND (NOT $4 OR NOT succeeded) ORDER BY at DESC LIMIT 1000""",
        action, subject, now - KEPT, failed_only,
    )  # fmt: skip
    return [r["at"] for r in rows]


async def failures_in_a_row(
    conn: Conn, action: str, subject: bytes, now: datetime
) -> tuple[int, datetime | None]:
    """How many failures since the subject's last success, and when the last one was."""
    row = await conn.fetchrow(
        """SELECT count(*) AS n, max(at) AS last FROM attempts
           WHERE action = $1 AND subject = $2 AND at > $3 AND NOT succeeded
             AND at > coalesce((SELECT max(at) FROM attempts
                                WHERE action = $1 AND subject = $2 AND succeeded), '-infinity')""",
        action, subject, now - KEPT,
    )  # fmt: skip
    assert row is not None
    return int(row["n"]), row["last"]


async def forget_old(conn: Conn, now: datetime) -> int:
    """Attempts older than any limit looks at (run from time to time)."""
    done = await conn.execute("DELETE FROM attempts WHERE at < $1", now - KEPT)
    return int(done.split()[-1])
