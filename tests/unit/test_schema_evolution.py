"""A contract gains a version: old bytes still decode (upcast), unknown versions are refused."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.enrollment.domain.applications import application_channel
from shared.contracts import (
    ContractError,
    UnsupportedSchemaVersion,
    decode_event,
    encode_event,
    latest_version,
    new_envelope,
)
from shared.contracts.enrollment import (
    ApplicationChannel,
    ApplicationSubmitted,
    ApplicationSubmittedV1,
    ApplicationSubmittedV2,
    EmploymentType,
)
from shared.contracts.envelope import REGISTRY, ContractRegistry, EventPayload
from shared.errors import InvalidInput
from shared.shredding import Sealed, new_data_key, seal, unseal

SUBMITTED = "enrollment.ApplicationSubmitted"


def submitted_v1() -> ApplicationSubmittedV1:
    return ApplicationSubmittedV1(
        application_id=uuid.uuid4(), person_id=uuid.uuid4(), name="王五",
        national_id_masked="4403**********1234", base_union_id=uuid.uuid4(), employer="某快递站",
        employment_type=EmploymentType.FLEXIBLE, submitted_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )  # fmt: skip


def wire(contract: EventPayload, **envelope_changes: Any) -> bytes:
    env = new_envelope(contract, source="enrollment", subject=str(uuid.uuid4()), subject_version=1,
                       correlation_id="c-evolve")  # fmt: skip
    return encode_event(env.model_copy(update=envelope_changes))


def test_application_submitted_is_at_version_3_and_the_emitted_class_is_the_latest() -> None:
    assert latest_version(SUBMITTED) == 3
    assert ApplicationSubmitted.schema_version == 3
    assert ApplicationSubmittedV2.schema_version == 2 and ApplicationSubmittedV1.schema_version == 1
    assert ApplicationSubmitted.event_type == ApplicationSubmittedV1.event_type == SUBMITTED


def test_v1_bytes_decode_to_the_v2_model_with_channel_online() -> None:
    v1 = submitted_v1()
    envelope, payload = decode_event(wire(v1))
    assert isinstance(payload, ApplicationSubmitted)
    assert payload.channel is ApplicationChannel.ONLINE
    assert payload.model_dump(exclude={"channel"}) == v1.model_dump()
    assert envelope.schema_version == 1  # the envelope still says what arrived


def test_v2_bytes_decode_to_v3_unchanged() -> None:
    v2 = ApplicationSubmittedV2(**submitted_v1().model_dump(), channel=ApplicationChannel.SERVICE_STATION)
    raw = wire(v2)
    envelope, payload = decode_event(raw)
    assert envelope.schema_version == 2
    assert isinstance(payload, ApplicationSubmitted) and payload.model_dump() == v2.model_dump()
    assert json.loads(raw)["payload"]["channel"] == "service_station"


def test_v3_carries_personal_fields_sealed_and_round_trips() -> None:
    person = uuid.uuid4()
    key = new_data_key()
    clear = submitted_v1().model_dump()
    sealed = {f: seal(key, person, clear[f]) for f in ("name", "national_id_masked", "employer")}
    v3 = ApplicationSubmitted(**{**clear, **sealed, "person_id": person}, channel=ApplicationChannel.WECHAT)
    raw = wire(v3)
    assert "王五" not in raw.decode() and "某快递站" not in raw.decode()
    envelope, payload = decode_event(raw)
    assert envelope.schema_version == 3 and payload == v3
    assert isinstance(payload, ApplicationSubmitted) and isinstance(payload.name, Sealed)
    assert unseal(key, payload.name) == "王五"


def test_a_future_version_is_refused_as_unsupported() -> None:
    with pytest.raises(UnsupportedSchemaVersion, match=r"version 4 is not supported \(known: \[1, 2, 3\]\)"):
        decode_event(wire(submitted_v1(), schema_version=4))


def test_a_malformed_v1_payload_is_reported_as_an_invalid_v1_payload() -> None:
    payload = submitted_v1().model_dump(mode="json")
    del payload["person_id"]
    with pytest.raises(ContractError, match=rf"invalid {SUBMITTED} v1 payload: person_id"):
        decode_event(wire(submitted_v1(), payload=payload))


def test_v1_with_a_channel_is_not_v1() -> None:
    # A v1 payload is checked against v1 first: a v2 field in it is an error, not silently kept.
    payload = {**submitted_v1().model_dump(mode="json"), "channel": "wechat"}
    with pytest.raises(ContractError, match=rf"invalid {SUBMITTED} v1 payload: channel"):
        decode_event(wire(submitted_v1(), payload=payload))


def test_v2_without_a_channel_is_invalid() -> None:
    with pytest.raises(ContractError, match=rf"invalid {SUBMITTED} v2 payload: channel"):
        decode_event(wire(submitted_v1(), schema_version=2))


def test_the_contract_registry_has_no_gaps() -> None:
    REGISTRY.check_upcast_chains()  # also run on import of shared.contracts


# The registry rules, on a registry of their own so the real one stays untouched.


class _V1(EventPayload):
    a: int


class _V2(EventPayload):
    a: int
    b: int


class _V3(EventPayload):
    a: int
    b: int
    c: str


def _registry(*contracts: tuple[int, type[EventPayload]]) -> ContractRegistry:
    registry = ContractRegistry()
    for version, cls in contracts:
        # A fresh subclass each time: registering sets the class variables.
        registry.contract("t.Thing", version)(type(f"Thing{version}", (cls,), {}))
    return registry


def test_an_upcaster_for_a_version_without_a_contract_is_refused() -> None:
    registry = _registry((1, _V1))
    with pytest.raises(RuntimeError, match=r"t.Thing v1 -> v2: there is no contract t.Thing v2"):
        registry.upcaster("t.Thing", from_version=1)(lambda p: {**p, "b": 0})
    with pytest.raises(RuntimeError, match=r"t.Thing v4 -> v5: there is no contract t.Thing v4"):
        registry.upcaster("t.Thing", from_version=4)(lambda p: p)


def test_an_upcaster_defined_twice_is_refused() -> None:
    registry = _registry((1, _V1), (2, _V2))
    registry.upcaster("t.Thing", from_version=1)(lambda p: {**p, "b": 0})
    with pytest.raises(RuntimeError, match="defined twice"):
        registry.upcaster("t.Thing", from_version=1)(lambda p: {**p, "b": 1})


def test_a_missing_upcaster_breaks_the_chain() -> None:
    registry = _registry((1, _V1), (2, _V2), (3, _V3))
    registry.upcaster("t.Thing", from_version=2)(lambda p: {**p, "c": "x"})
    with pytest.raises(RuntimeError, match=r"t.Thing v1 cannot reach the latest version v3"):
        registry.check_upcast_chains()


def test_a_missing_version_breaks_the_chain() -> None:
    registry = _registry((1, _V1), (3, _V3))
    with pytest.raises(RuntimeError, match=r"t.Thing has no contract v2 between v1 and v3"):
        registry.check_upcast_chains()


def test_payloads_are_lifted_step_by_step_to_the_latest_version() -> None:
    registry = _registry((1, _V1), (2, _V2), (3, _V3))
    registry.upcaster("t.Thing", from_version=1)(lambda p: {**p, "b": p["a"] * 10})
    registry.upcaster("t.Thing", from_version=2)(lambda p: {**p, "c": f"from b={p['b']}"})
    registry.check_upcast_chains()
    assert registry.latest_version("t.Thing") == 3
    lifted = registry.latest_payload("t.Thing", 1, {"a": 4})
    assert lifted.schema_version == 3
    assert lifted.model_dump() == {"a": 4, "b": 40, "c": "from b=40"}
    assert registry.latest_payload("t.Thing", 2, {"a": 1, "b": 2}).model_dump()["c"] == "from b=2"


def test_an_upcaster_that_produces_an_invalid_payload_names_the_step() -> None:
    registry = _registry((1, _V1), (2, _V2))
    registry.upcaster("t.Thing", from_version=1)(lambda p: p)  # forgets b
    with pytest.raises(ContractError, match=r"invalid t.Thing v2 payload upcast from v1: b"):
        registry.latest_payload("t.Thing", 1, {"a": 1})


@pytest.mark.parametrize(
    ("stated", "filed_by_cadre", "channel"),
    [
        (None, False, ApplicationChannel.ONLINE),
        (None, True, ApplicationChannel.CADRE),
        (ApplicationChannel.WECHAT, False, ApplicationChannel.WECHAT),
        (ApplicationChannel.SERVICE_STATION, True, ApplicationChannel.SERVICE_STATION),
    ],
)
def test_an_unstated_channel_follows_who_files_the_application(
    stated: ApplicationChannel | None, filed_by_cadre: bool, channel: ApplicationChannel
) -> None:
    assert application_channel(stated, filed_by_cadre=filed_by_cadre) is channel


def test_only_a_cadre_may_claim_to_file_on_a_workers_behalf() -> None:
    with pytest.raises(InvalidInput, match="only a cadre"):
        application_channel(ApplicationChannel.CADRE, filed_by_cadre=False)
