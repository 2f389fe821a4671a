"""API reads name the live generation's schema themselves (LiveSchema): after a swap they move to
the new schema, and a dropped one is looked up afresh."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from scripts.stack import database_url
from services.projector.store.generations import LiveSchema
from shared.db import ensure_database

pytestmark = pytest.mark.integration

READ = "SELECT x, " + LiveSchema.GUARD + " FROM {s}.t"


@pytest.fixture
async def conn(infra: dict[str, str], run_id: str) -> AsyncIterator[asyncpg.Connection]:
    dsn = database_url(infra["POSTGRES_DSN"], f"zt_{run_id}_live_{uuid.uuid4().hex[:6]}")
    await ensure_database(dsn)
    c = await asyncpg.connect(dsn)
    await c.execute(
        """CREATE TABLE public.projection_state (active_schema text NOT NULL, generation int NOT NULL,
                                                 swapped_at timestamptz);
           INSERT INTO public.projection_state VALUES ('rm_1', 1, now());
           CREATE SCHEMA rm_1; CREATE TABLE rm_1.t (x text); INSERT INTO rm_1.t VALUES ('one');
           CREATE SCHEMA rm_2; CREATE TABLE rm_2.t (x text); INSERT INTO rm_2.t VALUES ('two');"""
    )
    yield c
    await c.close()


async def test_a_read_follows_a_swap_and_a_dropped_generation(conn: asyncpg.Connection) -> None:
    live = LiveSchema()
    assert (await live.fetchrow(conn, READ))["x"] == "one"
    await conn.execute("UPDATE public.projection_state SET active_schema = 'rm_2', generation = 2")
    row = await live.fetchrow(conn, READ)  # remembered rm_1, saw the swap in the same snapshot
    assert row["x"] == "two" and live.schema == "rm_2"
    await conn.execute("UPDATE public.projection_state SET active_schema = 'rm_1', generation = 3")
    await conn.execute("DROP SCHEMA rm_2 CASCADE")
    assert [r["x"] for r in await live.fetch(conn, "SELECT x FROM {s}.t")] == ["one"]  # looked up again
