"""Fuzz one service's OpenAPI as one role with schemathesis, and count what happened.

Every operation gets positive and negative cases (negative_data_rejection judges only the
negative ones), half of them with path parameters pointing at seeded records so the requests get
past "not found" into the handlers. Each check runs on its own, so a failure is counted against
the check that found it; failures are recorded, not raised, so every example of every operation
runs (no shrinking: the reproducer is the first request that failed)."""

import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core import NOT_SET
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok

from shared.tabular import XLSX_MEDIA_TYPE, TableFormat, write_table

CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
)
# Small on purpose: the suite runs inside `make test` on a small machine. CONTRACT_MAX_EXAMPLES
# and CONTRACT_SEED let a longer or different hunt run by hand.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "20"))
SEED = int(os.environ.get("CONTRACT_SEED", "15"))
DENIED = (401, 403)
REPORT = Path(__file__).resolve().parents[2] / ".run" / "contract-report.json"

# Schemathesis has no serializer for a spreadsheet (the roster import takes one as its raw body):
# a real workbook, an empty one, a zip that is not a workbook, or any bytes at all.
schemathesis.openapi.media_type(
    XLSX_MEDIA_TYPE,
    st.one_of(
        st.just(write_table(TableFormat.XLSX, ["姓名", "身份证号"], [["张三", "11010519491231002X"]])),
        st.just(write_table(TableFormat.XLSX, [], [])),
        st.just(b"PK\x03\x04not a workbook"),
        st.binary(max_size=256),
    ),
)
# Nor for the admission evidence of 金秋助学 (relief): bytes that begin as the type says, or not.
for _media, _magic in (
    ("application/pdf", b"%PDF-1.4\n"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff\xe0"),
):
    schemathesis.openapi.media_type(
        _media, st.one_of(st.binary(max_size=256).map(_magic.__add__), st.binary(max_size=256))
    )


@dataclass
class Finding:
    operation: str
    check: str
    title: str
    status: int | None
    mode: str
    reproduce: str

    def line(self) -> str:
        return f"{self.operation} [{self.check}] {self.title} (HTTP {self.status}, {self.mode})\n    {self.reproduce}"


@dataclass
class OperationTally:
    requests: int = 0
    past_auth: int = 0
    unsendable: int = 0
    hostile: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


@dataclass
class RunTally:
    """One service fuzzed as one role."""

    service: str
    role: str
    coverage: bool = False
    operations: dict[str, OperationTally] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    # The first failing request per (operation, check, title): one reproducer per kind of failure.
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    seconds: float = 0.0
    # False when the run stopped half-way (an error of the harness or of the schema): its counts
    # cover only the operations before.
    complete: bool = False

    def summary(self) -> dict[str, Any]:
        statuses: Counter[int] = Counter()
        for op in self.operations.values():
            statuses.update(op.statuses)
        return {
            "phases": ["fuzzing", "coverage"] if self.coverage else ["fuzzing"],
            "complete": self.complete,
            "operations": len(self.operations),
            "operations_past_auth": sum(1 for op in self.operations.values() if op.past_auth),
            "requests": sum(op.requests for op in self.operations.values()),
            "requests_past_auth": sum(op.past_auth for op in self.operations.values()),
            "unsendable": sum(op.unsendable for op in self.operations.values()),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "failures": {name: self.failures[name] for name in CHECK_NAMES},
            "operations_never_past_auth": sorted(k for k, op in self.operations.items() if not op.past_auth),
            "hostile_requests": sum(op.hostile for op in self.operations.values()),
            # Operations without a value to replace (no body, no query) or without a valid request.
            "operations_without_hostile_requests": sorted(
                k for k, op in self.operations.items() if not op.hostile
            )
            if self.coverage
            else [],
            "seconds": round(self.seconds, 1),
        }


def _checks() -> list[tuple[str, Any]]:
    load_all_checks()
    return list(zip(CHECK_NAMES, CHECKS.get_by_names(list(CHECK_NAMES)), strict=True))


def load_schema(base_url: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", wait_for_schema=30)
    # Reproducers must show the request as sent (a criterion's "key" is no secret); the token is
    # replaced by $TOKEN below.
    schema.config.output.sanitization.enabled = False
    return schema


def _seeded(operation: Any, seeds: dict[str, list[Any]], i: int) -> tuple[dict[str, str], dict[str, str]]:
    """The i-th choice of seeded path and query parameters (those named like a seeded record)."""

    def pick(names: list[str]) -> dict[str, str]:
        return {n: str(seeds[n][i % len(seeds[n])]) for n in names if n in seeds}

    return pick([p.name for p in operation.path_parameters]), pick([q.name for q in operation.query])


def _strategies(operation: Any, seeds: dict[str, list[Any]]) -> list[Any]:
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    names = [p.name for p in [*operation.path_parameters, *operation.query] if p.name in seeds]
    for i in range(max((len(seeds[n]) for n in names), default=0)):
        path, query = _seeded(operation, seeds, i)
        strategies += [
            operation.as_strategy(mode, path_parameters=path or None, query=query or None) for mode in modes
        ]
    return strategies


def _coverage_cases(operation: Any, seeds: dict[str, list[Any]]) -> Iterator[Any]:
    """Schemathesis's coverage phase: the boundary values of every parameter and property (empty,
    longest, wrong types, missing fields...), deterministic. Every other case gets seeded path and
    query parameters, except the one the case breaks."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    config = operation.schema.config.generation_for(operation=operation, phase="coverage")
    for i, case in enumerate(
        operation.schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=config)
    ):
        if i % 2 == 0:
            data = case.meta.phase.data if case.meta is not None else None
            broken = (
                getattr(data, "parameter", None)
                if case.meta and case.meta.generation.mode.is_negative
                else None
            )
            path, query = _seeded(operation, seeds, i // 2)
            if case.path_parameters is not None:
                case.path_parameters.update({k: v for k, v in path.items() if k != broken})
            if case.query is not None:
                case.query.update({k: v for k, v in query.items() if k != broken})
        yield case


# Values schemathesis rarely or never generates, each one a class of issue 15: NUL and lone
# surrogates in text, integers past 64 bits, NaN and infinities, calendar edges, a huge string.
HOSTILE_TEXT = ("a\x00b", "\ud800x")
HOSTILE_INTS = (2**63, -(2**63) - 1, 10**100)
HOSTILE_NUMBERS = (math.nan, math.inf, -math.inf)
HOSTILE_NUMERIC_TEXT = ("NaN", "Infinity", "1e999999", "-0")
HOSTILE_DATES = ("0001-01-01", "9999-12-31", "2023-02-29")
HOSTILE_DATETIMES = ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00")
LONG_TEXT = "长" * 300_000
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def _hostile_values(value: Any) -> list[tuple[Any, str]]:
    """Hostile replacements for a valid value, each with its class."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [(n, "huge integer") for n in HOSTILE_INTS] + [(n, "NaN or infinity") for n in HOSTILE_NUMBERS]
    if not isinstance(value, str):
        return []
    text = [(HOSTILE_TEXT[0], "NUL in text"), (HOSTILE_TEXT[1], "lone surrogate in text")]
    if DATE.match(value):
        return [(d, "date edge") for d in HOSTILE_DATES]
    if DATETIME.match(value):
        return [(d, "datetime edge") for d in HOSTILE_DATETIMES]
    if NUMERIC.match(value):
        return [(n, "NaN or huge number as text") for n in HOSTILE_NUMERIC_TEXT] + text
    return text


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _hostile_cases(base: Any) -> Iterator[tuple[Any, str]]:
    """The base case (a valid one) with one value at a time replaced by a hostile one, in the
    body and in the query, each with its class and place. NaN and infinities go out as the
    literal JSON tokens Python writes (no JSON library sends them)."""
    operation = base.operation
    body = base.body if isinstance(base.body, dict | list) else None
    query = dict(base.query or {})
    make = partial(
        operation.schema.make_case,
        operation=operation,
        path_parameters=dict(base.path_parameters or {}),
        media_type=base.media_type,
    )
    if body is not None:
        for path, value in _leaves(body):
            where = "body." + ".".join(map(str, path))
            for new, klass in _hostile_values(value):
                payload = _replaced(body, path, new)
                if isinstance(new, float) and not math.isfinite(new):
                    payload = json.dumps(payload).encode()
                yield make(query=query, body=payload), f"{klass} in {where}"
        text = next((path for path, value in _leaves(body) if isinstance(value, str)), None)
        if text is not None:
            yield make(query=query, body=_replaced(body, text, LONG_TEXT)), "900 kB of text in the body"
    for name, value in query.items():
        for new, klass in _hostile_values(value):
            hostile = {**query, name: str(new) if isinstance(new, float) else new}
            case = make(query=hostile, body=base.body) if body is not None else make(query=hostile)
            yield case, f"{klass} in query.{name}"


def fuzz(
    tally: RunTally,
    schema: Any,
    base_url: str,
    headers: dict[str, str],
    seeds: dict[str, list[Any]],
    *,
    coverage: bool,
    examples: dict[str, dict[str, Any]],
    renew: Callable[[], dict[str, str]] | None = None,
) -> None:
    """`renew` gives fresh headers, taken before each operation: an access token lives 15
    minutes, a run may take longer."""
    started = time.monotonic()
    tally.coverage = coverage
    checks = _checks()
    session = requests.Session()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            err = result.err()
            key = ("schema", "schema", str(err)[:120])
            tally.failures["schema"] += 1
            tally.findings[key] = Finding("schema", "schema", str(err)[:500], None, "-", "-")
            continue
        operation = result.ok()
        example = examples.get(operation.label)
        if renew is not None:
            headers.update(renew())
        _fuzz_operation(tally, operation, checks, session, base_url, headers, seeds, coverage, example)
    tally.seconds = time.monotonic() - started
    tally.complete = True


def _fuzz_operation(
    tally: RunTally,
    operation: Any,
    checks: list[tuple[str, Any]],
    session: requests.Session,
    base_url: str,
    headers: dict[str, str],
    seeds: dict[str, list[Any]],
    coverage: bool,
    example: dict[str, Any] | None,
) -> None:
    label = operation.label
    op = tally.operations.setdefault(label, OperationTally())

    # Valid cases and how far they got: the hostile values go into the one that got furthest.
    bases: list[tuple[int, int, Any]] = []

    def send(case: Any, mode: str | None = None) -> None:
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=15)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeEncodeError):
            # A request no HTTP client can put on the wire (e.g. a newline in a header): counted.
            op.unsendable += 1
            return
        except requests.exceptions.RequestException as exc:
            _record(
                tally,
                label,
                "not_a_server_error",
                f"no answer: {type(exc).__name__}",
                None,
                case,
                headers,
                base_url,
                mode,
            )
            op.requests += 1
            return
        op.requests += 1
        op.statuses[response.status_code] += 1
        if mode is None and case.meta is not None and not case.meta.generation.mode.is_negative:
            bases.append((_base_rank(response.status_code), len(bases), case))
        if response.status_code not in DENIED:
            op.past_auth += 1
        for name, check in checks:
            try:
                case.validate_response(
                    response,
                    checks=[check],
                    headers=headers,
                    transport_kwargs={"base_url": base_url, "headers": headers, "session": session},
                )
            except FailureGroup as group:
                for failure in group.exceptions:
                    title = _title(failure)
                    _record(tally, label, name, title, response.status_code, case, headers, base_url, mode)

    def fuzzed(case: Any) -> None:
        send(case)

    test = hypothesis.given(case=st.one_of(_strategies(operation, seeds)))(fuzzed)
    test = hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=False,
        print_blob=False,
    )(test)
    hypothesis.seed(SEED)(test)()
    if example is not None:
        # A request the seeding showed valid: the hostile values go into it first of all.
        path, query = _seeded(operation, seeds, 0)
        path |= example.get("path", {})
        missing = {p.name for p in operation.path_parameters} - set(path)
        assert not missing, f"the example of {label} names no {missing}: seed them or give them in its path"
        case = operation.schema.make_case(
            operation=operation,
            path_parameters=path,
            query={**query, **example.get("query", {})},
            body=example.get("body", NOT_SET),
            media_type="application/json" if "body" in example else None,
        )
        send(case, "example")
        bases.append((-1, 0, case))
    if coverage:
        for case in _coverage_cases(operation, seeds):
            send(case)
        for case, klass in _hostile_cases(min(bases)[2]) if bases else ():
            op.hostile += 1
            send(case, f"hostile: {klass}")


