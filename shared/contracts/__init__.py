"""Event contracts: every event published by any service is defined here, once."""

from shared.contracts.envelope import (
    ContractError,
    EventEnvelope,
    UnknownEventType,
    UnsupportedSchemaVersion,
    contract_for,
    decode_event,
    encode_event,
    new_envelope,
)

__all__ = [
    "ContractError",
    "EventEnvelope",
    "UnknownEventType",
    "UnsupportedSchemaVersion",
    "contract_for",
    "decode_event",
    "encode_event",
    "new_envelope",
]

# Importing the contract modules registers them, so decode_event knows every event.
from shared.contracts import enrollment as enrollment
