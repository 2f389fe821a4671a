"""A small HTTP/1.1 keep-alive client on asyncio streams, for the load generators.

A general client (httpx) spends several times more CPU per request; on this 2-core machine the
generator competes with the services for the CPU, so it has to be cheap. Answers must carry a
Content-Length (FastAPI's JSON answers do).
"""

import asyncio
import json
import time
from typing import Any


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    def close(self) -> None:
        self.writer.close()


class Client:
    """Keep-alive connections, at most max_connections at once; idle ones are reused."""

    def __init__(self, host: str, port: int, token: str, max_connections: int = 64) -> None:
        self.host, self.port = host, port
        # At most this many requests in flight; the others wait for a connection (their latency
        # still runs from their scheduled time), as wrk2 does: an unbounded open loop would open a
        # connection per late request and bury a slow server under thousands of them.
        self._slots = asyncio.Semaphore(max_connections)
        self._auth = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        self._idle: list[tuple[Connection, float]] = []
        self.opened = 0

    async def _send(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        async with self._slots:
            return await self._send_now(head, body)

    async def _send_now(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        conn = None
        while self._idle:
            candidate, since = self._idle.pop()
            # uvicorn closes a keep-alive connection idle for 5 s: never send on one near that.
            if candidate.reader.at_eof() or time.monotonic() - since > 3.0:
                candidate.close()
                continue
            conn = candidate
            break
        if conn is None:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            conn = Connection(reader, writer)
            self.opened += 1
        try:
            result = await conn.request(head, body)
        except BaseException:
            conn.close()
            raise
        self._idle.append((conn, time.monotonic()))
        return result

    async def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        auth = (
            self._auth
            if token is None
            else f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
        )
        return await self._send(f"GET {path} HTTP/1.1\r\n{auth}\r\n".encode(), b"")

    async def post(self, path: str, payload: Any) -> tuple[int, Any]:
        body = json.dumps(payload).encode() if payload is not None else b""
        head = (
            f"POST {path} HTTP/1.1\r\n{self._auth}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        status, data = await self._send(head, body)
        return status, (json.loads(data) if data else None)

    def close(self) -> None:
        for conn, _ in self._idle:
            conn.close()
        self._idle.clear()
