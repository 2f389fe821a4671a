"""The services' connection pool releases without asyncpg's reset query, and is still safe."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from scripts.stack import database_url
from shared.db import open_pool

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(infra: dict[str, str], run_id: str) -> AsyncIterator[asyncpg.Pool]:
    dsn = database_url(infra["POSTGRES_DSN"], f"zt_{run_id}_pool_{uuid.uuid4().hex[:6]}")
    p = await open_pool(dsn, "pool-test", min_size=1, max_size=1)
    await p.execute("CREATE TABLE t (x int)")
    yield p
    await p.close()


async def test_a_transaction_left_open_is_rolled_back_on_release(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (1)")
        backend = await conn.fetchval("SELECT pg_backend_pid()")
    async with pool.acquire() as conn:  # the pool's only connection: the same backend
        assert await conn.fetchval("SELECT pg_backend_pid()") == backend
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM t") == 0


def sent(conn: Any) -> int:
    """How many statements asyncpg has sent on this connection (its own counter)."""
    return int(conn._con._protocol.queries_count)


async def test_release_costs_no_extra_round_trip(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        before = sent(conn)
    async with pool.acquire() as conn:
        assert sent(conn) == before
