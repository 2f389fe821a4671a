"""The run's results as bench/results/results.{json,md,png}."""

import json
from pathlib import Path
from typing import Any

from bench import import_roster, report_rebuild


def _f(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def _cores(run: dict[str, Any]) -> str:
    return "+".join(f"{c:.2f}" for c in run.get("cpu_cores") or []) or "—"


def _ok(passed: bool | None) -> str:
    return "—" if passed is None else ("✅ met" if passed else "❌ below target")


def sustained(step: dict[str, Any]) -> bool:
    """A freshness step counts only if enrollment kept up: commands served at (nearly) the rate
    and not queueing in front of it (half of them accepted within a second of their time)."""
    command_p50 = (step.get("command_ms") or {}).get("p50") or 0
    return bool(
        step.get("sustained") is not False
        and step["achieved_rate"] >= 0.95 * step["target_rate"]
        and command_p50 <= 1000
    )


def verdicts(r: dict[str, Any]) -> dict[str, Any]:
    """The targets of the issue, checked against the run's own figures (ratios side by side)."""
    v: dict[str, Any] = {}
    proj = (r.get("projector") or [{}])[0].get("events_per_s")
    a = (r.get("raw_consumer") or {}).get("events_per_s")
    b = (r.get("raw_copy") or {}).get("events_per_s")
    c = (r.get("naive") or {}).get("events_per_s")
    d = (r.get("decode_only") or {}).get("events_per_s")
    e = (r.get("writes_only") or {}).get("events_per_s")
    if proj and a:
        limit = min(x for x in (a, b) if x)
        v["vs_limit"] = proj / limit
        v["vs_limit_ok"] = proj / limit >= 0.5
    ceilings = [x for x in (d, e) if x]
    if proj and ceilings:
        # Not a target: how close the pipeline comes to what its slower half alone does.
        v["vs_own_ceiling"] = proj / min(ceilings)
    if proj and c:
        v["vs_naive"] = proj / c
        v["vs_naive_ok"] = proj / c >= 10
    fresh = [s for s in (r.get("freshness") or {}).get("steps", []) if s.get("freshness_ms")]
    if fresh:
        top = max(fresh, key=lambda s: s["target_rate"])
        v["freshness_p99_ms"] = top["freshness_ms"]["p99"]
        v["freshness_ok"] = top["target_rate"] >= 500 and top["freshness_ms"]["p99"] < 1000 and sustained(top)
    offers = r.get("offers") or {}
    at_target = [x for x in offers.get("offers_steps") or [] if x["target_rate"] == offers.get("target_rate")]
    if at_target:
        step = at_target[0]
        v["offers_p99_ms"] = step["latency_ms"]["p99"]
        v["offers_ok"] = (step["latency_ms"]["p99"] or 1e9) < 10 and step["achieved_rate"] >= 0.95 * step[
            "target_rate"
        ]
    elif offers.get("offers_steps"):
        v["offers_ok"] = False
    peaks = [mb for phase in (r.get("rss_mb") or {}).values() for mb in phase.values()]
    if peaks:
        v["rss_max_mb"] = max(peaks)
        v["rss_ok"] = max(peaks) < 200
    return v


def _card_page_rows(page: dict[str, Any]) -> list[str]:
    """Measure 6: the member's card page in headless Chromium (issue 18: under 1 s, under 200 KB)."""
    if page.get("skipped"):
        return [f"| 6 | the card page | not measured: {page['skipped']} | < 1 s, < 200 KB | — |"]
    if not page:
        return []
    cold, warm = page["cold_ms"], page["warm_ms"]
    size, cached = page["cold_bytes"], page["warm_bytes"]
    direct, forwarded = page["card_api_direct_ms"], page["card_api_forwarded_ms"]
    fast = cold["max"] < 1000
    light = size["max"] < 200_000
    return [
        f"| 6 | the card page `/#/card`, rendered (name, numbers, QR) from navigation start, "
        f"{page['loads']} fresh browser contexts | cold p50 {_f(cold['p50'])} / p90 {_f(cold['p90'])} / "
        f"max **{_f(cold['max'])} ms**; opened again (cached) p50 {_f(warm['p50'])} ms | < 1 s | "
        f"{_ok(fast)} |",
        f"| 6 | the card page's weight (transferSize of the document and every resource) | cold "
        f"max **{_f(size['max'] / 1000, 1)} KB**; opened again {_f(cached['p50'] / 1000, 1)} KB | < 200 KB | "
        f"{_ok(light)} |",
        f"| 6 | GET /cards/{{id}} through the web forwarder ÷ straight to the projector (p50 of "
        f"{direct['n']} sequential calls each) | {_f(forwarded['p50'], 2)} ms ÷ {_f(direct['p50'], 2)} ms "
        f"= {_f(page['forwarder_ratio_p50'], 2)}× | reported | — |",
    ]


def markdown(r: dict[str, Any]) -> str:
    v = verdicts(r)
    m = r["machine"]
    lines = [
        f"# Zhijia benchmark — SIZE={r['size']} ({r['members']:,} members, seed {r['seed']})",
        "",
        f"Run {r['started_at']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
        f"Python {m['python']}, {m['postgres']}, {m['kafka']}. Kafka, PostgreSQL, the services and the "
        "load generators all share this one machine. Re-run: "
        f"`{r['command']}`. Total {r.get('duration_s', 0):.0f} s.",
        "",
        "Figures are measured side by side in this one run; the targets are checked as ratios. "
        "Absolute numbers are for this machine only.",
        "",
        "| # | measure | result | target | verdict |",
        "|---|---|---|---|---|",
    ]
    back = r.get("backlog", {})
    proj_runs = r.get("projector") or []
    p1 = proj_runs[0] if proj_runs else {}
    a = r.get("raw_consumer", {})
    b = r.get("raw_copy", {})
    c = r.get("naive", {})
    lines.append(
        f"| 1 | projector catch-up from a backlog of {back.get('events', 0):,} events | "
        f"**{_f(p1.get('events_per_s'))} events/s** ({_f(p1.get('catchup_s'), 1)} s, "
        f"projector process at {_cores(p1)} cores) | | |"
    )
    lines.append(
        f"| 1a | raw aiokafka consumer, same topics, no work | {_f(a.get('events_per_s'))} events/s | | |"
    )
    lines.append(
        f"| 1b | raw PostgreSQL COPY of the same rows ({_f(b.get('rows'))} rows) | "
        f"{_f(b.get('events_per_s'))} events/s | | |"
    )
    lines.append(
        f"| 1c | naive projector, one event per transaction ({_f(c.get('events'))}-event sample) | "
        f"{_f(c.get('events_per_s'))} events/s | | |"
    )
    d = r.get("decode_only") or {}
    lines.append(
        "| 1d | decoding alone (as consumers decode: envelope and payload validated, type from the "
        f"headers), CPU time of one core | {_f(d.get('events_per_s'))} events/s | | |"
    )
    e = r.get("writes_only") or {}
    lines.append(
        "| 1e | the projector's writes alone (its batch transactions on events decoded beforehand, "
        f"one connection; {_f(e.get('events'))} events) | {_f(e.get('events_per_s'))} events/s "
        f"({_f(e.get('client_cpu_us_per_event'))} µs of Python CPU per event, the rest is the database) | | |"
    )
    lines.append(
        f"| 1 | projector ÷ min(d, e), its own ceilings | "
        f"{_f(100 * v['vs_own_ceiling'] if 'vs_own_ceiling' in v else None)} % | reported | — |"
    )
    lines.append(
        f"| 1 | projector ÷ min(a, b) | {_f(100 * v['vs_limit'] if 'vs_limit' in v else None)} % | ≥ 50 % | "
        f"{_ok(v.get('vs_limit_ok'))} |"
    )
    lines.append(
        f"| 1 | projector ÷ naive (c) | {_f(v.get('vs_naive'), 1)}× | ≥ 10× | {_ok(v.get('vs_naive_ok'))} |"
    )
    steps = (r.get("freshness") or {}).get("steps", [])
    for step in steps:
        fm = step.get("freshness_ms") or {}
        cm = step.get("command_ms") or {}
        split = step.get("split_ms") or {}
        relay = split.get("accepted_to_published") or {}
        card = split.get("published_to_card") or {}
        verdict = "reported | —"
        queueing = "" if sustained(step) else " (not sustained: commands queue in front of enrollment)"
        if queueing:
            verdict = "reported | not sustained: commands queue in front of enrollment"
        if step["target_rate"] >= 500:
            ok = bool(fm) and fm["p99"] < 1000 and sustained(step)
            verdict = f"p99 < 1 s at 500/s{queueing} | {_ok(ok)}"
        lines.append(
            f"| 2 | freshness at {step['target_rate']} commands/s (achieved {_f(step['achieved_rate'])}/s, "
            f"{step['accepted']:,} accepted, {step['errors']} errors, {step['not_visible']} not seen) | "
            f"p50 {_f(fm.get('p50'))} / p95 {_f(fm.get('p95'))} / p99 **{_f(fm.get('p99'))} ms**; "
            f"of which relay p99 {_f(relay.get('p99'))}, projector p99 {_f(card.get('p99'))} ms; "
            f"command (scheduled → accepted) p50 {_f(cm.get('p50'))} / p99 {_f(cm.get('p99'))} ms; "
            + ", ".join(f"{k} at {c:.2f} cores" for k, c in (step.get("cpu_cores") or {}).items())
            + " "
            f"| {verdict} |"
        )
    if steps and max(s["target_rate"] for s in steps) < 500:
        lines.append(
            "| 2 | freshness at 500 commands/s | not run: a lower rate was not sustained "
            "| p99 < 1 s at 500/s | ❌ below target |"
        )
    offers = r.get("offers") or {}
    if offers.get("skipped"):
        lines.append(f"| 3 | card offers | not measured: {offers['skipped']} | p99 < 10 ms | — |")
    for kind, label in (("card", "GET /cards/{id}"), ("offers", "GET /cards/{id}/offers")):
        for step in offers.get(f"{kind}_steps") or []:
            lat = step.get("latency_ms") or {}
            target = step["target_rate"] == offers.get("target_rate") and kind == "offers"
            lines.append(
                f"| 3 | {label} at {step['target_rate']:.0f} req/s (achieved {_f(step['achieved_rate'])}/s, "
                f"{_f(offers.get('live_offers'))} live offers, {step['errors']} errors) | "
                f"p50 {_f(lat.get('p50'), 1)} / p99 **{_f(lat.get('p99'), 1)} ms**; "
                f"projector at {_f(step.get('projector_cpu_cores'), 2)} cores | "
                + ("p99 < 10 ms at 1,000/s | " + _ok(v.get("offers_ok")) if target else "reported | —")
                + " |"
            )
    if offers.get("offers_steps") and not any(
        x["target_rate"] == offers.get("target_rate") for x in offers["offers_steps"]
    ):
        lines.append(
            f"| 3 | GET /cards/{{id}}/offers at {offers.get('target_rate')} req/s | not run: a lower rate "
            "was not sustained | p99 < 10 ms at 1,000/s | ❌ below target |"
        )
    lines.extend(_card_page_rows(r.get("card_page") or {}))
    if "import_roster" in r:
        lines.append(import_roster.report_row(r["import_roster"] or {}))
    if "report_rebuild" in r:
        lines.extend(report_rebuild.report_row(r["report_rebuild"] or {}))
    peaks: dict[str, float] = {}
    for phase in (r.get("rss_mb") or {}).values():
        for label, mb in phase.items():
            name = label.split("#")[0]
            peaks[name] = max(peaks.get(name, 0.0), mb)
    lines.append(
        "| 4 | peak RSS per service | "
        + ", ".join(f"{k} {mb:.0f} MB" for k, mb in sorted(peaks.items()))
        + f" | < 200 MB each | {_ok(v.get('rss_ok'))} |"
    )
    if proj_runs:
        base = proj_runs[0]["events_per_s"] or 1
        lines.append(
            "| 5 | projector scale-out, "
            f"{r['partitions']} partitions | "
            + "; ".join(
                f"{x['replicas']}× {_f(x['events_per_s'])}/s "
                f"({x['events_per_s'] / base:.2f}×, cores {_cores(x)})"
                for x in proj_runs
            )
            + " | reported | — |"
        )
    lines += cpu_budget(r)
    lines += ["", "## Event mix of the day", "", "| event | count |", "|---|---|"]
    lines += [f"| {k} | {n:,} |" for k, n in (back.get("mix") or {}).items()]
    lines += [
        "",
        "## Memory (peak VmRSS, MB) by phase",
        "",
        "| phase | " + " | ".join(["service", "MB"]) + " |",
        "|---|---|---|",
    ]
    for phase, services in (r.get("rss_mb") or {}).items():
        for label, mb in sorted(services.items()):
            lines.append(f"| {phase} | {label} | {mb:.0f} |")
    profiled = r.get("projector_profiled") or {}
    if profiled.get("events_per_s"):
        lines += [
            "",
            f"The extra catch-up run under py-spy did {profiled['events_per_s']:,.0f} events/s "
            f"(profiler overhead included; the figures above ran without it).",
        ]
    for name, frames in (r.get("profiles") or {}).items():
        if frames:
            lines += [
                "",
                f"## Profile: {name} (py-spy; frames by own time, then the project's by total time)",
                "",
                "| frame | own % | total % |",
                "|---|---|---|",
            ]
            lines += [f"| `{f}` | {own:.1f} | {tot:.1f} |" for f, own, tot in frames]
    lb, la = r.get("load_before"), r.get("load_after")
    if lb and la:
        lines += [
            "",
            f"Machine load (1/5/15-min load average) at the start: {lb[0]:.1f}/{lb[1]:.1f}/{lb[2]:.1f}, "
            f"at the end: {la[0]:.1f}/{la[1]:.1f}/{la[2]:.1f} (2 cores: above 2 means other work was "
            "competing for the CPU).",
        ]
    if r.get("errors"):
        lines += ["", "## Errors", ""] + [f"- {k}: `{v[:300]}`" for k, v in r["errors"].items()]
    notes = r.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def cpu_budget(r: dict[str, Any]) -> list[str]:
    """What one command or read cost the whole machine in each step (bench/cpu.py), and the rate
    the machine's cores could carry at that cost."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for step in (r.get("freshness") or {}).get("steps", []):
        rows.append((f"freshness, {step['target_rate']} commands/s", step))
    offers = r.get("offers") or {}
    for kind, label in (("card", "GET /cards/{id}"), ("offers", "GET /cards/{id}/offers")):
        for step in offers.get(f"{kind}_steps") or []:
            rows.append((f"{label}, {step['target_rate']:.0f} req/s", step))
    rows = [(name, step) for name, step in rows if step.get("cpu_ms_per_request")]
    if not rows:
        return []
    lines = [
        "",
        "## What a request costs this machine (CPU ms per command or read, every process)",
        "",
        "Read from /proc around each step (bench/cpu.py): every process's CPU time and the machine's "
        'busy time, divided by the requests of the step; "other" is the machine\'s busy time that '
        "no listed process accounts for (kernel, exited processes, other people's work). The last "
        "column is the machine's cores divided by the total: the most this machine could carry at "
        "that cost, however the services were laid out in processes.",
        "",
        "| step | CPU ms per request, by process | total | busy cores | at most, on these cores |",
        "|---|---|---|---|---|",
    ]
    for name, step in rows:
        parts = " · ".join(f"{k} {v:.2f}" for k, v in step["cpu_ms_per_request"].items() if v >= 0.005)
        lines.append(
            f"| {name} | {parts} | **{_f(step.get('cpu_ms_per_request_total'), 2)}** | "
            f"{_f(step.get('busy_cores'), 2)} of {step.get('cores')} | {_f(step.get('ceiling_per_s'))}/s |"
        )
    return lines


def _latency_axes(ax: Any, target_ms: float, xlabel: str) -> None:
    """A latency panel: the p99 target as a red line, latency in ms on a log scale, a legend."""
    ax.axhline(target_ms, color="red", linestyle="--", linewidth=1, label="target p99")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("ms")
    ax.set_yscale("log")
    ax.legend(fontsize=8)


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 2, figsize=(13, 8.5))
    axes = list(grid.flat)
    names, values = [], []
    bars = (
        ("projector", None),
        ("raw consumer\n(a)", "raw_consumer"),
        ("COPY\n(b)", "raw_copy"),
        ("naive\n(c)", "naive"),
        ("decode only\n(d)", "decode_only"),
        ("writes only\n(e)", "writes_only"),
    )
    for label, key in bars:
        source = (r.get("projector") or [{}])[0] if key is None else (r.get(key) or {})
        if source.get("events_per_s"):
            names.append(label)
            values.append(source["events_per_s"])
    ax = axes[0]
    colours = {"projector": "tab:blue", "naive\n(c)": "tab:red"}
    ax.bar(names, values, color=[colours.get(n, "tab:gray") for n in names])
    ax.set_yscale("log")
    ax.set_ylabel("events/s (log)")
    ax.set_title("1. catch-up throughput")
    for i, val in enumerate(values):
        ax.text(i, val, f"{val:,.0f}", ha="center", va="bottom", fontsize=8)
    ax = axes[1]
    steps = [s for s in (r.get("freshness") or {}).get("steps", []) if s.get("freshness_ms")]
    if steps:
        x = [s["target_rate"] for s in steps]
        for q in ("p50", "p95", "p99"):
            ax.plot(x, [s["freshness_ms"][q] for s in steps], marker="o", label=f"freshness {q}")
        ax.plot(x, [s["command_ms"]["p99"] for s in steps], marker="x", linestyle=":", label="command p99")
        _latency_axes(ax, target_ms=1000, xlabel="commands/s")
    ax.set_title("2. freshness: accepted → on the card")
    ax = axes[2]
    offers = r.get("offers") or {}
    for kind in ("card", "offers"):
        kind_steps = offers.get(f"{kind}_steps") or []
        if kind_steps:
            x = [s["target_rate"] for s in kind_steps]
            ax.plot(x, [s["latency_ms"]["p99"] for s in kind_steps], marker="o", label=f"{kind} p99")
            ax.plot(
                x,
                [s["latency_ms"]["p50"] for s in kind_steps],
                marker=".",
                linestyle=":",
                label=f"{kind} p50",
            )
    if offers:
        _latency_axes(ax, target_ms=10, xlabel="requests/s")
    ax.set_title("3. card reads (with 100,000 offers)")
    ax = axes[3]
    runs = r.get("projector") or []
    if runs:
        ax.plot([x["replicas"] for x in runs], [x["events_per_s"] for x in runs], marker="o")
        ax.set_xticks([x["replicas"] for x in runs])
        ax.set_xlabel("projector replicas")
        ax.set_ylabel("events/s")
        ax.set_ylim(bottom=0)
    ax.set_title(f"5. scale-out ({r.get('partitions')} partitions, {r['machine']['cores']} cores)")
    fig.suptitle(f"Zhijia bench, SIZE={r['size']} ({r['members']:,} members), {r['started_at']}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(r: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    r["verdicts"] = verdicts(r)
    paths = [out / "results.json", out / "results.md", out / "results.png"]
    paths[0].write_text(json.dumps(r, indent=2, default=str, ensure_ascii=False) + "\n")
    paths[1].write_text(markdown(r))
    plot(r, paths[2])
    return paths
