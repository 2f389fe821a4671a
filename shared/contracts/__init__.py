"""Event contracts: every event published by any service is defined here, once."""

from shared.contracts.envelope import (
    REGISTRY,
    ContractError,
    EventEnvelope,
    EventMetadata,
    UnknownEventType,
    UnsupportedSchemaVersion,
    contract_for,
    decode_event,
    encode_event,
    latest_version,
    new_envelope,
    upcaster,
)

__all__ = [
    "ContractError",
    "EventEnvelope",
    "EventMetadata",
    "UnknownEventType",
    "UnsupportedSchemaVersion",
    "contract_for",
    "decode_event",
    "encode_event",
    "latest_version",
    "new_envelope",
    "upcaster",
]

# Importing the contract modules registers them, so decode_event knows every event.
from shared.contracts import competitions as competitions
from shared.contracts import enrollment as enrollment
from shared.contracts import identity as identity
from shared.contracts import legal as legal
from shared.contracts import partners as partners
from shared.contracts import relief as relief
from shared.contracts import relief_programmes as relief_programmes

# Fail at import, not at the first old event: every older version must upcast to the latest.
REGISTRY.check_upcast_chains()
