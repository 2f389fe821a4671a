"""Topic names: one topic per producing service, versioned; partition key = subject."""

ENROLLMENT_EVENTS = "enrollment.events.v1"
RELIEF_EVENTS = "relief.events.v1"
LEGAL_EVENTS = "legal.events.v1"
COMPETITIONS_EVENTS = "competitions.events.v1"
PARTNERS_EVENTS = "partners.events.v1"
IDENTITY_EVENTS = "identity.events.v1"


def state_topic(events_topic: str) -> str:
    """The compacted topic next to an events topic that keeps, per subject and state part, the
    latest event carrying that part whole (`EventPayload.state_parts`; docs/retention.md)."""
    head, sep, version = events_topic.rpartition(".events.")
    assert sep, f"not an events topic: {events_topic}"
    return f"{head}.state.{version}"


def is_state_topic(topic: str) -> bool:
    return ".state.v" in topic


ENROLLMENT_STATE = state_topic(ENROLLMENT_EVENTS)
RELIEF_STATE = state_topic(RELIEF_EVENTS)
LEGAL_STATE = state_topic(LEGAL_EVENTS)

# Each person's data key (crypto-shredding, shared/person_keys.py), keyed by person id; compacted
# like a state topic, so it holds every living person's key and an erased person's marker.
PERSON_KEYS = "enrollment.person-keys.v1"


def is_compacted_topic(topic: str) -> bool:
    return is_state_topic(topic) or topic.endswith(PERSON_KEYS)


def dead_letter_topic(consumer: str) -> str:
    return f"{consumer}.deadletter.v1"


def partner_offers_topic(partner_id: str) -> str:
    """Where one partner publishes its offer events (only it may write there)."""
    return f"partners.{partner_id}.offers.v1"


def partner_rejections_topic(partner_id: str) -> str:
    """Where one partner reads why its events were rejected (only it may read there)."""
    return f"partners.{partner_id}.rejections.v1"
