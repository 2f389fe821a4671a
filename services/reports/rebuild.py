"""Rebuild the reports' read model without stopping the service: `python -m services.reports
rebuild` (or `rebuild()` from a bench).

1. Under an advisory lock (one rebuild at a time), drop every generation but the live one and
   create the next, rg_<live + 1>, from store/generation.sql.
2. Replay every partition of the source topics from the beginning into it (shared/replay.py: a
   manually assigned consumer, the live service's handlers in an IdempotentConsumer of its own
   name, each transaction pointed at the new schema), then catch up until little is left.
3. Swap in one short transaction: take the reports_state row FOR UPDATE (it waits for the live
   batch in flight and holds the next), apply the rest up to the end offsets read under the lock,
   point the row at the new generation. Readers switch at that commit; the live consumer's next
   batch writes into the new generation (its writes are idempotent: what the rebuild applied
   already changes nothing).
4. Drop the old generation, and the rebuild consumer's own processed_events and positions.
"""

import asyncio
import contextlib
import time
from typing import Any

import asyncpg

from services.reports.app import MIGRATIONS, SERVICE, ReportsSettings
from services.reports.handlers.events import apply_event
from services.reports.store import generations
from shared.consumer import IdempotentConsumer
from shared.db import Conn, open_pool
from shared.logging import configure_logging, get_logger
from shared.replay import SWAP_LOCK_TIMEOUT, Replay, catch_up, rebuild_lock, replaying

log = get_logger(__name__)

SWAP_LAG = 100  # records: swap once the new generation is at most this far behind


async def rebuild(settings: ReportsSettings, progress_every_s: float = 2.0) -> dict[str, Any]:
    """Rebuild and swap; the totals: events read, applied, seconds, events per second."""
    started = time.perf_counter()
    pool = await open_pool(settings.database_url, SERVICE, [MIGRATIONS], min_size=2, max_size=4)
    try:
        await generations.ensure_live(pool)
        async with rebuild_lock(pool, SERVICE, "the reports' read model") as guard:
            totals = await _rebuild_locked(settings, pool, guard, progress_every_s)
    finally:
        await pool.close()
    seconds = time.perf_counter() - started
    totals["seconds"] = round(seconds, 2)
    totals["events_per_s"] = round(totals["events"] / seconds, 1) if seconds > 0 else None
    return totals


async def _forget(conn: Conn, name: str) -> None:
    """The rebuild consumer's own dedup rows and positions (in public, the kit's tables)."""
    await conn.execute("DELETE FROM processed_events WHERE consumer = $1", name)
    await conn.execute("DELETE FROM consumer_positions WHERE consumer = $1", name)


async def _rebuild_locked(
    settings: ReportsSettings, pool: asyncpg.Pool, conn: Conn, progress_every_s: float
) -> dict[str, Any]:
    live, live_n = await generations.active(conn)
    for n in await generations.present(conn):
        if n != live_n:
            await generations.drop(conn, generations.schema_for(n))
    target_n = live_n + 1
    target = generations.schema_for(target_n)
    await generations.create(conn, target)
    name = f"{settings.consumer_name}-rebuild"
    await _forget(conn, name)
    log.info("reports_rebuild_started", schema=target, live=live)

    async def into_target(c: Conn) -> None:
        await generations.use_schema(c, target)

    swapped = False
    try:
        async with replaying(settings, settings.source_topics) as reading:
            consumer = IdempotentConsumer(
                name, pool, reading.producer, settings.dead_letter_topic, apply_event, prepare=into_target,
                batch_writes=True, open_sealed=reading.keys.open_sealed,
            )  # fmt: skip
            replay = Replay(
                reading.reader, consumer, reading.partitions, settings.batch_size, target, progress_every_s
            )
            replay_started = time.perf_counter()
            rounds = await catch_up(replay, reading, SWAP_LAG)
            replay_s = time.perf_counter() - replay_started
            async with pool.acquire() as swap, swap.transaction():
                await swap.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                current, _ = await generations.active(swap, lock="update")
                if current != live:
                    raise SystemExit(f"the live generation changed to {current} during the rebuild")
                locked_at = time.perf_counter()
                await replay.until(await reading.reader.end_offsets(reading.partitions), "swap")
                await generations.point_to(swap, target, target_n)
            swapped = True
        lock_ms = round((time.perf_counter() - locked_at) * 1000, 1)
        log.info("reports_rebuild_swapped", schema=target, previous=live, lock_ms=lock_ms)
        await generations.drop(conn, live)  # waits for reads still on it
    finally:
        with contextlib.suppress(Exception):
            await _forget(conn, name)
            if not swapped:
                await generations.drop(conn, target)
                log.warning("reports_rebuild_abandoned", schema=target)
    return {
        "schema": target,
        "previous": live,
        **replay.totals,
        "catch_up_rounds": rounds,
        "lock_ms": lock_ms,
        # The replay alone (no start-up, no swap): the read model's own pace.
        "replay_s": round(replay_s, 2),
        "replay_events_per_s": round(replay.totals["events"] / replay_s, 1) if replay_s > 0 else None,
    }


def main() -> None:
    settings = ReportsSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    totals = asyncio.run(rebuild(settings))
    log.info("reports_rebuild_finished", **totals)
    print(
        f"rebuilt the reports' read model into {totals['schema']} (replacing {totals['previous']}) "
        f"without stopping the service: {totals['events']} events in {totals['seconds']} s "
        f"({totals['events_per_s']} events/s); the swap held the lock {totals['lock_ms']} ms",
        flush=True,
    )