def _base_rank(status: int) -> int:
    """Accepted first, then refused by a handler's rule, then refused for lack of a record;
    refused by validation last (a hostile value put there would never reach the handler)."""
    if status < 300:
        return 0
    return {409: 1, 404: 2, 403: 3, 422: 5}.get(status, 4)


def _title(failure: Failure) -> str:
    return failure.title.splitlines()[0][:160]


def _record(
    tally: RunTally,
    label: str,
    check: str,
    title: str,
    status: int | None,
    case: Any,
    headers: dict[str, str],
    base_url: str,
    mode: str | None,
) -> None:
    tally.failures[check] += 1
    # One reproducer per kind: per operation, check, failure and class of hostile value.
    key = (label, check, title + (mode or "").partition(" in ")[0].removeprefix("hostile"))
    if key not in tally.findings:
        if mode is None:
            mode = case.meta.generation.mode.value if case.meta is not None else "?"
        try:
            # `make token ROLE=...` mints a token to paste back.
            curl = case.as_curl_command(headers=headers, base_url=base_url)
            curl = curl.replace(
                f"'Authorization: {headers['Authorization']}'", '"Authorization: Bearer $TOKEN"'
            )
        except Exception as exc:  # the reproducer must not hide the failure itself
            curl = f"(no curl: {exc!r}) {case!r}"
        if len(curl) > 3000:  # the 900 kB text
            curl = curl[:3000] + " ...(cut)"
        tally.findings[key] = Finding(label, check, title, status, mode, curl)


