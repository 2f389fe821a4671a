"""Topics and databases that test runs and benchmarks create, and their removal.

Every integration-test run works on its own topics (`t<run>.…`) and databases (`zt_<run>_…`) on the
shared local broker and server. A run removes its own when it ends; a run that was killed cannot,
so each new run also sweeps those of runs started more than `STALE_AFTER` ago. Left to pile up,
they made the broker's start (log recovery of every partition) slower than its start timeout.

The run id starts with the run's start time (hex seconds), so its age is read from the name alone:
`python -m scripts.leftovers sweep` removes stale ones by hand (`--all` every test run's).
"""

import argparse
import asyncio
import os
import re
import secrets
import sys
import time
from collections.abc import Callable

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from scripts.stack import database_url

# A test run's id: 8 hex digits of its start time (epoch seconds) and 4 random ones. Ids of the
# older format (8 random hex digits) carry no time and count as stale.
TOPIC_OF_RUN = re.compile(r"^t(?P<id>[0-9a-f]{8}(?:[0-9a-f]{4})?)\.")
DATABASE_OF_RUN = re.compile(r"^zt_(?P<id>[0-9a-f]{8}(?:[0-9a-f]{4})?)_")
STALE_AFTER = 6 * 3600.0  # far longer than any test run


def new_run_id(now: float | None = None) -> str:
    return f"{int(time.time() if now is None else now):08x}{secrets.token_hex(2)}"


def run_started(run_id: str) -> float | None:
    """When the run began (epoch seconds), or None for an id without a time."""
    return float(int(run_id[:8], 16)) if len(run_id) == 12 else None


def is_stale(run_id: str, now: float, stale_after: float = STALE_AFTER) -> bool:
    started = run_started(run_id)
    return started is None or now - started > stale_after


def stale_name(name: str, pattern: re.Pattern[str], now: float, stale_after: float = STALE_AFTER) -> bool:
    """Whether `name` is a test run's (by `pattern`) and that run is stale."""
    return bool((m := pattern.match(name)) and is_stale(m["id"], now, stale_after))


async def delete_topics(bootstrap: str, doomed: Callable[[str], bool]) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=120_000)
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics() if doomed(t))
        for start in range(0, len(names), 200):  # bounded requests, whatever the backlog
            await admin.delete_topics(names[start : start + 200], timeout_ms=120_000)
        return names
    finally:
        await admin.close()


async def drop_databases(postgres_dsn: str, doomed: Callable[[str], bool]) -> list[str]:
    conn = await asyncpg.connect(database_url(postgres_dsn, "postgres"))
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE NOT datistemplate")
        names = sorted(r["datname"] for r in rows if doomed(r["datname"]))
        dropped = []
        for name in names:
            if await drop_database(conn, name):
                dropped.append(name)
        return dropped
    finally:
        await conn.close()


async def drop_database(conn: asyncpg.Connection, name: str, attempts: int = 5, pause_s: float = 1.0) -> bool:
    """Drops one database; False when it stays (a cleanup must not fail the run that asked).
    Every test and bench clean-up drops its databases through here."""
    for attempt in range(attempts):
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return True
        except asyncpg.InsufficientPrivilegeError as e:
            # FORCE may not end a superuser's session there, e.g. autovacuum just after a start.
            if attempt == attempts - 1:
                print(f"leftovers: database {name} not dropped: {e}", file=sys.stderr)
            else:
                await asyncio.sleep(pause_s)
    return False


def prefix_matcher(*prefixes: str) -> Callable[[str], bool]:
    return lambda name: bool(prefixes) and name.startswith(prefixes)


async def remove_run(bootstrap: str, postgres_dsn: str, run_id: str) -> tuple[list[str], list[str]]:
    """One run's own topics and databases."""
    topics = await delete_topics(bootstrap, prefix_matcher(f"t{run_id}."))
    databases = await drop_databases(postgres_dsn, prefix_matcher(f"zt_{run_id}_"))
    return topics, databases


async def sweep(
    bootstrap: str, postgres_dsn: str, *, now: float | None = None, stale_after: float = STALE_AFTER
) -> tuple[list[str], list[str]]:
    """Topics and databases of test runs started more than `stale_after` seconds ago."""
    at = time.time() if now is None else now

    topics = await delete_topics(bootstrap, lambda name: stale_name(name, TOPIC_OF_RUN, at, stale_after))
    databases = await drop_databases(
        postgres_dsn, lambda name: stale_name(name, DATABASE_OF_RUN, at, stale_after)
    )
    return topics, databases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.leftovers", description=__doc__)
    parser.add_argument("command", choices=["sweep"])
    parser.add_argument(
        "--all", action="store_true", help="every test run's, however young (none may be running)"
    )
    args = parser.parse_args(argv)
    bootstrap, dsn = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("POSTGRES_DSN")
    if not bootstrap or not dsn:
        print('set KAFKA_BOOTSTRAP_SERVERS and POSTGRES_DSN (eval "$(deploy/infra.sh env)")', file=sys.stderr)
        return 2
    topics, databases = asyncio.run(sweep(bootstrap, dsn, stale_after=-1.0 if args.all else STALE_AFTER))
    print(f"deleted {len(topics)} topics and dropped {len(databases)} databases of finished test runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
