"""The versioned envelope every event travels in, and the registry of payload contracts.

An event on the wire is the JSON of an EventEnvelope. `event_type` and `schema_version` name a
payload contract registered with `@event_contract`; consumers decode with `decode_event`, which
refuses unknown types and versions with a ContractError (a dead-letter reason, never a crash).

A contract evolves by adding version n+1 next to version n and an `@upcaster(type, from_version=n)`:
a pure function turning a version-n payload dict into a version-n+1 one. `decode_event` validates a
payload against the contract of the version it arrived in, then lifts it step by step to the latest
version, so consumers only ever see the latest payload class. Producers emit the latest version.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, create_model

from shared.inputs import json_refusal


class EventMetadata(BaseModel):
    """The envelope without its payload: what consumers get back from `decode_event` (with the
    payload as a validated contract) and what they read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    event_type: str = Field(min_length=1, max_length=100)
    schema_version: int = Field(ge=1)
    source: str = Field(min_length=1, max_length=50)
    # The entity the event is about (a member, a union); also the Kafka partition key.
    subject: str = Field(min_length=1, max_length=100)
    # Per-subject sequence number: lets consumers ignore an event older than what they hold.
    subject_version: int = Field(ge=0)
    occurred_at: AwareDatetime
    correlation_id: str = Field(min_length=1, max_length=100)
    causation_id: str | None = Field(default=None, max_length=100)


class EventEnvelope(EventMetadata):
    """An event as producers build it and as it goes on the wire (`encode_event`)."""

    payload: dict[str, Any]


