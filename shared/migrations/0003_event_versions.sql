-- One per-subject sequence of a service's own events (the envelopes' subject_version), for
-- every service (shared.events). A service that numbered its events elsewhere copies its
-- versions here in its own next migration, so the first event after the upgrade continues the
-- published sequence instead of starting again at 1 (consumers apply only newer versions).
CREATE TABLE event_versions (
    subject text   PRIMARY KEY,
    version bigint NOT NULL CHECK (version > 0)
);
