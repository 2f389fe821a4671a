-- How far each partition of the service's own events topic is known to hold what its relay
-- published, written with the outbox rows' deletion; and the events found on that topic past
-- it that the database does not know (it was restored to an earlier point in time).
-- shared/outbox_reconcile.py reads the topic from there at every start.
CREATE TABLE outbox_published (
    topic     text    NOT NULL,
    partition integer NOT NULL,
    "offset"  bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);

CREATE TABLE outbox_orphans (
    event_id        uuid        PRIMARY KEY,
    topic           text        NOT NULL,
    partition       integer     NOT NULL,
    "offset"        bigint      NOT NULL,
    event_type      text        NOT NULL,
    subject         text        NOT NULL,
    subject_version bigint      NOT NULL,
    found_at        timestamptz NOT NULL DEFAULT now()
);
