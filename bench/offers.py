"""Measure 3: card reads with partner offers, GET /cards/{member_id}/offers, at a steady rate.

The projector that caught up on the day (its database is kept) is started again; the partners
topic gets the rest of the programme (up to 14,000 merchants and 100,000 live offers), which the
projector applies; then a load generator in a separate process (bench/loadgen.py) reads members'
cards and offers open loop. The generator and the projector share the machine's 2 cores.
"""

import asyncio
import json
import signal
import sys
import time
from typing import Any

import asyncpg

from bench import catchup
from bench.stack import RAW, BenchStack, admin_headers, bench_token, profile
from bench.workload import City, member_ids
from shared.auth import Role

MERCHANTS = 14_000
OFFERS = 100_000


async def loadgen(spec: dict[str, Any], name: str) -> dict[str, Any]:
    path = RAW / f"loadgen-{name}.json"
    path.write_text(json.dumps(spec))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", str(path), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


async def measure(
    bench: BenchStack, city: City, prefix: str, database: str, rate: int, seconds: float
) -> dict[str, Any]:
    topics = catchup.projector_topics(prefix)
    merchants = max(MERCHANTS, city.merchants)
    extra = city.partner_events(city.merchants, merchants, city.offers, max(OFFERS, city.offers), merchants)
    added = await catchup.produce(bench.bootstrap, prefix, extra, bench.partitions, topics)
    ends = await catchup.end_offsets(bench.bootstrap, topics)
    total = sum(ends.values())
    projector = bench.service("projector", prefix=prefix, database=database, label="projector (offers)")
    bench.rss.phase = "offers: loading"
    started = time.monotonic()
    await bench.start(projector)
    conn = await asyncpg.connect(projector.dsn)
    try:
        while await catchup.applied_count(conn, f"{prefix}projector") < total:
            await asyncio.sleep(0.1)
        loaded_s = time.monotonic() - started
        live = int(
            await conn.fetchval(
                "SELECT count(*) FROM public.offers WHERE withdrawn_at IS NULL"
                " AND valid_from <= now() AND valid_until > now()"
            )
        )
        merchants_listed = int(await conn.fetchval("SELECT count(*) FROM public.merchants"))
    finally:
        await conn.close()
    members = member_ids(city, limit=2_000)
    # Half the reads by members themselves (their own card), half by the city's cadre.
    tokens, paths = [], []
    admin = admin_headers()["Authorization"].removeprefix("Bearer ")
    cadre = bench_token(Role.CADRE, sub="bench-cadre", union_id=city.unions[0].union_id)
    for k, member in enumerate(members):
        if k % 2 == 0:
            tokens.append(bench_token(Role.MEMBER, sub=f"bench-{member}", member_id=member))
        else:
            tokens.append(cadre if k % 4 == 1 else admin)
        paths.append(f"/cards/{member}")
    spec = {
        "host": "127.0.0.1",
        "port": projector.port,
        "seconds": seconds,
        "tokens": tokens,
        "cpu_named": {"projector": projector.pid},
    }
    results: dict[str, Any] = {"live_offers": live, "merchants": merchants_listed, "loaded_s": loaded_s}
    results["events_added"] = added.by_topic
    results["target_rate"] = rate
    # Stepped up to the target rate; a step the projector cannot sustain ends the climb (beyond
    # it a queue only grows, and its latency says how long the run was, not how fast reads are).
    rates = sorted({r for r in (100, 250, 500, rate) if r <= rate})
    for kind, kind_paths in (("card", paths), ("offers", [f"{p}/offers" for p in paths])):
        steps = []
        for r in rates:
            bench.rss.phase = f"{kind} reads {r}/s"
            spy = None
            # Profiled at the lowest rate only: py-spy takes CPU from the 2 cores too.
            if kind == "offers" and r == rates[0] and projector.pid is not None:
                spy = profile(projector.pid, 600, RAW / "profile-projector-offers.txt")
            step = await loadgen({**spec, "rate": r, "paths": kind_paths}, f"{kind}-{r}")
            step["projector_cpu_cores"] = step["cores_by_part"]["projector"]
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                await asyncio.to_thread(spy.wait)
            steps.append(step)
            lat = step["latency_ms"]
            print(
                f"    {kind} at {r}/s: achieved {step['achieved_rate']:.0f}/s, "
                f"p50 {lat['p50']} p99 {lat['p99']} ms"
            )
            if step["achieved_rate"] < 0.95 * r or (lat["p99"] or 0) > 1000:
                break
        results[f"{kind}_steps"] = steps
    await bench.stop(projector)
    return results
