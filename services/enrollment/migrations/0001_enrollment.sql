CREATE TABLE unions (
    union_id   uuid PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind       text NOT NULL,
    parent_id  uuid REFERENCES unions (union_id),
    region     text NOT NULL,
    path       uuid[] NOT NULL,   -- root .. this union
    path_names text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX unions_sibling_names ON unions (coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), name);
CREATE INDEX unions_path ON unions USING gin (path);

-- One row per natural person (会员实名制): the keyed hash makes one person one member.
CREATE TABLE persons (
    person_id          uuid PRIMARY KEY,
    national_id_hash   bytea NOT NULL UNIQUE,
    national_id_cipher bytea NOT NULL,
    national_id_masked text NOT NULL,
    version            integer NOT NULL DEFAULT 0,   -- per-person event sequence
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE applications (
    application_id  uuid PRIMARY KEY,
    person_id       uuid NOT NULL REFERENCES persons,
    name            text NOT NULL,
    phone           text NOT NULL,
    employer        text NOT NULL,
    employment_type text NOT NULL,
    base_union_id   uuid NOT NULL REFERENCES unions,
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    submitted_by    text NOT NULL,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text
);
CREATE UNIQUE INDEX one_pending_application_per_person ON applications (person_id) WHERE status = 'pending';
CREATE INDEX applications_by_union ON applications (base_union_id, status, submitted_at);

CREATE SEQUENCE membership_number_seq;
CREATE SEQUENCE card_number_seq;

CREATE TABLE members (
    member_id         uuid PRIMARY KEY REFERENCES persons (person_id),
    name              text NOT NULL,
    phone             text NOT NULL,
    employer          text NOT NULL,
    employment_type   text NOT NULL,
    membership_number text NOT NULL UNIQUE,
    card_number       text NOT NULL UNIQUE,
    base_union_id     uuid NOT NULL REFERENCES unions,
    status            text NOT NULL,       -- derived from the periods on every write
    member_since      date NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_by_union ON members (base_union_id, status);

CREATE TABLE membership_periods (
    member_id  uuid NOT NULL REFERENCES members,
    seq        integer NOT NULL,
    union_id   uuid NOT NULL REFERENCES unions,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    end_reason text,
    end_note   text,
    PRIMARY KEY (member_id, seq),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX one_open_period_per_member ON membership_periods (member_id) WHERE ended_at IS NULL;

-- Append-only record of every decision.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    subject        text NOT NULL,
    correlation_id text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
