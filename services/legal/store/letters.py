"""Supervision letters (一函两书)."""

import uuid
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from typing import Any

import asyncpg

from services.legal.domain.letters import SupervisionStatus
from shared.db import Conn


@dataclass(frozen=True)
class SupervisionRow:
    supervision_id: uuid.UUID
    union_id: uuid.UUID
    employer: str
    case_id: uuid.UUID | None
    status: SupervisionStatus
    issue: str
    reminded_on: date
    opinion_sent_on: date | None
    opinion_reply_due: date | None
    replied_on: date | None
    rectified: bool | None
    recommended_on: date | None
    inspection_due: date | None
    inspection_answered_on: date | None
    created_by: str
    created_at: datetime
    # Counted by weekends alone over a year whose holidays are not published yet.
    opinion_reply_provisional: bool = False
    inspection_due_provisional: bool = False


_COLUMNS = [f.name for f in fields(SupervisionRow)]


def _row(r: asyncpg.Record) -> SupervisionRow:
    values = {c: r[c] for c in _COLUMNS}
    values["status"] = SupervisionStatus(values["status"])
    return SupervisionRow(**values)


def _params(s: SupervisionRow) -> list[Any]:
    return [v.value if isinstance(v, SupervisionStatus) else v for v in astuple(s)]


async def insert(conn: Conn, s: SupervisionRow) -> None:
    placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
    await conn.execute(
        f"INSERT INTO supervisions ({', '.join(_COLUMNS)}) VALUES ({placeholders})", *_params(s)
    )


async def save(conn: Conn, s: SupervisionRow) -> None:
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(_COLUMNS, start=1) if c != "supervision_id")
    await conn.execute(
        f"UPDATE supervisions SET {sets}, updated_at = now() WHERE supervision_id = $1", *_params(s)
    )


async def get(conn: Conn, supervision_id: uuid.UUID, *, for_update: bool = False) -> SupervisionRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM supervisions WHERE supervision_id = $1{lock}", supervision_id)
    return _row(row) if row else None
