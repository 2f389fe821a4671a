"""Read-model generations of the reports service: which schema is live, reading from it,
creating one from store/generation.sql, swapping.

Unlike the card projector's generations, a generation here holds the read model only: every
write is idempotent by its own key (facts by their fact key, current rows by version), so the
live consumer keeps its positions in public and simply writes into whichever generation is live
when its batch runs; a swap taken under the state row's lock, after the rebuild has caught up
with the topics' ends, leaves nothing unapplied in the new generation.

Locking: each live batch reads the state row FOR SHARE first (prepare_live), a swap takes it
FOR UPDATE (it waits for batches in flight; later ones see the new schema); reads take none.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources

import asyncpg

from shared.db import Conn

SCHEMA_RE = re.compile(r"^rg_[0-9]+$")
FIRST = "rg_1"


def schema_for(generation: int) -> str:
    return f"rg_{generation}"


def checked(schema: str) -> str:
    """The schema name, once it is sure to be ours: it is interpolated into SQL."""
    if not SCHEMA_RE.fullmatch(schema):
        raise ValueError(f"not a reports generation schema: {schema!r}")
    return schema


@cache
def generation_ddl() -> str:
    return resources.files("services.reports.store").joinpath("generation.sql").read_text(encoding="utf-8")


async def create(conn: Conn, schema: str) -> None:
    """An empty generation: its schema and tables, in one transaction."""
    schema = checked(schema)
    async with conn.transaction():
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        await conn.execute(generation_ddl())


async def ensure_live(pool: asyncpg.Pool) -> str:
    """The live schema, creating the first generation on a fresh database (replicas starting at
    once: one creates it, under an advisory lock)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('reports_state'))")
        live = await conn.fetchval("SELECT active_schema FROM public.reports_state")
        if live is not None:
            return checked(str(live))
        await conn.execute(f'DROP SCHEMA IF EXISTS "{FIRST}" CASCADE')
        await create(conn, FIRST)
        await conn.execute(
            "INSERT INTO public.reports_state (active_schema, generation) VALUES ($1, 1)", FIRST
        )
        return FIRST


async def active(conn: Conn, *, lock: str | None = None) -> tuple[str, int]:
    suffix = {None: "", "share": " FOR SHARE", "update": " FOR UPDATE"}[lock]
    row = await conn.fetchrow("SELECT active_schema, generation FROM public.reports_state" + suffix)
    if row is None:
        raise RuntimeError("public.reports_state is empty: the service creates the first generation")
    return checked(row["active_schema"]), int(row["generation"])


async def use_schema(conn: Conn, schema: str) -> None:
    """Point this transaction's unqualified names at a generation (public after it: the kit's
    processed_events and consumer_positions)."""
    await conn.execute(f'SET LOCAL search_path TO "{checked(schema)}", public')


async def prepare_live(conn: Conn) -> None:
    """First thing in each live batch transaction: the live generation, held against a swap."""
    schema, _ = await active(conn, lock="share")
    await use_schema(conn, schema)


@asynccontextmanager
async def reading(pool: asyncpg.Pool) -> AsyncIterator[Conn]:
    """A read-only transaction on the live generation."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        await use_schema(conn, (await active(conn))[0])
        yield conn


async def present(conn: Conn) -> list[int]:
    rows = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname ~ '^rg_[0-9]+$'")
    return sorted(int(r["nspname"].removeprefix("rg_")) for r in rows)


async def drop(conn: Conn, schema: str) -> None:
    await conn.execute(f'DROP SCHEMA IF EXISTS "{checked(schema)}" CASCADE')


async def point_to(conn: Conn, schema: str, generation: int) -> None:
    """Make the generation live; in the transaction that holds the row FOR UPDATE."""
    if checked(schema) != schema_for(generation):
        raise ValueError(f"{schema} is not the schema of generation {generation}")
    await conn.execute(
        "UPDATE public.reports_state SET active_schema = $1, generation = $2, swapped_at = now()",
        schema,
        generation,
    )
