"""A person's data (个人信息副本, PIPL art. 45): each service answers what it holds on a member
from its own explicit queries (`Holding`), and enrollment gathers the sections into the export a
cadre approved, forwarding the member's own credentials (no service holds a key to read another's
data on anyone's behalf)."""

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
from pydantic import ValidationError

from shared import audit
from shared.auth import Caller
from shared.contracts.personal_data import PersonalDataSection, PersonalRecord, SectionInExport, TrailRecord
from shared.errors import Forbidden
from shared.events import Trace
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Holding:
    """One kind of record a service keeps on a person. `sql` takes the member id as $1 and gives
    record_id (text), recorded_at and data (jsonb, without keyed hashes or other people's data)."""

    kind: str
    title: str
    sql: str

    @classmethod
    def rows(
        cls, kind: str, title: str, table: str, *, key: str, at: str, where: str, hidden: Sequence[str] = ()
    ) -> "Holding":
        """Every row of `table` that `where` ties to the member ($1), whole but for `hidden`
        columns, keyed by column `key` and dated by column `at`."""
        data = "to_jsonb(t)" + "".join(f" - '{column}'" for column in hidden)
        return cls(
            kind, title,
            f"""SELECT t.{key}::text AS record_id, t.{at}::timestamptz AS recorded_at, {data} AS data
                FROM {table} t WHERE {where} ORDER BY t.{at}""",
        )  # fmt: skip


def _json(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value)


async def section(
    pool: asyncpg.Pool,
    caller: Caller,
    service: str,
    member_id: uuid.UUID,
    holdings: Sequence[Holding],
    now: datetime,
) -> PersonalDataSection:
    """What `service` holds on the member, for the member themself; the reading is audited."""
    if not caller.principal.is_member(member_id):
        raise Forbidden("only the member reads their own data; a cadre approves an export request instead")
    async with pool.acquire() as conn, conn.transaction():
        records = [
            PersonalRecord(
                kind=h.kind,
                title=h.title,
                record_id=row["record_id"],
                recorded_at=row["recorded_at"],
                data=_json(row["data"]),
            )
            for h in holdings
            for row in await conn.fetch(h.sql, member_id)
        ]
        ids = {member_id}
        for r in records:
            try:
                ids.add(uuid.UUID(r.record_id))
            except ValueError:
                continue
        trail = await audit.trail_of_records(conn, list(ids))
        await audit.record(conn, Trace.of(caller), "personal_data.read", str(member_id), record_id=member_id)
    return PersonalDataSection(
        service=service, member_id=member_id, generated_at=now, records=records,
        trail=[TrailRecord.model_validate(t.model_dump(exclude={"detail"})) for t in trail],
    )  # fmt: skip


@dataclass(frozen=True)
class Source:
    """A service whose section goes into the export; `url` None where this stack does not run it."""

    service: str
    title: str  # in Chinese, for the member
    url: str | None


def _unavailable(source: Source, why: str) -> SectionInExport:
    return SectionInExport(service=source.service, status="unavailable", note=f"{source.title}：{why}")


async def _one(
    client: httpx.AsyncClient, source: Source, member_id: uuid.UUID, caller: Caller
) -> SectionInExport:
    if source.url is None:
        return _unavailable(source, "本环境未接入该服务，未能取得记录")
    try:
        resp = await client.get(
            f"{source.url.rstrip('/')}/members/{member_id}/personal-data",
            headers={"Authorization": caller.credentials, "X-Correlation-ID": caller.correlation_id},
        )
    except httpx.HTTPError as exc:
        log.warning("personal_data.source_unreachable", service=source.service, error=type(exc).__name__)
        return _unavailable(source, "暂时无法取得记录，请稍后再次查看")
    if resp.status_code != 200:
        log.warning("personal_data.source_refused", service=source.service, status=resp.status_code)
        return _unavailable(source, "暂时无法取得记录，请稍后再次查看")
    try:
        found = PersonalDataSection.model_validate_json(resp.content)
    except ValidationError:
        log.warning("personal_data.source_malformed", service=source.service)
        return _unavailable(source, "暂时无法取得记录，请稍后再次查看")
    if found.member_id != member_id:
        return _unavailable(source, "暂时无法取得记录，请稍后再次查看")
    return SectionInExport(
        service=source.service, status="included", note=f"{source.title}：共 {len(found.records)} 条记录",
        section=found,
    )  # fmt: skip


async def gather(
    sources: Sequence[Source], member_id: uuid.UUID, caller: Caller, seconds_each: float = 5.0
) -> list[SectionInExport]:
    """Every source's section, asked at once; one that fails is marked unavailable, not fatal."""
    async with httpx.AsyncClient(timeout=seconds_each) as client:
        return list(await asyncio.gather(*(_one(client, s, member_id, caller) for s in sources)))
