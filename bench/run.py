"""`python -m bench --size small`: every measurement in one run, then the report.

Needs KAFKA_BOOTSTRAP_SERVERS and POSTGRES_DSN (`eval "$(deploy/infra.sh env)"`; `make bench` does
it). Everything the run creates (topics `zbench<id>.*`, databases `zbench_<id>_*`) is deleted at
the end, also when it fails.
"""

import argparse
import asyncio
import os
import platform
import subprocess
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import catchup, report
from bench.stack import RAW, BenchStack, top_frames
from bench.workload import SEED, SIZES, City

NOTES = [
    "Backlog: the seeded city's day, produced with the real contracts (shared/contracts) to the bench's "
    "own topics (8 partitions each), keyed by subject as the services key them, by one producer "
    "(acks=1, linger 20 ms, no compression). The projector then starts on an empty database and is timed "
    "from its first batch transaction (min processed_at) until its tracked positions cover every record.",
    "(a) raw consumer: one aiokafka consumer assigned every partition of the projector's topics, "
    "getmany() until the end offsets, no decoding. (b) raw COPY: the rows the projector writes for those "
    "events (its upserts' rows plus one processed_events row per event), built beforehand and "
    "COPYed (copy_records_to_table) into tables of the same columns without keys or indexes; only the "
    "COPY calls are timed. (c) naive projector: the projector's own IdempotentConsumer and handlers, "
    "one transaction per event, on the first 5,000 records (or 30 s), extrapolated to events/s. "
    "(d) decoding alone: the first 100,000 records decoded as the consumers decode, CPU time. (e) writes "
    "alone: the projector's own batch transactions (idempotency rows, handlers, positions) on the first "
    "100,000 records in batches of up to 500, decoded beforehand; only the transactions are timed.",
    "Freshness: commands (40 % applications, 30 % approvals, 30 % transfers) are sent open loop at the "
    "scheduled rate by a small HTTP client in the bench process; a watcher polls the projector's read "
    "model every 10 ms. freshness = command accepted (2xx) -> change visible in the read model; "
    "command = scheduled send time -> accepted, so queueing in front of the enrollment service shows "
    "there. The split uses the Kafka record timestamps set by the enrollment relay's producer.",
    "Card offers: a separate load-generator process (bench/loadgen.py) sends GET /cards/{id} and then "
    "GET /cards/{id}/offers open loop, latency from the scheduled time to the last byte; half the "
    "reads by the member (own card, with relief status), half by the city's cadre or an admin. It shares "
    "the 2 cores with the projector, PostgreSQL and Kafka.",
    "Card page: the web service, partners and the caught-up projector; Debian's headless Chromium "
    "loads /#/card in a fresh context (cold) and opens it again (cached), after 2 loads not "
    "counted; rendered = name, numbers and the QR image in the page, by the browser's clock from "
    "navigation start; weight = transferSize of the document and every resource. Identity's two "
    "small answers come from a stub of the bench behind the web service, with a bench token. Side "
    "by side: GET /cards/{id} straight to the projector and through the web forwarder.",
    "Memory: VmRSS of every service process, sampled every 0.5 s, peak per phase.",
    "Profiles: py-spy (200 Hz, idle frames left out) attached to the projector during the first 10 s of "
    "an extra catch-up run made for the profile only, during the lowest-rate offers reads, and to "
    "enrollment during the first freshness step (py-spy needs CPU too, so it is kept off the figures).",
    "This machine is shared: other engineers' test runs use the same cores during the run (see the load "
    "averages), so absolute figures move from run to run; the ratios are measured side by side.",
]


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgres": _version(["psql", "--version"]),
        "kafka": "Apache Kafka 4.x (deploy/infra.sh, KRaft, single node, 512 MB heap)",
    }


