-- The durable timer (shared.timers): each row fires once. A loop claims due rows with
-- FOR UPDATE SKIP LOCKED and marks them fired in the transaction that writes the resulting event
-- to the outbox, so a restart loses none and two replicas never fire one twice.
CREATE TABLE timers (
    timer_id uuid        PRIMARY KEY,
    kind     text        NOT NULL,                     -- what firing means, e.g. legal.deadline
    subject  text        NOT NULL,                     -- the record it belongs to, e.g. case:<id>
    fire_at  timestamptz NOT NULL,
    payload  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status   text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    fired_at timestamptz,
    CHECK ((status = 'fired') = (fired_at IS NOT NULL))
);
CREATE INDEX timers_due ON timers (fire_at) WHERE status = 'pending';
CREATE INDEX timers_by_subject ON timers (subject, kind);
