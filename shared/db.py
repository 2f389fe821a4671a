"""PostgreSQL access: create the service's database, apply its migrations, open a pool."""

import hashlib
from collections.abc import Sequence
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared.logging import get_logger

log = get_logger(__name__)

SHARED_MIGRATIONS = "shared.migrations"

# Errors that say the database (or the network) is away for a while, not that the work is bad.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.TransactionRollbackError,
)

# A plain connection or one borrowed from a pool: every query function accepts either.
Conn = asyncpg.Connection | PoolConnectionProxy


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_database(dsn: str) -> None:
    """Create the database named in dsn if it does not exist (the role needs CREATEDB)."""
    name = urlsplit(dsn).path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"database name must be alphanumeric with underscores, got {name!r}")
    conn = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
                log.info("database_created", database=name)
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                # Another replica created it first (two racing CREATEs can also end in a unique
                # violation on pg_database's name index rather than "already exists").
                pass
    finally:
        await conn.close()


def _migration_files(package: str) -> list[tuple[str, str]]:
    files = [f for f in resources.files(package).iterdir() if f.name.endswith(".sql")]
    return sorted((f.name, f.read_text(encoding="utf-8")) for f in files)


async def migrate(conn: Conn, service: str, packages: list[str]) -> list[str]:
    """Apply plain SQL migration files once each, in name order, under an advisory lock.

    The shared migrations (outbox, processed events, event versions, audit trail, timers) come
    first, then the service's own, then the kit packages it opts into (membership view): a
    package's tables may already exist where a service created them before it was a package.
    A file that changed after it was applied is an error: migrations are append-only.
    """
    lock_key = int.from_bytes(hashlib.sha256(f"migrate:{service}".encode()).digest()[:8], "big", signed=True)
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {
            r["name"]: r["checksum"] for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
        }
        for package in packages:
            for filename, sql in _migration_files(package):
                name = f"{package}:{filename}"
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if name in done:
                    if done[name] != checksum:
                        raise RuntimeError(f"migration {name} changed after it was applied")
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        name,
                        checksum,
                    )
                applied.append(name)
                log.info("migration_applied", migration=name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    return applied


async def _release_without_reset_query(conn: asyncpg.Connection) -> None:
    """Returns a connection to the pool without asyncpg's reset query (RESET ALL, UNLISTEN *, …:
    one more round trip per use). Nothing here keeps session state on a pooled connection:
    settings are SET LOCAL, locks are transaction-scoped or released in a finally, LISTEN runs on
    dedicated connections. asyncpg still rolls back a transaction left open."""


async def open_pool(
    dsn: str, service: str, migrations: Sequence[str] = (), *, min_size: int = 2, max_size: int = 10
) -> asyncpg.Pool:
    """Create the database if needed, apply the shared migrations and then the given packages
    (the service's own, then the kit packages it opts into), open a pool."""
    if isinstance(migrations, str):
        raise TypeError("migrations is a list of packages, not one name")
    await ensure_database(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, service, [SHARED_MIGRATIONS, *migrations])
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, command_timeout=30, reset=_release_without_reset_query
    )
    assert pool is not None
    return pool
