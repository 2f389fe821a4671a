"""The member's inbox in the read model: items written once per (member, source event), and the
inbox read (a page of items with the legal cases whose deadline may be near)."""

import json
import uuid
from datetime import date, datetime
from typing import Any

from services.projector.domain.inbox import NEAR_DAYS, Item, Position
from services.projector.store.generations import LiveSchema
from shared.db import Conn


async def insert_items(conn: Conn, event_id: uuid.UUID, occurred_at: datetime, items: list[Item]) -> None:
    """Keyed by (member, event id): a redelivered event adds nothing; nothing is written for an
    erased person (their inbox went with their card)."""
    await conn.executemany(
        """INSERT INTO inbox (member_id, event_id, kind, title, body, occurred_at)
           SELECT $1, $2, $3, $4, $5, $6
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (member_id, event_id) DO NOTHING""",
        [(i.member_id, event_id, i.kind.value, i.title, i.body, occurred_at) for i in items],
    )


# One statement, one snapshot: a page of stored items after the cursor ($2, $3), newest first,
# and the member's open legal cases whose next deadline falls within [$5, $5 + NEAR_DAYS].
INBOX_PAGE = f"""
SELECT {LiveSchema.GUARD},
       (SELECT coalesce(jsonb_agg(x ORDER BY x.occurred_at DESC, x.event_id DESC), '[]')
        FROM (SELECT event_id, kind, title, body, occurred_at FROM {{s}}.inbox
              WHERE member_id = $1
                AND ($2::timestamptz IS NULL OR (occurred_at, event_id) < ($2, $3::uuid))
              ORDER BY occurred_at DESC, event_id DESC LIMIT $4) x) AS items,
       (SELECT coalesce(jsonb_agg(d), '[]')
        FROM (SELECT case_id, case_no, kind, next_deadline, next_due_on FROM {{s}}.legal_cases
              WHERE member_id = $1 AND stage <> 'closed' AND next_deadline IS NOT NULL
                AND next_due_on BETWEEN $5::date AND $5::date + {NEAR_DAYS}) d) AS deadlines
"""


async def inbox_page(
    conn: Conn, live: LiveSchema, member_id: uuid.UUID, after: Position | None, limit: int, today: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stored items, legal cases with a deadline in the next NEAR_DAYS days), as dicts."""
    row = await live.fetchrow(
        conn, INBOX_PAGE, member_id, after.occurred_at if after else None, after.item_id if after else None,
        limit, today,
    )  # fmt: skip
    items = [
        {**i, "event_id": uuid.UUID(i["event_id"]), "occurred_at": datetime.fromisoformat(i["occurred_at"])}
        for i in json.loads(row["items"])
    ]
    deadlines = [
        {**d, "case_id": uuid.UUID(d["case_id"]), "next_due_on": date.fromisoformat(d["next_due_on"])}
        for d in json.loads(row["deadlines"])
    ]
    return items, deadlines
