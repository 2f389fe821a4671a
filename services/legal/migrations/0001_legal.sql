-- Legal's own view of the union tree and of membership, from enrollment's events (as relief).
CREATE TABLE unions (
    union_id   uuid PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL,
    parent_id  uuid,
    region     text NOT NULL,
    path       uuid[] NOT NULL,   -- root .. this union
    path_names text[] NOT NULL
);
CREATE INDEX unions_path ON unions USING gin (path);

CREATE TABLE members (
    member_id     uuid PRIMARY KEY,
    version       integer NOT NULL,
    name          text NOT NULL,
    base_union_id uuid NOT NULL,
    status        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Per-subject event sequence (subject_version of legal events): a member, or a union for letters.
CREATE TABLE event_sequences (
    subject text PRIMARY KEY,
    version integer NOT NULL
);

-- One case-number series for the whole union system (维权2026-000123).
CREATE SEQUENCE case_number_seq;

CREATE TABLE counsel (
    counsel_id            uuid PRIMARY KEY,
    name                  text NOT NULL,
    role                  text NOT NULL CHECK (role IN ('lawyer', 'volunteer', 'adviser')),
    union_id              uuid NOT NULL,         -- the union whose roster it is on
    capacity              integer NOT NULL CHECK (capacity BETWEEN 1 AND 200),
    active                boolean NOT NULL DEFAULT true,
    represented_employers text[] NOT NULL DEFAULT '{}',  -- for the conflict check
    registered_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cases (
    case_id            uuid PRIMARY KEY,
    case_no            text NOT NULL UNIQUE,
    member_id          uuid NOT NULL,            -- the filer
    member_ids         uuid[] NOT NULL,          -- every worker covered, the filer first
    union_id           uuid NOT NULL,            -- the filer's base union when filed
    kind               text NOT NULL,
    employer           text NOT NULL,
    amount_claimed_fen bigint NOT NULL CHECK (amount_claimed_fen >= 0),
    learned_on         date NOT NULL,
    migrant_worker     boolean NOT NULL,
    description        text NOT NULL,
    priority           text NOT NULL CHECK (priority IN ('urgent', 'high', 'normal')),
    priority_reasons   text[] NOT NULL,
    stage              text NOT NULL CHECK (stage IN ('intake', 'consultation', 'mediation',
                           'arbitration', 'litigation', 'closed')),
    disposition        text CHECK (disposition IN ('accept', 'accept_and_close', 'reject', 'pending')),
    reject_reason      text,
    referral           text,
    outcome            text CHECK (outcome IN ('settled', 'award_won', 'award_lost', 'withdrawn',
                           'advice_given', 'rejected')),
    recovered_fen      bigint NOT NULL DEFAULT 0 CHECK (recovered_fen >= 0),
    counsel_id         uuid REFERENCES counsel,
    mediation_accepted_on   date,
    mediated                boolean NOT NULL DEFAULT false,   -- went through mediation
    arbitration_applied_on  date,
    arbitration_accepted_on date,
    award_extended          boolean NOT NULL DEFAULT false,
    award_received_on       date,
    filed_by           text NOT NULL,
    filed_at           timestamptz NOT NULL,
    closed_at          timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((stage = 'closed') = (outcome IS NOT NULL)),
    CHECK ((disposition = 'reject') = (reject_reason IS NOT NULL AND referral IS NOT NULL))
);
CREATE INDEX cases_by_union ON cases (union_id, stage);
CREATE INDEX cases_by_member ON cases USING gin (member_ids);
CREATE INDEX cases_open_by_counsel ON cases (counsel_id) WHERE stage <> 'closed';

-- A retried filing (same Idempotency-Key) answers with the case it first opened; the request's
-- fingerprint tells a different filing under a reused key apart.
CREATE TABLE filing_keys (
    idempotency_key text PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases,
    request_hash    bytea NOT NULL
);

CREATE TABLE counsel_assignments (
    id            bigserial PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases,
    counsel_id    uuid NOT NULL REFERENCES counsel,
    previous_id   uuid REFERENCES counsel,       -- set on a handover
    reason        text NOT NULL,
    assigned_by   text NOT NULL,
    assigned_at   timestamptz NOT NULL
);

-- Supervision letters (一函两书) to one employer, sent by one union.
CREATE TABLE supervisions (
    supervision_id   uuid PRIMARY KEY,
    union_id         uuid NOT NULL,
    employer         text NOT NULL,
    case_id          uuid REFERENCES cases,
    status           text NOT NULL,
    issue            text NOT NULL,
    reminded_on      date NOT NULL,
    opinion_sent_on  date,
    opinion_reply_due date,
    replied_on       date,
    rectified        boolean,
    recommended_on   date,
    inspection_due   date,
    inspection_answered_on date,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supervisions_by_union ON supervisions (union_id, status);

-- The durable deadline scheduler: each row fires once. A loop claims due rows with
-- FOR UPDATE SKIP LOCKED and marks them fired in the transaction that writes the event to the
-- outbox, so a restart loses none and two replicas never fire one twice.
CREATE TABLE deadlines (
    deadline_id    uuid PRIMARY KEY,
    case_id        uuid REFERENCES cases,
    supervision_id uuid REFERENCES supervisions,
    name           text NOT NULL,
    due_on         date NOT NULL,
    notice         text NOT NULL CHECK (notice IN ('approaching', 'missed')),
    fire_at        timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    fired_at       timestamptz,
    CHECK ((case_id IS NULL) <> (supervision_id IS NULL)),
    CHECK ((status = 'fired') = (fired_at IS NOT NULL))
);
CREATE INDEX deadlines_due ON deadlines (fire_at) WHERE status = 'pending';
CREATE INDEX deadlines_by_case ON deadlines (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX deadlines_by_supervision ON deadlines (supervision_id) WHERE supervision_id IS NOT NULL;

-- Append-only trail of every step: who, when, what, why.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    case_id        uuid,
    subject        text NOT NULL,
    reason         text,
    correlation_id text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_by_case ON audit_log (case_id, id) WHERE case_id IS NOT NULL;
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
