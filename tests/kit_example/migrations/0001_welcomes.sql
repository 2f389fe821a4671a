-- One welcome per member: scheduled when they join, done when its timer fires.
CREATE TABLE welcomes (
    member_id    uuid        PRIMARY KEY,
    union_id     uuid        NOT NULL,
    scheduled_at timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    done_at      timestamptz
);
