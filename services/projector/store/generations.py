"""Read-model generations: which one is live, reading from it, creating, swapping and dropping one.

A generation is a PostgreSQL schema `rm_<n>` that holds the card tables AND the projector's own
processed_events and consumer_positions (store/generation.sql, the one definition of its tables):
a view and the positions it was built up to live and move together, so a projection always
resumes from its own tracked positions. The one row of `public.projection_state` names the live
generation; every read-model transaction points its search_path at it first.

Locking protocol around that row:

- the live consumer reads it FOR SHARE first thing in every batch transaction (`active(conn,
  lock="share")`) and applies the batch only if it names the generation the consumer is
  positioned for;
- a swap takes it FOR UPDATE: it waits for the batches in flight to commit, and batches that
  start meanwhile wait for the swap and then see the new generation (and apply nothing);
- reads take no lock: they read the row and then the tables in one read-only transaction.

PostgreSQL re-plans a prepared statement when search_path has changed since it was planned, so
asyncpg's statement cache resolves `cards` in whichever generation the transaction points at.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from shared.db import Conn
from shared.generations import GenerationSchemas

SCHEMAS = GenerationSchemas("rm", "services.projector.store")
schema_for = SCHEMAS.schema_for
checked = SCHEMAS.checked
create = SCHEMAS.create
drop = SCHEMAS.drop
present = SCHEMAS.present
use_schema = SCHEMAS.use_schema
# Tables of one generation that public shows under their old names, as views over the live one.
PUBLIC_VIEWS = (
    "unions", "cards", "applications", "relief_cases", "honours", "competition_results",
    "competition_awards", "legal_cases", "member_transfers", "merchants", "offers", "redemptions",
    "inbox", "erased_members", "offer_redemption_stats", "offer_redeemers", "programme_receipts",
    "processed_events", "consumer_positions",
)  # fmt: skip


@dataclass(frozen=True)
class Generation:
    schema: str
    generation: int
    swapped_at: datetime | None = None


async def active(conn: Conn, *, lock: Literal["share", "update"] | None = None) -> Generation:
    """The live generation; with lock, the row is locked until the transaction ends."""
    suffix = {None: "", "share": " FOR SHARE", "update": " FOR UPDATE"}[lock]
    row = await conn.fetchrow(
        "SELECT active_schema, generation, swapped_at FROM public.projection_state" + suffix
    )
    if row is None:
        raise RuntimeError("public.projection_state is empty: are the projector's migrations applied?")
    return Generation(checked(row["active_schema"]), int(row["generation"]), row["swapped_at"])


@asynccontextmanager
async def reading(pool: asyncpg.Pool) -> AsyncIterator[Conn]:
    """A connection in a read-only transaction whose unqualified names are the live generation's."""
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await use_schema(conn, (await active(conn)).schema)
        yield conn


class LiveSchema:
    """The live generation's schema as the API's reads name it: remembered, so a read is one
    statement on that schema's own tables (no transaction, no search_path, and not the public
    views, which a swap drops and re-creates). A read's SQL writes `{s}.` before each table
    and, for `fetchrow`, selects `(SELECT active_schema FROM public.projection_state) AS
    live_schema` in the same snapshot: when a swap has committed meanwhile, the read runs again
    on the new schema. A schema dropped since (by a later rebuild) is looked up afresh."""

    GUARD = "(SELECT active_schema FROM public.projection_state) AS live_schema"

    def __init__(self) -> None:
        self.schema: str | None = None  # always a checked() name: formatted into SQL as is

    async def _current(self, conn: Conn) -> str:
        if self.schema is None:
            self.schema = (await active(conn)).schema
        return self.schema

    async def fetchrow(self, conn: Conn, sql: str, *args: Any) -> Any:
        for _ in range(3):
            schema = await self._current(conn)
            try:
                row = await conn.fetchrow(sql.format(s=f'"{schema}"'), *args)
            except asyncpg.UndefinedTableError:
                self.schema = None
                continue
            if row is not None and row["live_schema"] != schema:
                self.schema = checked(row["live_schema"])
                continue
            return row
        raise RuntimeError("the live generation kept changing under a read")

    async def fetch(self, conn: Conn, sql: str, *args: Any) -> list[Any]:
        """For a read that follows a guarded one: the schema it saw."""
        for _ in range(2):
            schema = await self._current(conn)
            try:
                rows: list[Any] = await conn.fetch(sql.format(s=f'"{schema}"'), *args)
                return rows
            except asyncpg.UndefinedTableError:
                self.schema = None
        raise RuntimeError("the live generation kept changing under a read")


async def positions(conn: Conn, consumer: str) -> dict[tuple[str, int], int]:
    """The consumer's last applied offset per (topic, partition) in the transaction's generation."""
    rows = await conn.fetch(
        'SELECT topic, partition, "offset" FROM consumer_positions WHERE consumer = $1', consumer
    )
    return {(r["topic"], r["partition"]): int(r["offset"]) for r in rows}


async def point_to(conn: Conn, target: Generation) -> None:
    """Make target the live generation. Call in the transaction that holds the row FOR UPDATE."""
    schema = checked(target.schema)
    if schema != schema_for(target.generation):
        raise ValueError(f"{schema} is not the schema of generation {target.generation}")
    await conn.execute(
        "UPDATE public.projection_state SET active_schema = $1, generation = $2, swapped_at = now()",
        schema,
        target.generation,
    )
    for name in PUBLIC_VIEWS:
        # Dropped and made again (not replaced): a new generation may have a different shape.
        await conn.execute(f'DROP VIEW IF EXISTS public."{name}"')
        await conn.execute(f'CREATE VIEW public."{name}" AS SELECT * FROM "{schema}"."{name}"')


async def describe(conn: Conn, schema: str) -> list[str]:
    """The shape of a generation (columns, indexes, constraints) without its schema name:
    two generations made from the same definition describe the same."""
    schema = checked(schema)
    rows = await conn.fetch(
        """SELECT format('column %s.%s %s null=%s default=%s', table_name, column_name,
                         udt_name, is_nullable, coalesce(column_default, '-')) AS line, 1 AS kind,
                  table_name::text AS t, ordinal_position::int AS n
           FROM information_schema.columns WHERE table_schema = $1
           UNION ALL
           SELECT 'index ' || replace(indexdef, $1 || '.', ''), 2, tablename::text, 0
           FROM pg_indexes WHERE schemaname = $1
           UNION ALL
           SELECT format('constraint %s.%s %s', rel.relname, con.conname, pg_get_constraintdef(con.oid)),
                  3, rel.relname::text, 0
           FROM pg_constraint con
           JOIN pg_class rel ON rel.oid = con.conrelid
           JOIN pg_namespace ns ON ns.oid = rel.relnamespace
           WHERE ns.nspname = $1
           ORDER BY kind, t, n, line""",
        schema,
    )
    return [str(r["line"]) for r in rows]
