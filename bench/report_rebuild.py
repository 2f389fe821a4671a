"""The reports' rebuild (services/reports/rebuild.py) replaying the bench's backlog: every source
topic from the beginning into a fresh generation of a fresh database, then the swap; in events
read per second of the whole rebuild (replay, catch-up, swap). Run by bench/run.py after the
projector's catch-up, on the same backlog (skip it with `--skip reports`).

Then the reports service itself on the rebuilt read model: its memory (VmRSS) once ready, after
every report's figures, and after every chart drawn (the chart engine, vl-convert, is large:
issue 19 asks the bench to show what it costs), with each chart's time cold and from the cache."""

import time
from typing import Any

import asyncpg
import httpx

from bench.catchup import Backlog
from bench.stack import PERSON_KEY_SECRET, BenchStack, admin_headers, rss_mb
from bench.stats import percentiles
from services.reports.app import ReportsSettings
from services.reports.rebuild import rebuild
from shared.db import ensure_database


async def measure(bench: BenchStack, backlog: Backlog) -> dict[str, Any]:
    database = bench.database("reports_rebuild")
    settings = ReportsSettings(
        database_url=bench.dsn(database), person_key_secret=PERSON_KEY_SECRET, topic_prefix=backlog.prefix,
        kafka_bootstrap_servers=bench.bootstrap, topic_partitions=bench.partitions, log_level="WARNING",
    )  # fmt: skip
    await ensure_database(settings.database_url)
    totals = await rebuild(settings, progress_every_s=30)
    return {
        "service": await _serve(bench, backlog, database),
        "database": database,
        "events": totals["events"],
        "applied": totals["applied"],
        "duplicates": totals["duplicates"],
        "dead_lettered": totals["dead_lettered"],
        "seconds": totals["seconds"],
        "events_per_s": totals["events_per_s"],
        "replay_s": totals["replay_s"],
        "replay_events_per_s": totals["replay_events_per_s"],
        "swap_lock_ms": totals["lock_ms"],
    }


async def _serve(bench: BenchStack, backlog: Backlog, database: str) -> dict[str, Any]:
    conn = await asyncpg.connect(bench.dsn(database))
    try:
        schema = await conn.fetchval("SELECT active_schema FROM reports_state")
        root = await conn.fetchval(f'SELECT union_id FROM "{schema}".unions WHERE parent_id IS NULL LIMIT 1')
    finally:
        await conn.close()
    reports = bench.service("reports", prefix=backlog.prefix, database=database)
    bench.rss.phase = "reports service"
    await bench.start(reports)
    try:
        pid = reports.pid
        assert pid is not None
        ready_mb = rss_mb(pid)
        figures_ms: list[float] = []
        cold_ms: list[float] = []
        cached_ms: list[float] = []
        async with httpx.AsyncClient(base_url=reports.url, headers=admin_headers(), timeout=120) as http:
            listed = (await http.get("/reports")).raise_for_status().json()["items"]
            charts: list[str] = []
            for item in listed:
                began = time.perf_counter()
                r = (
                    await http.get(f"/reports/{item['report']}", params={"union_id": str(root)})
                ).raise_for_status()
                figures_ms.append((time.perf_counter() - began) * 1000)
                charts += [c["url"] for c in r.json()["charts"]]
            figures_mb = rss_mb(pid)
            for times in (cold_ms, cached_ms):
                for url in charts:
                    began = time.perf_counter()
                    (await http.get(url)).raise_for_status()
                    times.append((time.perf_counter() - began) * 1000)
        return {
            "reports": len(listed),
            "charts": len(charts),
            "rss_ready_mb": ready_mb,
            "rss_after_figures_mb": figures_mb,
            "rss_after_charts_mb": rss_mb(pid),
            "figures_ms": percentiles(figures_ms),
            "chart_cold_ms": percentiles(cold_ms),
            "chart_cached_ms": percentiles(cached_ms),
        }
    finally:
        await bench.stop(reports)


def report_row(result: dict[str, Any]) -> list[str]:
    """The results table's rows (bench/report.py)."""
    if not result or "events_per_s" not in result:
        return ["| 8 | reports' rebuild from the topics | not measured | reported | — |"]
    s = result.get("service") or {}
    cold, cached, figures = (s.get(k) or {} for k in ("chart_cold_ms", "chart_cached_ms", "figures_ms"))

    def mb(key: str) -> str:
        return f"{s[key]:.0f}" if s.get(key) is not None else "—"

    return [
        f"| 8 | reports' rebuild from the topics ({result['events']:,} events, replay and swap) | "
        f"**{result['events_per_s']:,.0f} events/s** ({result['seconds']:.1f} s; swap lock "
        f"{result['swap_lock_ms']:.0f} ms) | reported | — |",
        f"| 8a | reports service: {s.get('reports', 0)} reports' figures, then {s.get('charts', 0)} charts "
        f"drawn (SVG, vl-convert) | figures p50 {figures.get('p50', 0):.0f} ms; chart cold p50 "
        f"{cold.get('p50', 0):.0f} / max {cold.get('max', 0):.0f} ms, "
        f"cached p50 {cached.get('p50', 0):.1f} ms; "
        f"RSS ready {mb('rss_ready_mb')} MB → after figures {mb('rss_after_figures_mb')} MB → after charts "
        f"**{mb('rss_after_charts_mb')} MB** | reported | — |",
    ]
