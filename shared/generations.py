"""Read-model generations as PostgreSQL schemas `<prefix>_<n>`: naming and checking them, creating
one from its package's `generation.sql` (the one definition of a generation's tables), pointing a
transaction at one, listing and dropping them. The card projector (`rm_`) and the reports (`rg_`)
each keep one; which generation is live, and how a swap is locked, stays with each of them."""

import re
from dataclasses import dataclass, field
from importlib import resources

from shared.db import Conn


@dataclass(frozen=True)
class GenerationSchemas:
    prefix: str  # "rm": schemas rm_1, rm_2, ...
    package: str  # the package holding generation.sql
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z]{1,8}", self.prefix):
            raise ValueError(f"a generation prefix is a few lowercase letters: {self.prefix!r}")
        object.__setattr__(self, "_pattern", re.compile(rf"^{self.prefix}_[0-9]+$"))

    def schema_for(self, generation: int) -> str:
        return f"{self.prefix}_{generation}"

    def checked(self, schema: str) -> str:
        """The schema name, once it is sure to be one of ours: it is interpolated into SQL."""
        if not self._pattern.fullmatch(schema):
            raise ValueError(f"not a {self.prefix}_<n> generation schema: {schema!r}")
        return schema

    def ddl(self) -> str:
        return resources.files(self.package).joinpath("generation.sql").read_text(encoding="utf-8")

    async def create(self, conn: Conn, schema: str) -> None:
        """An empty generation: its schema and every table, in one transaction."""
        schema = self.checked(schema)
        async with conn.transaction():
            await conn.execute(f'CREATE SCHEMA "{schema}"')
            await conn.execute(f'SET LOCAL search_path TO "{schema}"')
            await conn.execute(self.ddl())

    async def drop(self, conn: Conn, schema: str) -> None:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{self.checked(schema)}" CASCADE')

    async def present(self, conn: Conn) -> list[int]:
        """The generations that exist as schemas, oldest first (the live one, older ones, a build)."""
        rows = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname ~ $1", self._pattern.pattern)
        return sorted(int(r["nspname"].removeprefix(f"{self.prefix}_")) for r in rows)

    async def use_schema(self, conn: Conn, schema: str) -> None:
        """Point this transaction's unqualified names at a generation (public after it: the kit's
        tables). Call inside a transaction."""
        await conn.execute(f'SET LOCAL search_path TO "{self.checked(schema)}", public')
