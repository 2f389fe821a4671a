"""The bench's CPU accounting (bench/cpu.py): parsing /proc and splitting a step's CPU by process."""

from pathlib import Path

import pytest

from bench import cpu
from bench.cpu import CpuSnapshot

T = cpu.TICK


def stat_line(pid: int, command: str, utime: int, stime: int) -> str:
    # /proc/<pid>/stat: pid (comm) state ppid ... utime (14) stime (15) ...
    rest = ["S", "1", "1", "1", "0", "-1", "4194560", "10", "0", "0", "0", str(utime), str(stime)]
    return f"{pid} ({command}) " + " ".join(rest + ["0"] * 30)


def test_process_times_reads_utime_and_stime_even_with_a_name_holding_parentheses() -> None:
    assert cpu.process_times(stat_line(7, "python", 3 * T, 2 * T)) == ("python", 5.0)
    assert cpu.process_times(stat_line(8, "odd) name (x", T, 0)) == ("odd) name (x", 1.0)


def test_machine_busy_leaves_out_idle_iowait_and_steal() -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat = f"cpu  {10 * T} {1 * T} {5 * T} {100 * T} {7 * T} 0 {2 * T} {50 * T} 0 0\ncpu0 1 2 3\n"
    assert cpu.machine_busy_s(stat) == 18.0


def test_snapshot_reads_a_proc_tree(tmp_path: Path) -> None:
    (tmp_path / "stat").write_text(f"cpu  {4 * T} 0 {T} {9 * T} 0 0 0 0 0 0\n")
    for pid, command in ((12, "postgres"), (13, "java")):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(stat_line(pid, command, T, T))
    (tmp_path / "self").mkdir()  # not a pid: skipped
    (tmp_path / "14").mkdir()  # gone before its stat was read: skipped
    snap = cpu.snapshot(tmp_path)
    assert snap.busy_s == 5.0
    assert snap.processes == {12: ("postgres", 2.0), 13: ("java", 2.0)}


def test_split_groups_by_pid_and_command_and_leaves_the_rest_to_other() -> None:
    before = CpuSnapshot(
        100.0, {1: ("python", 10.0), 2: ("postgres", 5.0), 3: ("postgres", 1.0), 4: ("java", 8.0)}
    )
    after = CpuSnapshot(
        110.0,
        {
            1: ("python", 13.0),  # the projector: 3 s
            2: ("postgres", 6.5),  # 1.5 s
            3: ("bash", 0.5),  # pid reused by another process: not PostgreSQL, counted nowhere
            5: ("postgres", 0.5),  # a backend started during the step: all of its 0.5 s
            4: ("java", 9.0),  # Kafka: 1 s
        },
    )
    out = cpu.split(before, after, {"projector": 1, "gone": None})
    assert out == pytest.approx(
        {"projector": 3.0, "gone": 0.0, "PostgreSQL": 2.0, "Kafka": 1.0, "other": 4.0}
    )


def test_per_request_gives_costs_busy_cores_and_the_machines_ceiling() -> None:
    out = cpu.per_request(
        {"projector": 1.0, "PostgreSQL": 0.5, "other": 0.5}, requests=1000, wall_s=4.0, cores=2
    )
    assert out["cpu_ms_per_request"] == {"projector": 1.0, "PostgreSQL": 0.5, "other": 0.5}
    assert out["cpu_ms_per_request_total"] == 2.0
    assert out["busy_cores"] == 0.5
    assert out["ceiling_per_s"] == 1000  # 2 cores at 2 ms of CPU per request
    assert out["cores_by_part"] == {"projector": 0.25, "PostgreSQL": 0.12, "other": 0.12}
    assert cpu.per_request({"projector": 1.0}, requests=0, wall_s=1.0, cores=2)["ceiling_per_s"] is None
