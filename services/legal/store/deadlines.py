"""Statutory deadlines as the kit's durable timers (table `timers`, kind `legal.deadline`): each
deadline has two notices, "approaching" and "missed", each one timer of the case
(`case:<id>`) or of the supervision (`supervision:<id>`), payload {name, due_on, notice,
provisional} (provisional: a working-day count over a year whose holidays are not published)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from shared import timers
from shared.contracts.legal import DeadlineName
from shared.db import Conn

KIND = "legal.deadline"


def case_subject(case_id: uuid.UUID) -> str:
    return f"case:{case_id}"


def supervision_subject(supervision_id: uuid.UUID) -> str:
    return f"supervision:{supervision_id}"


@dataclass(frozen=True)
class Notice:
    """A deadline notice as its timer holds it."""

    deadline_id: uuid.UUID
    case_id: uuid.UUID | None
    supervision_id: uuid.UUID | None
    name: DeadlineName
    due_on: date
    notice: str  # approaching | missed
    provisional: bool = False

    @classmethod
    def of(cls, timer: timers.Timer) -> "Notice":
        owner, _, owner_id = timer.subject.partition(":")
        record_id = uuid.UUID(owner_id)
        return cls(
            timer.timer_id,
            record_id if owner == "case" else None,
            record_id if owner == "supervision" else None,
            DeadlineName(timer.payload["name"]),
            date.fromisoformat(timer.payload["due_on"]),
            timer.payload["notice"],
            bool(timer.payload.get("provisional", False)),
        )


async def schedule(
    conn: Conn,
    subject: str,
    name: DeadlineName,
    due_on: date,
    notices: list[tuple[str, datetime]],
    *,
    provisional: bool = False,
) -> None:
    """One timer per notice (approaching, missed), each firing once at its time."""
    payload = {"name": name.value, "due_on": due_on, "provisional": provisional}
    await timers.schedule(
        conn, [timers.Timer(uuid.uuid4(), KIND, subject, at, {**payload, "notice": n}) for n, at in notices]
    )


async def cancel(conn: Conn, subject: str, names: list[DeadlineName]) -> None:
    """The step was taken: the pending notices of these deadlines will not fire."""
    await timers.cancel(conn, KIND, subject, where=[{"name": name.value} for name in names])


async def cancel_all(conn: Conn, subject: str) -> None:
    """The case closed: none of its pending notices fires."""
    await timers.cancel(conn, KIND, subject)


async def next_for_case(conn: Conn, case_id: uuid.UUID) -> tuple[DeadlineName, date] | None:
    """The nearest deadline still running (its missed notice has not fired nor been cancelled)."""
    row = await conn.fetchrow(
        """SELECT payload->>'name' AS name, payload->>'due_on' AS due_on FROM timers
           WHERE kind = $1 AND subject = $2 AND status = 'pending' AND payload->>'notice' = 'missed'
           ORDER BY payload->>'due_on', payload->>'name' LIMIT 1""",
        KIND, case_subject(case_id),
    )  # fmt: skip
    return (DeadlineName(row["name"]), date.fromisoformat(row["due_on"])) if row else None


@dataclass(frozen=True)
class DeadlineRow:
    name: DeadlineName
    due_on: date
    notice: str
    fire_at: datetime
    status: str


async def of_case(conn: Conn, case_id: uuid.UUID) -> list[DeadlineRow]:
    rows = await conn.fetch(
        """SELECT payload->>'name' AS name, payload->>'due_on' AS due_on, payload->>'notice' AS notice,
                  fire_at, status
           FROM timers WHERE kind = $1 AND subject = $2 ORDER BY fire_at, timer_id""",
        KIND, case_subject(case_id),
    )  # fmt: skip
    return [
        DeadlineRow(
            DeadlineName(r["name"]), date.fromisoformat(r["due_on"]), r["notice"], r["fire_at"], r["status"]
        )
        for r in rows
    ]


async def pending_on_supervisions(
    conn: Conn, names: list[DeadlineName]
) -> list[tuple[uuid.UUID, DeadlineName, date, bool]]:
    """Running deadlines of supervision letters (their missed notice still pending), and whether
    each is provisional."""
    rows = await conn.fetch(
        """SELECT subject, payload->>'name' AS name, payload->>'due_on' AS due_on,
                  coalesce((payload->>'provisional')::boolean, false) AS provisional FROM timers
           WHERE kind = $1 AND status = 'pending' AND subject LIKE 'supervision:%'
             AND payload->>'notice' = 'missed' AND payload->>'name' = ANY($2::text[])
           ORDER BY subject""",
        KIND, [n.value for n in names],
    )  # fmt: skip
    return [
        (
            uuid.UUID(r["subject"].partition(":")[2]),
            DeadlineName(r["name"]),
            date.fromisoformat(r["due_on"]),
            r["provisional"],
        )
        for r in rows
    ]


async def fired_notices(conn: Conn, subject: str, name: DeadlineName) -> set[str]:
    rows = await conn.fetch(
        """SELECT DISTINCT payload->>'notice' AS notice FROM timers
           WHERE kind = $1 AND subject = $2 AND status = 'fired' AND payload->>'name' = $3""",
        KIND, subject, name.value,
    )  # fmt: skip
    return {r["notice"] for r in rows}
