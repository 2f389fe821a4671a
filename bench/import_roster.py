"""Measure 7: the roster import (批量导入) of a 10,000-line file, rows committed per second.

Enrollment alone on a database and topics of its own: a city, a district and a base union; a
roster of `rows` valid people (scripts/rosters.py, seeded) uploaded as CSV by an admin. Timed:
the dry run (POST /imports, the answer with the line report written) and the commit, from the
202 of POST /imports/{id}/commit until GET /imports/{id} says committed (polled every 200 ms,
so up to 0.2 s late). Each row is an application filed and approved in the service's own
transactions of ~200 rows, with its ApplicationSubmitted and MemberEnrolled to the outbox. CPU
seconds of enrollment, PostgreSQL and Kafka over the commit from /proc (bench/cpu.py).

Alone: `python -m bench.import_roster [rows]` (KAFKA_BOOTSTRAP_SERVERS, POSTGRES_DSN set).
"""

import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any

import httpx

from bench import catchup, cpu
from bench.stack import BenchStack, admin_headers
from scripts.rosters import make_roster

ROWS = 10_000


async def _union(http: httpx.AsyncClient, name: str, kind: str, parent: str | None) -> str:
    body: dict[str, Any] = {"name": name, "kind": kind, "parent_id": parent}
    if parent is None:
        body["region"] = "330100"
    r = await http.post("/unions", json=body)
    r.raise_for_status()
    union_id: str = r.json()["union_id"]
    return union_id


async def measure(bench: BenchStack, rows: int = ROWS) -> dict[str, Any]:
    prefix = bench.prefix("import")
    enrollment = bench.service("enrollment", prefix=prefix, database=bench.database("import_enrollment"))
    bench.rss.phase = "import"
    await bench.start(enrollment)
    try:
        async with httpx.AsyncClient(base_url=enrollment.url, headers=admin_headers(), timeout=600) as http:
            city = await _union(http, f"杭州市总工会-{uuid.uuid4().hex[:6]}", "city", None)
            district = await _union(http, "西湖区总工会", "county", city)
            base = await _union(http, "某物流公司工会", "base", district)
            data = make_roster(rows, base)
            began = time.monotonic()
            r = await http.post(
                "/imports",
                params={"union_id": district, "file_name": "roster.csv"},
                content=data,
                headers={"Content-Type": "text/csv"},
            )
            r.raise_for_status()
            dry_run_s = time.monotonic() - began
            job = r.json()
            before, began = cpu.snapshot(), time.monotonic()
            (await http.post(f"/imports/{job['import_id']}/commit")).raise_for_status()
            state = job
            while state["status"] != "committed":
                await asyncio.sleep(0.2)
                got = await http.get(f"/imports/{job['import_id']}")
                got.raise_for_status()
                state = got.json()
                if state["status"] == "failed":
                    raise RuntimeError(f"the import failed: {state}")
            commit_s = time.monotonic() - began
            split = cpu.split(before, cpu.snapshot(), {"enrollment": enrollment.pid})
    finally:
        await bench.stop(enrollment)
    return {
        "rows": rows,
        "file_mb": round(len(data) / 1e6, 2),
        "ok": job["ok"],
        "dry_run_s": round(dry_run_s, 2),
        "dry_run_rows_per_s": round(rows / dry_run_s),
        "commit_s": round(commit_s, 2),
        "rows_per_s": round(state["done"] / commit_s),
        **cpu.per_request(split, state["done"], commit_s),
    }


def report_row(result: dict[str, Any]) -> str:
    """The results table's row (bench/report.py)."""
    if not result or "rows_per_s" not in result:
        return "| 7 | roster import | not measured | reported | — |"
    return (
        f"| 7 | roster import of {result['rows']:,} lines ({result['file_mb']} MB CSV) | dry run "
        f"{result['dry_run_s']} s ({result['dry_run_rows_per_s']:,} lines/s); commit {result['commit_s']} s, "
        f"**{result['rows_per_s']:,} rows/s** (each an application filed and approved, 2 events); "
        f"{result['cpu_ms_per_request_total']} ms CPU per row in all | reported | — |"
    )


async def _alone(rows: int) -> dict[str, Any]:
    bench = BenchStack(
        run_id=catchup.new_run_id(),
        bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        postgres_dsn=os.environ["POSTGRES_DSN"],
        partitions=3,
    )
    bench.rss.start()
    try:
        return await measure(bench, rows)
    finally:
        await bench.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_alone(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS)), indent=2))
