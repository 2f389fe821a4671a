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

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.db import Conn
from shared.generations import GenerationSchemas

SCHEMAS = GenerationSchemas("rg", "services.reports.store")
FIRST = SCHEMAS.schema_for(1)
schema_for = SCHEMAS.schema_for
checked = SCHEMAS.checked
create = SCHEMAS.create
drop = SCHEMAS.drop
present = SCHEMAS.present
use_schema = SCHEMAS.use_schema


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


async def point_to(conn: Conn, schema: str, generation: int) -> None:
    """Make the generation live; in the transaction that holds the row FOR UPDATE."""
    if checked(schema) != schema_for(generation):
        raise ValueError(f"{schema} is not the schema of generation {generation}")
    await conn.execute(
        "UPDATE public.reports_state SET active_schema = $1, generation = $2, swapped_at = now()",
        schema,
        generation,
    )
