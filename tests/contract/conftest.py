"""The contract suite's own stack (its requests would otherwise land in the integration tests'
records) and one seeded world per role."""

import shutil
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ROOT, Stack, running_stack
from tests.contract.harness import REPORT_OF_SESSION
from tests.contract.world import Seeder, World, WorldFactory

LOGS = ROOT / ".run" / "contract-logs"


@pytest.fixture(scope="package")
def contract_stack(infra: dict[str, str], run_id: str) -> Iterator[Stack]:
    """The services' logs stay in .run/contract-logs after the run: a 5xx's traceback is there.
    For this package only: idle, its services would still cost the suites after it CPU."""
    shutil.rmtree(LOGS, ignore_errors=True)
    with running_stack(infra, run_id, LOGS, tag="c") as s:
        yield s


@pytest.fixture(scope="package")
def worlds(contract_stack: Stack) -> Iterator[WorldFactory]:
    """A world per role, seeded the first time the role asks for it."""
    seeded: dict[str, World] = {}
    with httpx.Client(timeout=30) as http:
        seeder = Seeder(contract_stack, http)

        def world(role: str) -> World:
            if role not in seeded:
                seeded[role] = seeder.world(role)
            return seeded[role]

        yield world


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT_OF_SESSION.runs:
        terminalreporter.section("contract suite (schemathesis)")
        for line in REPORT_OF_SESSION.lines():
            terminalreporter.write_line(line)
