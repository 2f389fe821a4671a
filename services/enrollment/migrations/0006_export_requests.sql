-- A person's request for a copy of their data (PIPL art. 45): asked by the member, approved by a
-- cadre in scope (or an admin), then read by the member. Each step is in the audit trail too.
CREATE TABLE export_requests (
    request_id   uuid PRIMARY KEY,
    member_id    uuid NOT NULL REFERENCES members,
    status       text NOT NULL CHECK (status IN ('pending', 'approved')),
    requested_at timestamptz NOT NULL,
    approved_by  text,
    approved_at  timestamptz,
    CHECK ((status = 'approved') = (approved_at IS NOT NULL))
);
CREATE INDEX export_requests_by_member ON export_requests (member_id, requested_at);
