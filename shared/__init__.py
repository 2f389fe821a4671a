"""Code every Zhijia service shares: event contracts, outbox, consumers, auth, logging."""
