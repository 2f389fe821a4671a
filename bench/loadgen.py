"""An open-loop HTTP GET load generator, run as its own process: `python -m bench.loadgen SPEC.json`.

Each request is sent at its scheduled time (rate/s), on an idle keep-alive connection or a new
one, whether or not earlier requests have answered; its latency runs from the scheduled time to
the last byte of the answer, so a slow server cannot hide behind a slowed-down generator
(coordinated omission). A hand-written HTTP/1.1 client on asyncio streams: a general client
(httpx) would spend several times more CPU per request on this 2-core machine, where the
generator competes with the server for the CPU. Prints one JSON object with the results.
"""

import asyncio
import json
import sys
import time
from typing import Any


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, host: str, path: str, token: str) -> int:
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], int(spec["port"])
    paths: list[str] = spec["paths"]
    tokens: list[str] = spec["tokens"]
    rate, seconds = float(spec["rate"]), float(spec["seconds"])
    idle: list[Connection] = []
    opened = 0
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []

    async def one(k: int, scheduled: float) -> None:
        nonlocal opened
        conn = idle.pop() if idle else None
        try:
            if conn is None:
                reader, writer = await asyncio.open_connection(host, port)
                conn = Connection(reader, writer)
                opened += 1
            status = await conn.get(f"{host}:{port}", paths[k % len(paths)], tokens[k % len(tokens)])
        except (OSError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            if len(errors) < 5:
                errors.append(repr(exc))
            statuses["error"] = statuses.get("error", 0) + 1
            return
        latencies.append(time.monotonic() - scheduled)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        idle.append(conn)

    # Warm-up: a few connections and requests, not measured.
    for k in range(min(200, len(paths))):
        await one(k, time.monotonic())
    latencies.clear()
    statuses.clear()
    n = int(rate * seconds)
    tasks: list[asyncio.Task[None]] = []
    t0 = time.monotonic() + 0.05
    late = 0.0
    for k in range(n):
        scheduled = t0 + k / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        tasks.append(asyncio.create_task(one(k, scheduled)))
    sent = time.monotonic() - t0
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.writer.close()
    xs = sorted(1000 * x for x in latencies)

    def q(p: float) -> float | None:
        return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))] if xs else None

    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    return {
        "target_rate": rate,
        "seconds": seconds,
        "requests": n,
        "ok": ok,
        "achieved_rate": ok / max(sent, seconds),
        "statuses": statuses,
        "errors": n - ok,
        "error_samples": errors,
        "connections": opened,
        "generator_max_late_ms": 1000 * late,
        "latency_ms": {
            "p50": q(0.5),
            "p90": q(0.9),
            "p99": q(0.99),
            "max": xs[-1] if xs else None,
            "n": len(xs),
        },
    }


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    print(json.dumps(asyncio.run(run(spec))))


if __name__ == "__main__":
    main()
