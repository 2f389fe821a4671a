"""The versioned envelope every event travels in, and the registry of payload contracts.

An event on the wire is the JSON of an EventEnvelope. `event_type` and `schema_version` name a
payload contract registered with `@event_contract`; consumers decode with `decode_event`, which
refuses unknown types and versions with a ContractError (a dead-letter reason, never a crash).
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError


class EventEnvelope(BaseModel):
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
    payload: dict[str, Any]


class EventPayload(BaseModel):
    """Base of every payload contract; subclasses set the two class variables below."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]


class ContractError(ValueError):
    """The bytes are not an event this consumer understands; the message says why."""


class UnknownEventType(ContractError):
    pass


class UnsupportedSchemaVersion(ContractError):
    pass


_REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}

P = TypeVar("P", bound=EventPayload)


def event_contract(event_type: str, version: int) -> Callable[[type[P]], type[P]]:
    def register(cls: type[P]) -> type[P]:
        key = (event_type, version)
        if key in _REGISTRY:
            raise RuntimeError(f"contract {event_type} v{version} is defined twice")
        cls.event_type = event_type
        cls.schema_version = version
        _REGISTRY[key] = cls
        return cls

    return register


def contract_for(event_type: str, version: int) -> type[EventPayload]:
    known_versions = sorted(v for (t, v) in _REGISTRY if t == event_type)
    if not known_versions:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    if version not in known_versions:
        raise UnsupportedSchemaVersion(
            f"{event_type} schema version {version} is not supported (known: {known_versions})"
        )
    return _REGISTRY[(event_type, version)]


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


def decode_event(raw: bytes | None) -> tuple[EventEnvelope, EventPayload]:
    """Parse and validate an envelope and its payload; raise ContractError with the reason."""
    if not raw:
        raise ContractError("empty message")
    try:
        envelope = EventEnvelope.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError(f"invalid envelope: {_summary(exc)}") from exc
    contract = contract_for(envelope.event_type, envelope.schema_version)
    try:
        payload = contract.model_validate(envelope.payload)
    except ValidationError as exc:
        raise ContractError(
            f"invalid {envelope.event_type} v{envelope.schema_version} payload: {_summary(exc)}"
        ) from exc
    return envelope, payload


def _summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)