class EventPayload(BaseModel):
    """Base of every payload contract; subclasses set the two class variables below."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    # The parts of its subject's state that the event carries whole ("member", "transfer"): the
    # latest event of each part is also kept on the publisher's compacted state topic, so a
    # reader gets the subject back once the event topic's retention has deleted the history
    # (docs/retention.md). An event that adds to a history (a payment, an award) carries none.
    state_parts: ClassVar[tuple[str, ...]] = ()
    # True when personal fields travel sealed (shared/shredding.py): consumers open them as they
    # decode (shared/person_keys.py), so handlers read clear text.
    carries_sealed: ClassVar[bool] = False

    def carries_state_of(self) -> tuple[str, ...]:
        """The state parts this very event carries whole (a contract may decide per event)."""
        return self.state_parts


class ContractError(ValueError):
    """The bytes are not an event this consumer understands; the message says why."""


class UnknownEventType(ContractError):
    pass


class UnsupportedSchemaVersion(ContractError):
    pass


P = TypeVar("P", bound=EventPayload)
# Turns the JSON payload of version n of a contract into that of version n+1; pure, no I/O.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class ContractRegistry:
    """Payload contracts by (event type, version), and the upcasters between consecutive versions."""

    def __init__(self) -> None:
        self._contracts: dict[tuple[str, int], type[EventPayload]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        # Versions per event type, computed once: asked twice for every event decoded.
        self._versions: dict[str, list[int]] = {}

    def contract(self, event_type: str, version: int) -> Callable[[type[P]], type[P]]:
        def register(cls: type[P]) -> type[P]:
            key = (event_type, version)
            if key in self._contracts:
                raise RuntimeError(f"contract {event_type} v{version} is defined twice")
            cls.event_type = event_type
            cls.schema_version = version
            self._contracts[key] = cls
            self._versions.pop(event_type, None)
            return cls

        return register

    def upcaster(self, event_type: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def register(upcast: Upcaster) -> Upcaster:
            step = f"upcaster {event_type} v{from_version} -> v{from_version + 1}"
            for version in (from_version, from_version + 1):
                if (event_type, version) not in self._contracts:
                    raise RuntimeError(
                        f"{step}: there is no contract {event_type} v{version} "
                        "(register both contracts before the upcaster between them)"
                    )
            if (event_type, from_version) in self._upcasters:
                raise RuntimeError(f"{step} is defined twice")
            self._upcasters[(event_type, from_version)] = upcast
            return upcast

        return register

    def versions(self, event_type: str) -> list[int]:
        found = self._versions.get(event_type)
        if found is None:
            found = sorted(v for (t, v) in self._contracts if t == event_type)
            if found:
                self._versions[event_type] = found
        return found  # shared: callers only read it

    def latest_version(self, event_type: str) -> int:
        versions = self.versions(event_type)
        if not versions:
            raise UnknownEventType(f"unknown event type {event_type!r}")
        return versions[-1]

    def contract_for(self, event_type: str, version: int) -> type[EventPayload]:
        known_versions = self.versions(event_type)
        if not known_versions:
            raise UnknownEventType(f"unknown event type {event_type!r}")
        if version not in known_versions:
            raise UnsupportedSchemaVersion(
                f"{event_type} schema version {version} is not supported (known: {known_versions})"
            )
        return self._contracts[(event_type, version)]

    def check_upcast_chains(self) -> None:
        """Raise RuntimeError unless every registered version lifts, one step at a time, to the latest."""
        for event_type in sorted({t for (t, _) in self._contracts}):
            versions = self.versions(event_type)
            for version in range(versions[0], versions[-1]):
                if (event_type, version + 1) not in self._contracts:
                    raise RuntimeError(
                        f"{event_type} has no contract v{version + 1} between v{versions[0]} "
                        f"and v{versions[-1]}: versions must be consecutive"
                    )
                if (event_type, version) not in self._upcasters:
                    raise RuntimeError(
                        f"{event_type} v{version} cannot reach the latest version v{versions[-1]}: "
                        f"register an @upcaster({event_type!r}, from_version={version})"
                    )

    def latest_payload(self, event_type: str, version: int, data: dict[str, Any]) -> EventPayload:
        """Validate `data` with the contract of its own version, then upcast it to the latest one."""
        payload = self._validate(event_type, version, data, "payload")
        latest = self.latest_version(event_type)
        while payload.schema_version < latest:
            step = payload.schema_version
            # The upcaster sees the validated, canonical JSON form of the older version.
            lifted = self._upcasters[(event_type, step)](payload.model_dump(mode="json"))
            payload = self._validate(event_type, step + 1, lifted, f"payload upcast from v{step}")
        return payload

    def _validate(self, event_type: str, version: int, data: dict[str, Any], what: str) -> EventPayload:
        contract = self.contract_for(event_type, version)
        try:
            return contract.model_validate(data)
        except ValidationError as exc:
            raise ContractError(f"invalid {event_type} v{version} {what}: {_summary(exc)}") from exc


# The one registry every contract module registers into, checked once they are all imported
# (see shared/contracts/__init__.py).
REGISTRY = ContractRegistry()
event_contract = REGISTRY.contract
upcaster = REGISTRY.upcaster
contract_for = REGISTRY.contract_for
latest_version = REGISTRY.latest_version


def new_envelope(
    payload: EventPayload,
    *,
    source: str,
    subject: str,
    subject_version: int,
    correlation_id: str,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        source=source,
        subject=subject,
        subject_version=subject_version,
        occurred_at=occurred_at or datetime.now(UTC),
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload.model_dump(mode="json"),
    )


def encode_event(envelope: EventEnvelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode_event(
    raw: bytes | None, hint: tuple[str, int] | None = None
) -> tuple[EventMetadata, EventPayload]:
    """Parse and validate an envelope and its payload; raise ContractError with the reason.

    The payload comes back as the latest version of its contract (older versions are upcast);
    the metadata is returned as it arrived, so `schema_version` still says what was on the wire.

    `hint` is the (event type, schema version) the record's headers claim. When it names the
    latest version of a contract, envelope and payload are validated in one pass over the bytes
    (a third faster than two passes); a hint that does not match the bytes, or any invalid
    event, takes the general path, which gives the reason.
    """
    if not raw:
        raise ContractError("empty message")
    # Pydantic's parser lets NUL, lone surrogates and huge integers through to the handlers.
    if (refused := json_refusal(raw)) is not None:
        raise ContractError(f"refused by the input policy: {refused}")
    if hint is not None:
        typed = _typed_envelope(*hint)
        if typed is not None:
            try:
                decoded = typed.model_validate_json(raw)
            except ValidationError:
                pass
            else:
                return decoded, decoded.payload  # type: ignore[attr-defined]
    try:
        envelope = EventEnvelope.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError(f"invalid envelope: {_summary(exc)}") from exc
    payload = REGISTRY.latest_payload(envelope.event_type, envelope.schema_version, envelope.payload)
    return envelope, payload


@lru_cache(maxsize=1024)  # hints come from headers: bounded, and unknown names cost nothing
def _typed_envelope(event_type: str, version: int) -> type[EventMetadata] | None:
    """Metadata plus the payload of one contract's latest version, as one model; None for an
    unknown type or an older version (those are upcast on the general path)."""
    versions = REGISTRY.versions(event_type)
    if not versions or version != versions[-1]:
        return None
    return _typed_envelope_of(event_type, version)


@cache  # one model per registered contract (unknown names from headers never get here)
def _typed_envelope_of(event_type: str, version: int) -> type[EventMetadata]:
    contract = REGISTRY.contract_for(event_type, version)
    model: type[EventMetadata] = create_model(
        f"{contract.__name__}Envelope",
        __base__=EventMetadata,
        event_type=(Literal[event_type], ...),  # type: ignore[arg-type]
        schema_version=(Literal[version], ...),  # type: ignore[arg-type]
        payload=(contract, ...),
    )
    return model


def _summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)
