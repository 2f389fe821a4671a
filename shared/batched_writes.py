"""Write-behind for a batch's INSERT statements: one pipelined executemany per statement, not one
round trip per event.

A consumer that applies a batch of events in one transaction hands its handlers a
`BatchedWrites` instead of the connection. `execute(sql, *args)` of an `INSERT INTO <table>`
statement is recorded, not sent; `flush()` (before the batch's positions are saved, inside the
same transaction) sends each group with one `executemany`, which asyncpg pipelines.

Order is kept where it matters: statements are grouped per table, and a statement joins the last
group of its table only when that group has the same SQL; otherwise it starts a new group after
every group recorded so far. So on each table the statements run in the order they were
recorded, and only statements on different tables (which do not see each other: no triggers, no
reads in between) change places. Anything else (a read, an UPDATE, a statement of unknown shape)
first flushes what is pending and then runs at once, so a handler always reads its own writes.
"""

import re
from functools import lru_cache
from typing import Any

from shared.db import Conn

_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_.\"]*)", re.IGNORECASE)


@lru_cache(maxsize=256)  # handlers' statements are constants: the pattern runs once for each
def _inserted_table(sql: str) -> str | None:
    match = _INSERT.match(sql)
    return None if match is None else match.group(1).lower()


class BatchedWrites:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        # [table, sql, rows] in the order they must run
        self._groups: list[tuple[str, str, list[tuple[Any, ...]]]] = []
        self._last_of_table: dict[str, int] = {}
        self.statements = 0

    def _record(self, sql: str, rows: list[tuple[Any, ...]]) -> bool:
        table = _inserted_table(sql)
        if table is None:
            return False
        at = self._last_of_table.get(table)
        if at is not None and self._groups[at][1] == sql:
            self._groups[at][2].extend(rows)
        else:
            self._groups.append((table, sql, list(rows)))
            self._last_of_table[table] = len(self._groups) - 1
        self.statements += len(rows)
        return True

    async def execute(self, sql: str, *args: Any) -> str:
        if args and self._record(sql, [args]):
            return "INSERT (deferred)"
        await self.flush()
        result: str = await self._conn.execute(sql, *args)
        return result

    async def executemany(self, sql: str, args: Any) -> None:
        rows = [tuple(a) for a in args]
        if not self._record(sql, rows):
            await self.flush()
            await self._conn.executemany(sql, rows)

    async def flush(self) -> None:
        groups, self._groups, self._last_of_table = self._groups, [], {}
        for _, sql, rows in groups:
            if len(rows) == 1:
                await self._conn.execute(sql, *rows[0])
            else:
                await self._conn.executemany(sql, rows)

    async def fetch(self, *args: Any, **kw: Any) -> Any:
        await self.flush()
        return await self._conn.fetch(*args, **kw)

    async def fetchrow(self, *args: Any, **kw: Any) -> Any:
        await self.flush()
        return await self._conn.fetchrow(*args, **kw)

    async def fetchval(self, *args: Any, **kw: Any) -> Any:
        await self.flush()
        return await self._conn.fetchval(*args, **kw)
