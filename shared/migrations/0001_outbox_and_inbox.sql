-- Transactional outbox: a service writes its state change and the event in one transaction;
-- the relay publishes rows in id order and deletes them once Kafka has acknowledged them.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text        NOT NULL,
    key         text        NOT NULL,
    event_id    uuid        NOT NULL UNIQUE,
    event_type  text        NOT NULL,
    headers     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    value       bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Idempotent consumer: an event id is recorded in the same transaction as its effects,
-- so a redelivered event is recognised and changes nothing.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Where each consumer stands in each partition, written with its effects.
CREATE TABLE consumer_positions (
    consumer   text        NOT NULL,
    topic      text        NOT NULL,
    partition  integer     NOT NULL,
    "offset"   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);