def _version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    except OSError:
        return "?"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--size", choices=sorted(SIZES, key=SIZES.__getitem__), default="small")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--replicas", default="1,2,4", help="projector replicas for the scale-out runs")
    p.add_argument(
        "--skip",
        default="",
        help="comma-separated: catchup,copy,naive,scaleout,reports,freshness,offers,page,import",
    )
    p.add_argument("--fresh-rates", default="100,250,500", help="commands/s for the freshness steps")
    p.add_argument("--fresh-seconds", type=float, default=20.0)
    p.add_argument("--offers-rate", type=int, default=1000)
    p.add_argument("--offers-seconds", type=float, default=20.0)
    p.add_argument("--out", default=str(Path(__file__).parent / "results"))
    return p.parse_args()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    skip = {s for s in args.skip.split(",") if s}
    bench = BenchStack(
        run_id=catchup.new_run_id(),
        bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        postgres_dsn=os.environ["POSTGRES_DSN"],
        partitions=args.partitions,
    )
    city = City(SIZES[args.size], args.seed)
    results: dict[str, Any] = {
        "size": args.size,
        "members": city.members,
        "seed": args.seed,
        "partitions": args.partitions,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": f"make bench SIZE={args.size}",
        "profiles": {},
        "notes": NOTES,
    }
    bench.rss.start()
    began = time.monotonic()
    results["load_before"] = os.getloadavg()
    errors: dict[str, str] = {}

    async def phase(name: str, work: Awaitable[Any]) -> Any:
        """One measurement; a failure is recorded in the results and the run goes on."""
        try:
            return await work
        except Exception as exc:
            log(f"    {name} failed: {exc!r}")
            errors[name] = repr(exc)[:2000]
            return None

    try:
        prefix = bench.prefix("day")
        topics = catchup.projector_topics(prefix)
        replicas = [int(r) for r in args.replicas.split(",") if r]
        if "scaleout" in skip:
            replicas = replicas[:1]
        if "catchup" not in skip:
            log(f"producing the day of a {city.members:,}-member city (seed {args.seed}) to {prefix}*")
            backlog = await catchup.produce(bench.bootstrap, prefix, city.events(), args.partitions, topics)
            results["backlog"] = {
                "events": backlog.events,
                "all_events": sum(backlog.by_topic.values()),
                "by_topic": {t.removeprefix(prefix): n for t, n in sorted(backlog.by_topic.items())},
                "mix": dict(sorted(city.counts.items(), key=lambda kv: -kv[1])),
                "produce_s": backlog.produce_s,
                "mb": backlog.bytes / 1e6,
            }
            log(f"backlog: {backlog.events:,} events for the projector in {backlog.produce_s:.1f}s")

            log("(a) raw aiokafka consumer, same topics, no work")
            results["raw_consumer"] = await phase(
                "raw_consumer", catchup.raw_consumer(bench.bootstrap, topics)
            )
            if "copy" not in skip:
                log("(b) raw PostgreSQL COPY of the same rows")
                results["raw_copy"] = await phase("raw_copy", catchup.raw_copy(bench, city, topics, prefix))
            log("(d) decoding alone: as the consumers decode, on the same records, one core")
            results["decode_only"] = catchup.decode_only(city, topics, prefix)
            log("(e) the projector's writes alone: its batch transactions on events decoded beforehand")
            results["writes_only"] = await phase("writes_only", catchup.writes_only(bench, backlog))
            if "naive" not in skip:
                log("(c) naive projector, one event per transaction")
                results["naive"] = await phase(
                    "naive", catchup.naive_projector(bench, backlog, sample=5000, seconds=30)
                )
            runs = []
            for n in replicas:
                log(f"projector catch-up, {n} replica(s)")
                run_n = await phase(f"projector_x{n}", catchup.projector_catchup(bench, backlog, n))
                if run_n:
                    runs.append(run_n)
                    log(f"    {run_n['events_per_s']:,.0f} events/s ({run_n['catchup_s']:.1f}s)")
            results["projector"] = runs
            # Once more under py-spy, for the profile only: py-spy needs CPU too.
            log("projector catch-up under py-spy (for the profile; not one of the figures)")
            results["projector_profiled"] = await phase(
                "projector_profiled",
                catchup.projector_catchup(
                    bench, backlog, 1, profile_to=RAW / "profile-projector-catchup.txt", label="profiled"
                ),
            )
            results["profiles"]["projector_catchup"] = top_frames(RAW / "profile-projector-catchup.txt")
            if "reports" not in skip:
                from bench import report_rebuild

                log("the reports' rebuild replaying the same backlog")
                results["report_rebuild"] = await phase(
                    "report_rebuild", report_rebuild.measure(bench, backlog)
                )
                if results["report_rebuild"]:
                    log(f"    {results['report_rebuild']['events_per_s']:,.0f} events/s")

        if "freshness" not in skip:
            from bench import freshness

            log("(2) freshness: enrollment commands to the card, open loop")
            rates = [int(r) for r in args.fresh_rates.split(",") if r]
            results["freshness"] = await phase(
                "freshness", freshness.measure(bench, rates, args.fresh_seconds)
            )
            results["profiles"]["enrollment_commands"] = top_frames(RAW / "profile-enrollment-freshness.txt")
        if "offers" not in skip:
            from bench import offers

            if not results.get("projector"):
                results["offers"] = {"skipped": "needs the catch-up run's read model (do not skip catchup)"}
            else:
                log(f"(3) card reads with offers at {args.offers_rate}/s")
                db = results["projector"][0]["database"]
                results["offers"] = await phase(
                    "offers", offers.measure(bench, city, prefix, db, args.offers_rate, args.offers_seconds)
                )
                results["profiles"]["card_offers"] = top_frames(RAW / "profile-projector-offers.txt")
        if "page" not in skip:
            from bench import card_page

            if not results.get("projector"):
                results["card_page"] = {
                    "skipped": "needs the catch-up run's read model (do not skip catchup)"
                }
            else:
                log("(6) the member's card page in headless Chromium, cold and cached")
                results["card_page"] = await phase(
                    "card_page", card_page.measure(bench, prefix, results["projector"][0]["database"])
                )
        if "import" not in skip:
            from bench import import_roster

            log(f"(7) roster import: {import_roster.ROWS:,} lines, dry run then commit")
            results["import_roster"] = await phase("import_roster", import_roster.measure(bench))
    finally:
        results["rss_mb"] = bench.rss.peaks
        results["duration_s"] = time.monotonic() - began
        results["load_after"] = os.getloadavg()
        results["errors"] = errors
        log("cleaning up: stopping services, dropping the bench's databases and topics")
        await bench.close()
    return results


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def main() -> None:
    args = parse()
    RAW.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(args))
    out = Path(args.out)
    paths = report.write(results, out)
    print(report.markdown(results))
    log("wrote " + ", ".join(str(p) for p in paths))
