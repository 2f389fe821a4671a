"""Write-behind of a batch's INSERTs: grouped per statement, in order per table, reads see writes."""

from typing import Any

from shared.batched_writes import BatchedWrites

CARD = "INSERT INTO cards (member_id, version) VALUES ($1, $2) ON CONFLICT DO NOTHING"
APP = "INSERT INTO applications (person_id, version) VALUES ($1, $2)"
HONOUR = "INSERT INTO honours (honour_id) VALUES ($1)"
REVOKE = "INSERT INTO honours (honour_id, revoked) VALUES ($1, true)"


class FakeConn:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[tuple[Any, ...]]]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.sent.append(("execute", sql, [args]))
        return "OK"

    async def executemany(self, sql: str, rows: Any) -> None:
        self.sent.append(("executemany", sql, [tuple(r) for r in rows]))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.sent.append(("fetchval", sql, [args]))
        return 1


async def test_inserts_are_sent_once_per_statement_in_order_per_table() -> None:
    conn = FakeConn()
    writes = BatchedWrites(conn)  # type: ignore[arg-type]
    await writes.execute(APP, "p1", 1)
    await writes.execute(CARD, "m1", 2)
    await writes.execute(APP, "m1", 2)
    await writes.execute(APP, "p2", 1)
    await writes.execute(CARD, "m2", 2)
    assert conn.sent == []  # nothing went out before the flush
    await writes.flush()
    assert conn.sent == [
        ("executemany", APP, [("p1", 1), ("m1", 2), ("p2", 1)]),
        ("executemany", CARD, [("m1", 2), ("m2", 2)]),
    ]
    assert writes.statements == 5


async def test_different_statements_on_one_table_keep_their_order() -> None:
    conn = FakeConn()
    writes = BatchedWrites(conn)  # type: ignore[arg-type]
    await writes.execute(HONOUR, "h1")
    await writes.execute(REVOKE, "h1")
    await writes.execute(HONOUR, "h2")
    await writes.executemany(CARD, [("m1", 1), ("m2", 1)])
    await writes.flush()
    assert [(kind, sql) for kind, sql, _ in conn.sent] == [
        ("execute", HONOUR),
        ("execute", REVOKE),
        ("execute", HONOUR),
        ("executemany", CARD),
    ]


async def test_a_read_or_another_statement_flushes_what_is_pending_first() -> None:
    conn = FakeConn()
    writes = BatchedWrites(conn)  # type: ignore[arg-type]
    await writes.execute(CARD, "m1", 1)
    assert await writes.fetchval("SELECT 1") == 1
    await writes.execute("UPDATE cards SET version = 3")
    await writes.flush()
    assert [kind for kind, _, _ in conn.sent] == ["execute", "fetchval", "execute"]
    assert conn.sent[0][1] == CARD
