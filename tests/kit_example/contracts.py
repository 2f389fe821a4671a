"""The greeter's one event. A real service's contracts live in shared/contracts/<service>.py."""

import uuid
from datetime import datetime

from shared.contracts.envelope import EventPayload, event_contract

GREETER_EVENTS = "greeter.events.v1"


@event_contract("greeter.WelcomeDue", 1)
class WelcomeDue(EventPayload):
    member_id: uuid.UUID
    union_id: uuid.UUID
    due_at: datetime
