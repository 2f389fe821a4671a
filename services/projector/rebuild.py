"""Rebuild the card read model without downtime: `python -m services.projector rebuild`.

The projector keeps running and serving reads throughout. The rebuild:

1. takes the rebuild lock (one rebuild at a time) and drops every generation except the live
   one: the previous generation that the last rebuild kept, and whatever a failed rebuild left;
2. creates the next generation, rm_<live + 1>, from store/generation.sql;
3. replays every partition of the source topics from the beginning into it, up to the end
   offsets sampled when it starts, with a manually assigned consumer (no group: the live
   projector's group and its committed offsets are untouched) and the live projector's own
   handlers (an IdempotentConsumer whose `prepare` points each transaction at the new schema);
   it prints progress lines as it goes;
4. catches up again, round after round, until the new generation is at most REBUILD_SWAP_LAG
   records behind the topics;
5. swaps, in one short transaction: takes the projection_state row FOR UPDATE (this waits for
   the live consumer's batch in flight and holds back its next one), applies the last records up
   to the end offsets sampled under the lock (so the new generation is never behind the one it
   replaces: no reader sees a card go back in time), points the row and the public views at the
   new generation, commits.

Readers switch at that commit. The live consumer notices at its next batch (services/projector/
live.py): it applies nothing to the old generation any more, seeks to the new generation's own
tracked positions and carries on there.

The replaced generation, rm_<live>, is kept, for comparison or a manual rollback (pointing
projection_state back at it: the live consumer then resumes from that generation's own positions
and catches up), and dropped by the next rebuild: at most the live generation and the previous
one remain, plus the one being built. Events that still cannot be handled are dead-lettered again
by the rebuild, with the same origin headers as the live projector's letters.
"""

import asyncio
import contextlib
import time
from typing import Any

import asyncpg

from services.projector.app import MIGRATIONS, SERVICE, ProjectorSettings, card_consumer
from services.projector.store import generations
from services.projector.store.generations import Generation
from shared.db import Conn, open_pool
from shared.logging import configure_logging, get_logger
from shared.replay import SWAP_LOCK_TIMEOUT, Replay, catch_up, rebuild_lock, replaying

log = get_logger(__name__)


async def rebuild(settings: ProjectorSettings, progress_every_s: float = 2.0) -> dict[str, Any]:
    started = time.perf_counter()
    pool = await open_pool(settings.database_url, SERVICE, [MIGRATIONS], min_size=2, max_size=4)
    try:
        async with rebuild_lock(
            pool, SERVICE, "the card read model"
        ) as guard:  # held for as long as it lives
            totals = await _rebuild_locked(settings, pool, guard, progress_every_s)
    finally:
        await pool.close()
    totals["seconds"] = round(time.perf_counter() - started, 2)
    return totals


async def _rebuild_locked(
    settings: ProjectorSettings, pool: asyncpg.Pool, conn: Conn, progress_every_s: float
) -> dict[str, Any]:
    live = await generations.active(conn)
    for n in await generations.present(conn):
        if n != live.generation:
            await generations.drop(conn, generations.schema_for(n))
            log.info("generation_dropped", schema=generations.schema_for(n), live=live.schema)
    target = Generation(generations.schema_for(live.generation + 1), live.generation + 1)
    await generations.create(conn, target.schema)
    log.info("rebuild_started", schema=target.schema, live=live.schema)

    async def into_target(c: Conn) -> None:
        await generations.use_schema(c, target.schema)

    swapped = False
    try:
        async with replaying(settings, settings.source_topics) as reading:
            # The live projector's own consumer (handlers, dead letters), pointed at the target.
            consumer = card_consumer(settings, pool, reading.producer, into_target, reading.keys)
            replay = Replay(
                reading.reader,
                consumer,
                reading.partitions,
                settings.batch_size,
                target.schema,
                progress_every_s,
            )
            # 1. and 2. Everything there was when the rebuild started, then what arrived
            # meanwhile, until little is left.
            rounds = await catch_up(replay, reading, settings.rebuild_swap_lag)

            # 3. The swap: the rest under the lock, then the pointer, in one transaction.
            async with pool.acquire() as swap, swap.transaction():
                await swap.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                current = await generations.active(swap, lock="update")
                locked_at = time.perf_counter()
                if current.generation != live.generation:
                    raise SystemExit(f"the live generation changed to {current.schema} during the rebuild")
                end = await reading.reader.end_offsets(reading.partitions)
                under_lock = await replay.until(end, "swap")
                await generations.point_to(swap, target)
            swapped = True
        lock_ms = round((time.perf_counter() - locked_at) * 1000, 1)
        log.info("generation_swapped", schema=target.schema, previous=live.schema, lock_ms=lock_ms)
        same_shape = await generations.describe(conn, target.schema) == await generations.describe(
            conn, live.schema
        )
    finally:
        if not swapped:
            with contextlib.suppress(Exception):
                await generations.drop(conn, target.schema)
                log.warning("rebuild_abandoned", schema=target.schema)
    return {
        "schema": target.schema,
        "generation": target.generation,
        "previous": live.schema,
        **replay.totals,
        "catch_up_rounds": rounds,
        "applied_under_lock": under_lock,
        "lock_ms": lock_ms,
        "same_shape_as_previous": same_shape,
    }


def main() -> None:
    settings = ProjectorSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    totals = asyncio.run(rebuild(settings))
    log.info("rebuild_finished", **totals)
    print(
        f"rebuilt the card read model into {totals['schema']} (generation {totals['generation']}, "
        f"replacing {totals['previous']}) without stopping the projector: "
        f"{totals['events']} events ({totals['applied']} applied, {totals['duplicates']} duplicates, "
        f"{totals['dead_lettered']} dead-lettered) in {totals['seconds']} s; "
        f"{totals['catch_up_rounds']} catch-up rounds; the swap held the lock {totals['lock_ms']} ms "
        f"and applied the last {totals['applied_under_lock']} events under it",
        flush=True,
    )
