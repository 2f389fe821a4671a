-- Transfers (接转) become requests the receiving union answers: pending until accepted, declined,
-- withdrawn or expired. The member moves (membership_periods) only on acceptance.
CREATE TABLE transfer_requests (
    transfer_id     uuid PRIMARY KEY,
    member_id       uuid NOT NULL REFERENCES members,
    from_union_id   uuid NOT NULL REFERENCES unions,
    to_union_id     uuid NOT NULL REFERENCES unions,
    status          text NOT NULL
                    CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn', 'expired')),
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    requested_by    text NOT NULL,
    requested_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text,
    CHECK (from_union_id <> to_union_id),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- One request waits per member at a time.
CREATE UNIQUE INDEX one_pending_transfer_per_member ON transfer_requests (member_id) WHERE status = 'pending';
-- The cadres' inboxes: incoming by receiving union, outgoing by sending union.
CREATE INDEX transfer_requests_incoming ON transfer_requests (to_union_id, status, requested_at);
CREATE INDEX transfer_requests_outgoing ON transfer_requests (from_union_id, status, requested_at);
CREATE INDEX transfer_requests_by_member ON transfer_requests (member_id, requested_at);
