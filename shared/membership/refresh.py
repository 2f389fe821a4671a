"""Members held from before the view kept their employment type get it from enrollment's state
topic (the latest snapshot of every member), read once from its beginning by a reader of no group:
the service's own group, its offsets and its dedup are untouched. It runs in the background when
the service starts and ends at once when no row is missing the type; a row the live consumer
fills meanwhile (a newer snapshot) is left as it set it."""

import asyncio
import contextlib
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.consumer import decode_record
from shared.contracts import ContractError
from shared.contracts.enrollment import MemberSnapshot
from shared.contracts.topics import ENROLLMENT_STATE
from shared.logging import get_logger
from shared.replay import source_partitions
from shared.settings import ConsumingSettings

log = get_logger(__name__)


async def missing(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM members WHERE employment_type IS NULL"))


def member_of(payload: Any) -> MemberSnapshot | None:
    member = getattr(payload, "member", None)
    return member if isinstance(member, MemberSnapshot) else None


async def refresh_employment_types(settings: ConsumingSettings, pool: asyncpg.Pool) -> int:
    """Fill every NULL employment type the state topic knows; the number of rows filled."""
    before = await missing(pool)
    if not before:
        return 0
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None, enable_auto_commit=False,
        client_id=f"{settings.service}-membership-refresh", auto_offset_reset="earliest",
    )  # fmt: skip
    await reader.start()
    try:
        partitions = await source_partitions(reader, [settings.topic(ENROLLMENT_STATE)])
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        end = await reader.end_offsets(partitions)
        left: dict[TopicPartition, int] = {p: o for p, o in end.items() if o > 0}
        while left:
            batches = await reader.getmany(*left, timeout_ms=1000, max_records=500)
            rows = []
            for records in batches.values():
                for record in records:
                    try:
                        _, payload = decode_record(record)
                    except ContractError:
                        continue  # the live consumer dead-letters what it cannot read
                    member = member_of(payload)
                    if member is not None:
                        rows.append((member.member_id, member.employment_type.value))
            if rows:
                await pool.executemany(
                    """UPDATE members SET employment_type = $2
                       WHERE member_id = $1 AND employment_type IS NULL""",
                    rows,
                )
            for p in list(left):
                if await reader.position(p) >= left[p]:
                    del left[p]
    finally:
        await reader.stop()
    still = await missing(pool)
    log.info("membership_refreshed", filled=before - still, still_unknown=still)
    return before - still


class MembershipRefresh:
    """The refresh as a service's background task (shared/service.py Runtime.background)."""

    def __init__(self, settings: ConsumingSettings, pool: asyncpg.Pool) -> None:
        self._settings = settings
        self._pool = pool
        self._task: asyncio.Task[Any] | None = None

    async def run(self) -> None:
        self._task = asyncio.current_task()
        try:
            await refresh_employment_types(self._settings, self._pool)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the broker is away: the next start tries again
            log.warning("membership_refresh_failed", error=repr(exc))

    def stop(self) -> None:
        if self._task is not None:
            with contextlib.suppress(RuntimeError):
                self._task.cancel()
