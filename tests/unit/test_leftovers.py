"""Which test runs' topics and databases a sweep removes (names only; the removal is integration),
and a database drop that PostgreSQL refuses for a moment."""

import asyncpg

from scripts.leftovers import (
    DATABASE_OF_RUN,
    STALE_AFTER,
    TOPIC_OF_RUN,
    drop_database,
    is_stale,
    new_run_id,
    run_started,
    stale_name,
)

NOW = 1_795_000_000.0


def test_run_id_carries_its_start_time() -> None:
    run = new_run_id(now=NOW)
    assert len(run) == 12
    assert run_started(run) == NOW


def test_young_runs_are_kept_old_and_timeless_ones_are_stale() -> None:
    assert not is_stale(new_run_id(now=NOW - 60), NOW)
    assert not is_stale(new_run_id(now=NOW - STALE_AFTER + 1), NOW)
    assert is_stale(new_run_id(now=NOW - STALE_AFTER - 1), NOW)
    assert is_stale("a1b2c3d4", NOW)  # the older 8-hex ids carry no time


def test_only_test_run_names_match() -> None:
    young, old = new_run_id(now=NOW - 10), new_run_id(now=NOW - 2 * STALE_AFTER)
    topics = [
        f"t{young}.enrollment.events.v1",
        f"t{old}.enrollment.events.v1",
        "t1b7e3ad5.projector.deadletter.v1",
        "enrollment.events.v1",
        "partners.intime-122814.offers.v1",
        "tabcdefgh.not-hex",
        "zbench1.enrollment.events.v1",
    ]
    assert sorted(t for t in topics if stale_name(t, TOPIC_OF_RUN, NOW)) == [
        "t1b7e3ad5.projector.deadletter.v1",
        f"t{old}.enrollment.events.v1",
    ]
    databases = [
        f"zt_{young}_projector",
        f"zt_{old}_projector",
        "zhijia_projector",
        "zt_1b7e3ad5_outbox_a1b2c3",
    ]
    assert sorted(d for d in databases if stale_name(d, DATABASE_OF_RUN, NOW)) == sorted(
        [f"zt_{old}_projector", "zt_1b7e3ad5_outbox_a1b2c3"]
    )


class _Conn:
    """Refuses the DROP as PostgreSQL does while an autovacuum worker is in the database."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.statements: list[str] = []

    async def execute(self, sql: str) -> str:
        self.statements.append(sql)
        if self.refusals:
            self.refusals -= 1
            raise asyncpg.InsufficientPrivilegeError(
                "must be a member of the role whose process is being terminated"
            )
        return "DROP DATABASE"


async def test_a_drop_refused_for_an_autovacuum_worker_is_tried_again() -> None:
    conn = _Conn(refusals=2)
    assert await drop_database(conn, "zt_x_enrollment", attempts=5, pause_s=0) is True  # type: ignore[arg-type]
    assert conn.statements == ['DROP DATABASE IF EXISTS "zt_x_enrollment" WITH (FORCE)'] * 3


async def test_a_drop_refused_every_time_leaves_the_database_without_failing_the_clean_up() -> None:
    conn = _Conn(refusals=10)
    assert await drop_database(conn, "zt_x_enrollment", attempts=3, pause_s=0) is False  # type: ignore[arg-type]
    assert len(conn.statements) == 3
