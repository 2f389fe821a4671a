"""The reports' rebuild (services/reports/rebuild.py) replaying the bench's backlog: every source
topic from the beginning into a fresh generation of a fresh database, then the swap; in events
read per second of the whole rebuild (replay, catch-up, swap). Run by bench/run.py after the
projector's catch-up, on the same backlog (skip it with `--skip reports`)."""

from typing import Any

from bench.catchup import Backlog
from bench.stack import PERSON_KEY_SECRET, BenchStack
from services.reports.app import ReportsSettings
from services.reports.rebuild import rebuild
from shared.db import ensure_database


async def measure(bench: BenchStack, backlog: Backlog) -> dict[str, Any]:
    database = bench.database("reports_rebuild")
    settings = ReportsSettings(
        database_url=bench.dsn(database), person_key_secret=PERSON_KEY_SECRET, topic_prefix=backlog.prefix,
        kafka_bootstrap_servers=bench.bootstrap, topic_partitions=bench.partitions, log_level="WARNING",
    )  # fmt: skip
    await ensure_database(settings.database_url)
    totals = await rebuild(settings, progress_every_s=30)
    return {
        "database": database,
        "events": totals["events"],
        "applied": totals["applied"],
        "duplicates": totals["duplicates"],
        "dead_lettered": totals["dead_lettered"],
        "seconds": totals["seconds"],
        "events_per_s": totals["events_per_s"],
        "replay_s": totals["replay_s"],
        "replay_events_per_s": totals["replay_events_per_s"],
        "swap_lock_ms": totals["lock_ms"],
    }
