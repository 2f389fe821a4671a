"""Every service's OpenAPI fuzzed by schemathesis, signed in as each role, on seeded records:
no check may fail (issue 15). Numbers per service and role: .run/contract-report.json."""

import pytest

from scripts import stack
from shared.auth import Role
from tests.conftest import RunningService, Stack
from tests.contract.harness import REPORT_OF_SESSION, RunTally, fuzz, load_schema
from tests.contract.world import World, WorldFactory

pytestmark = pytest.mark.integration

# Enrollment last: its requests (a member leaves, is transferred) change what the others see.
SERVICES = ["identity", "projector", "relief", "legal", "competitions", "partners", "reports", "enrollment"]
# The coverage phase's boundary cases (a few thousand requests) run once per service, as the role
# that gets furthest into its handlers; the random phase runs as every role.
COVERAGE_ROLES = ("admin", "partner")
# The partner's API key is only ever accepted by the partners service.
RUNS = [(role, service) for role in ("member", "cadre", "admin") for service in SERVICES] + [
    ("partner", "partners")
]


def signed_in(s: Stack, role: str, world: World) -> dict[str, str]:
    if role == "partner":
        return {"Authorization": f"Bearer {world.partner_key}"}
    if role == "member":
        return s.headers(Role.MEMBER, member_id=world.member_id)
    if role == "cadre":
        return s.headers(Role.CADRE, union_id=world.units["district"])
    return s.headers(Role.ADMIN)


@pytest.mark.parametrize(("role", "service"), RUNS, ids=[f"{r}-{s}" for r, s in RUNS])
def test_no_check_fails(role: str, service: str, contract_stack: Stack, worlds: WorldFactory) -> None:
    world = worlds(role)
    url = contract_stack.services[service].url
    run = RunTally(service, role)
    try:
        headers = signed_in(contract_stack, role, world)
        schema, seeds, examples = load_schema(url), world.seeds[service], world.examples.get(service, {})
        fuzz(
            run, schema, url, headers, seeds, coverage=role in COVERAGE_ROLES, examples=examples,
            renew=lambda: signed_in(contract_stack, role, world),
        )  # fmt: skip
    finally:
        REPORT_OF_SESSION.add(run)
    service_crashed = _restart_if_dead(contract_stack.services[service])
    assert not service_crashed, f"{service} as {role}: the service process died:\n{service_crashed}"
    summary = run.summary()
    assert summary["requests"] > 0, f"{service} as {role}: no request was sent"
    failed = "\n".join(f.line() for f in run.findings.values())
    assert not run.failures, f"{service} as {role}: {dict(run.failures)}\n{failed}"


def _restart_if_dead(svc: RunningService) -> str:
    """A service that died under the requests is a failure of its own; it is started again so the
    runs after this one still test it. Returns the end of its log, or "" when it lives."""
    if svc.proc is not None and svc.proc.poll() is None:
        return ""
    log = stack.tail(svc.log_path, 40)
    svc.start()
    return log