@dataclass
class Report:
    """Every run of the session, written to .run/contract-report.json after each one."""

    runs: list[RunTally] = field(default_factory=list)

    def add(self, run: RunTally) -> None:
        self.runs.append(run)
        self.write()

    def as_dict(self) -> dict[str, Any]:
        services: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            services.setdefault(run.service, {})[run.role] = run.summary()
        return {
            "settings": {"max_examples": MAX_EXAMPLES, "seed": SEED, "checks": list(CHECK_NAMES)},
            "seconds": round(sum(r.seconds for r in self.runs), 1),
            "failures": sum(sum(r.failures.values()) for r in self.runs),
            "services": services,
            "findings": [
                {"service": run.service, "role": run.role, **vars(f)}
                for run in self.runs
                for f in run.findings.values()
            ],
        }

    def write(self) -> None:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2))

    def lines(self) -> list[str]:
        out = [f"contract suite: {len(self.runs)} runs, report in {REPORT}"]
        out.append(f"  {'service':<13} {'role':<8} {'ops':>4} {'past auth':>9} {'requests':>8} failures")
        for run in self.runs:
            s = run.summary()
            failed = ", ".join(f"{k}={v}" for k, v in s["failures"].items() if v) or "0"
            out.append(
                f"  {run.service:<13} {run.role:<8} {s['operations']:>4} {s['operations_past_auth']:>9}"
                f" {s['requests']:>8} {failed}  ({s['seconds']}s{'' if run.complete else ', STOPPED HALF-WAY'})"
            )
        return out


REPORT_OF_SESSION = Report()
