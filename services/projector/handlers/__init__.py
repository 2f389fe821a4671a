"""Event handlers of the projector: one small function per event type."""
