"""Topic names: one topic per producing service, versioned; partition key = subject."""

ENROLLMENT_EVENTS = "enrollment.events.v1"
RELIEF_EVENTS = "relief.events.v1"
LEGAL_EVENTS = "legal.events.v1"
COMPETITIONS_EVENTS = "competitions.events.v1"


def dead_letter_topic(consumer: str) -> str:
    return f"{consumer}.deadletter.v1"
