"""An open-loop HTTP GET load generator, run as its own process: `python -m bench.loadgen SPEC.json`.

Each request is sent at its scheduled time (rate/s), on an idle keep-alive connection or a new
one, whether or not earlier requests have answered; its latency runs from the scheduled time to
the last byte of the answer, so a slow server cannot hide behind a slowed-down generator
(coordinated omission). It uses the small client of bench/http.py: the generator competes with
the server for this machine's 2 cores. Prints one JSON object with the results.
"""

import asyncio
import json
import os
import sys
import time
from typing import Any

from bench import cpu
from bench.http import Client


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], int(spec["port"])
    paths: list[str] = spec["paths"]
    tokens: list[str] = spec["tokens"]
    rate, seconds = float(spec["rate"]), float(spec["seconds"])
    client = Client(host, port, tokens[0])
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []

    async def one(k: int, scheduled: float) -> None:
        try:
            async with asyncio.timeout(30):
                status, _ = await client.get(paths[k % len(paths)], tokens[k % len(tokens)])
        except (
            OSError,
            ConnectionError,
            ValueError,
            IndexError,
            TimeoutError,
            asyncio.IncompleteReadError,
        ) as exc:
            if len(errors) < 5:
                errors.append(repr(exc))
            statuses["error"] = statuses.get("error", 0) + 1
            return
        latencies.append(time.monotonic() - scheduled)
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    # Warm-up: a few connections and requests, not measured.
    for k in range(min(200, len(paths))):
        await one(k, time.monotonic())
    latencies.clear()
    statuses.clear()
    n = int(rate * seconds)
    # The CPU of every process over the measured requests only (not start-up or warm-up).
    named = {**spec.get("cpu_named", {}), "load generator": os.getpid()}
    before = cpu.snapshot()
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
    wall = time.monotonic() - t0
    cpu_split = cpu.split(before, cpu.snapshot(), named)
    client.close()
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
        "connections": client.opened,
        **cpu.per_request(cpu_split, n, wall),
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
