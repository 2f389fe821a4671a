"""Where the machine's CPU went during a step: every process on it, read from /proc, grouped.

Freshness and card reads are limited by the cores that the services, PostgreSQL, Kafka and the
load generator share. So around each step the bench reads the CPU time of every process and the
machine's own busy time, and reports what one request cost each part and in all. The sum gives
the rate this machine could carry at most (cores ÷ CPU per request), a ceiling measured in the
same step as the latencies, whatever the process layout (more replicas share the same cores).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
# Processes known by their command name; services are named by pid, everything else is "other".
BY_COMMAND = {"postgres": "PostgreSQL", "java": "Kafka"}


@dataclass(frozen=True)
class CpuSnapshot:
    busy_s: float  # all cores, since boot: user, nice, system, irq, softirq (not idle, iowait, steal)
    processes: Mapping[int, tuple[str, float]]  # pid → (command name, user + system seconds)


def machine_busy_s(stat: str) -> float:
    """Busy seconds of all cores from /proc/stat's first line."""
    fields = [int(x) for x in stat.split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / TICK


def process_times(stat: str) -> tuple[str, float]:
    """(command name, user + system seconds) from one /proc/<pid>/stat."""
    # The command name is in parentheses and may itself hold spaces or parentheses.
    head, _, rest = stat.rpartition(")")
    fields = rest.split()  # field 3 (state) is fields[0]; utime, stime are fields 14, 15
    return head.partition("(")[2], (int(fields[11]) + int(fields[12])) / TICK


def snapshot(proc: Path = Path("/proc")) -> CpuSnapshot:
    processes: dict[int, tuple[str, float]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                processes[int(entry.name)] = process_times((entry / "stat").read_text())
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return CpuSnapshot(machine_busy_s((proc / "stat").read_text()), processes)


def split(
    before: CpuSnapshot,
    after: CpuSnapshot,
    named: Mapping[str, int | None],
) -> dict[str, float]:
    """CPU seconds between two snapshots: of each named pid, of PostgreSQL and Kafka (every
    process of theirs, including ones started meanwhile), and "other": the machine's busy time
    left. Take both snapshots while the named processes live (the load generator takes its own)."""
    out: dict[str, float] = {label: 0.0 for label in [*named, *BY_COMMAND.values()]}
    labels = {pid: label for label, pid in named.items() if pid is not None}
    for pid, (command, seconds) in after.processes.items():
        label = labels.get(pid) or BY_COMMAND.get(command)
        if label is None:
            continue
        was = before.processes.get(pid)
        # A pid reused by another process meanwhile counts from zero.
        start = was[1] if was is not None and was[0] == command and was[1] <= seconds else 0.0
        out[label] += seconds - start
    out["other"] = max(0.0, after.busy_s - before.busy_s - sum(out.values()))
    return out


def per_request(
    seconds_by_part: Mapping[str, float], requests: int, wall_s: float, cores: int | None = None
) -> dict[str, Any]:
    """CPU ms per request of each part and in all, the machine's busy cores over the step, and the
    rate the machine's cores could carry at that cost."""
    cores = cores or os.cpu_count() or 1
    total = sum(seconds_by_part.values())
    by_part = {label: round(s / wall_s, 2) for label, s in seconds_by_part.items()} if wall_s > 0 else {}
    ms = {label: round(1000 * s / requests, 3) for label, s in seconds_by_part.items()} if requests else {}
    return {
        "cpu_ms_per_request": ms,
        "cpu_ms_per_request_total": round(1000 * total / requests, 3) if requests else None,
        "busy_cores": round(total / wall_s, 2) if wall_s > 0 else None,
        "cores_by_part": by_part,
        "cores": cores,
        "ceiling_per_s": round(cores * requests / total) if requests and total > 0 else None,
    }
