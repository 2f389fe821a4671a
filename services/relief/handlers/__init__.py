"""Relief's use cases: each command is one transaction (state, audit trail, outgoing events)."""
