"""Every event that came in from a partner, by either path, and what became of it."""

from dataclasses import dataclass
from datetime import datetime

from services.partners.domain.offers import Outcome
from services.partners.store import Reader
from shared.db import Conn


@dataclass(frozen=True)
class LogRow:
    id: int
    source: str
    origin: str
    offer_id: str | None
    version: int | None
    outcome: str
    reasons: list[str]
    received_at: datetime


async def log_ingress(
    conn: Conn,
    *,
    partner_id: str | None,
    source: str,
    origin: str,
    offer_id: str | None,
    version: int | None,
    outcome: Outcome,
    reasons: list[str],
    received_at: datetime,
) -> int:
    value = await conn.fetchval(
        """INSERT INTO ingress_log
               (partner_id, source, origin, offer_id, version, outcome, reasons, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        partner_id, source, origin, offer_id, version, outcome.value, reasons, received_at,
    )  # fmt: skip
    return int(value)


_COLUMNS = "id, source, origin, offer_id, version, outcome, reasons, received_at"


async def rejections(conn: Reader, partner_id: str, after: int, limit: int) -> list[LogRow]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM ingress_log
            WHERE partner_id = $1 AND outcome IN ('rejected', 'stale') AND id > $2
            ORDER BY id LIMIT $3""",
        partner_id, after, limit,
    )  # fmt: skip
    return [LogRow(**dict(r)) for r in rows]


async def offer_history(conn: Reader, partner_id: str, offer_id: str, limit: int = 50) -> list[LogRow]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM ingress_log WHERE partner_id = $1 AND offer_id = $2
            ORDER BY id DESC LIMIT $3""",
        partner_id, offer_id, limit,
    )  # fmt: skip
    return [LogRow(**dict(r)) for r in rows]
