"""Decoding with the type and version the record's headers claim (one validation pass) gives
exactly what the general path gives, and a lying or missing hint changes nothing but speed."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from bench.workload import City
from shared.consumer import header_hint
from shared.contracts import ContractError, decode_event, encode_event, new_envelope
from shared.contracts.enrollment import ApplicationSubmitted, ApplicationSubmittedV1, EmploymentType
from shared.contracts.envelope import EventEnvelope, EventMetadata
from shared.outbox import event_headers, kafka_headers

METADATA = list(EventMetadata.model_fields)


def hint_of(envelope: Any) -> tuple[str, int] | None:
    return header_hint(kafka_headers(event_headers(envelope)))


def test_every_kind_of_event_decodes_the_same_with_and_without_the_hint() -> None:
    seen: set[str] = set()
    for event in City(300).events():
        raw = event.value()
        fast_meta, fast = decode_event(raw, hint_of(event.envelope))
        slow_meta, slow = decode_event(raw)
        assert type(fast) is type(slow) and fast == slow
        assert {f: getattr(fast_meta, f) for f in METADATA} == {f: getattr(slow_meta, f) for f in METADATA}
        assert not isinstance(fast_meta, EventEnvelope)  # it did take the one-pass path
        seen.add(event.envelope.event_type)
    assert len(seen) >= 20  # the workload's whole event mix went through both paths


def v1_submission() -> bytes:
    v1 = ApplicationSubmittedV1(
        application_id=uuid.uuid4(), person_id=uuid.uuid4(), name="王五",
        national_id_masked="4403**********1234", base_union_id=uuid.uuid4(), employer="某快递站",
        employment_type=EmploymentType.FLEXIBLE, submitted_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )  # fmt: skip
    env = new_envelope(v1, source="enrollment", subject="s", subject_version=1, correlation_id="c")
    return encode_event(env)


def test_an_older_version_is_still_upcast_whatever_the_hint_says() -> None:
    raw = v1_submission()
    for hint in [("enrollment.ApplicationSubmitted", 1), ("enrollment.ApplicationSubmitted", 2), None]:
        meta, payload = decode_event(raw, hint)
        assert isinstance(payload, ApplicationSubmitted) and meta.schema_version == 1


@pytest.mark.parametrize(
    "hint",
    [
        ("enrollment.ApplicationSubmitted", 2),  # true: the one-pass path is tried, and fails
        ("enrollment.MemberLeft", 1),
        ("no.Such", 1),
        ("enrollment.ApplicationSubmitted", 99),
        None,
    ],
)
def test_a_bad_event_gets_the_same_reason_with_any_hint(hint: tuple[str, int] | None) -> None:
    doc = json.loads(v1_submission())
    doc["schema_version"] = 2
    doc["payload"]["channel"] = "online"
    doc["payload"]["employment_type"] = "astronaut"
    raw = json.dumps(doc).encode()
    with pytest.raises(ContractError) as without:
        decode_event(raw)
    with pytest.raises(ContractError) as with_hint:
        decode_event(raw, hint)
    assert "employment_type" in str(without.value)
    assert str(with_hint.value) == str(without.value)


@pytest.mark.parametrize(
    "headers",
    [
        None,
        [],
        [("event_type", b"enrollment.MemberLeft")],
        [("event_type", b"enrollment.MemberLeft"), ("schema_version", b"one")],
        [("event_type", b"\xff\xfe"), ("schema_version", b"1")],
        [("event_type", None), ("schema_version", b"1")],
    ],
)
def test_headers_that_do_not_name_a_type_and_version_give_no_hint(headers: Any) -> None:
    assert header_hint(headers) is None


def test_the_outbox_headers_give_the_hint() -> None:
    assert header_hint([("event_type", b"enrollment.MemberLeft"), ("schema_version", b"1"), ("x", b"y")]) == (
        "enrollment.MemberLeft",
        1,
    )
