-- Relief's own view of the union tree, from enrollment's UnionRegistered events.
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

-- Relief's own view of membership, from enrollment's member events. `version` is enrollment's
-- per-member version: an older snapshot never overwrites a newer one.
CREATE TABLE members (
    member_id     uuid PRIMARY KEY,
    version       integer NOT NULL,
    name          text NOT NULL,
    base_union_id uuid NOT NULL,
    status        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Relief's own per-member event sequence (subject_version of relief events).
CREATE TABLE event_sequences (
    member_id uuid PRIMARY KEY,
    version   integer NOT NULL
);

CREATE SEQUENCE disclosure_number_seq;

-- One file per household (一户一档).
CREATE TABLE cases (
    case_id              uuid PRIMARY KEY,
    member_id            uuid NOT NULL,
    union_id             uuid NOT NULL,            -- the union that follows the case
    household_hash       bytea NOT NULL,           -- keyed hash of the household register number
    household_no_masked  text NOT NULL,
    channel              text NOT NULL CHECK (channel IN ('self_application', 'grid_report')),
    status               text NOT NULL CHECK (status IN ('reported', 'verification_requested',
                             'verified', 'declined', 'in_disclosure', 'plan_requested', 'in_register',
                             'exit_requested', 'exited', 'suspended', 'withdrawn')),
    suspended_from       text,
    flagged              boolean NOT NULL DEFAULT false,
    flag_reason          text,
    -- Current figures: as reported, then as the latest home visit found them.
    household_size       integer NOT NULL CHECK (household_size BETWEEN 1 AND 50),
    monthly_income_fen   bigint NOT NULL CHECK (monthly_income_fen >= 0),
    causes               text[] NOT NULL,
    cause_note           text NOT NULL DEFAULT '',
    tier                 text CHECK (tier IN ('deep', 'relative', 'accident')),
    previous_case_id     uuid REFERENCES cases,    -- re-entry: the file this one follows
    pending_transfer_to  uuid,                     -- the member moved; awaiting that union's acceptance
    opened_at            timestamptz NOT NULL,
    verified_at          timestamptz,
    disclosure_no        text UNIQUE,
    disclosure_starts_at timestamptz,
    disclosure_ends_at   timestamptz,
    proposed_aid         text[] NOT NULL DEFAULT '{}',
    plan_aid             text[] NOT NULL DEFAULT '{}',
    plan_summary         text NOT NULL DEFAULT '',
    approved_at          timestamptz,
    next_review_due      date,
    exited_at            timestamptz,
    closed_at            timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'suspended') = (suspended_from IS NOT NULL)),
    CHECK (flagged = (flag_reason IS NOT NULL))
);
CREATE UNIQUE INDEX one_open_case_per_member ON cases (member_id)
    WHERE status NOT IN ('declined', 'exited', 'withdrawn');
CREATE UNIQUE INDEX one_open_case_per_household ON cases (household_hash)
    WHERE status NOT IN ('declined', 'exited', 'withdrawn');
CREATE INDEX cases_by_union ON cases (union_id, status);
CREATE INDEX cases_due_review ON cases (next_review_due) WHERE status = 'in_register';
CREATE INDEX cases_in_disclosure ON cases (disclosure_ends_at) WHERE status = 'in_disclosure';

-- Every report about a household, the first and those that joined its open file.
CREATE TABLE case_reports (
    report_id          uuid PRIMARY KEY,
    case_id            uuid NOT NULL REFERENCES cases,
    member_id          uuid NOT NULL,
    channel            text NOT NULL,
    reported_by        text NOT NULL,
    household_size     integer NOT NULL,
    monthly_income_fen bigint NOT NULL,
    causes             text[] NOT NULL,
    note               text NOT NULL,
    joined             boolean NOT NULL,
    reported_at        timestamptz NOT NULL
);
CREATE INDEX case_reports_by_case ON case_reports (case_id, reported_at);

-- Home visits (入户调查): to verify, to re-verify yearly, to review an exit.
CREATE TABLE visits (
    visit_id           uuid PRIMARY KEY,
    case_id            uuid NOT NULL REFERENCES cases,
    purpose            text NOT NULL CHECK (purpose IN ('verification', 'reverification', 'exit_review')),
    visited_on         date NOT NULL,
    visited_by         text NOT NULL,
    household_size     integer NOT NULL,
    monthly_income_fen bigint NOT NULL CHECK (monthly_income_fen >= 0),
    causes             text[] NOT NULL,
    findings           text NOT NULL,
    guarantees         jsonb,                     -- the five guarantees, on an exit review
    recorded_at        timestamptz NOT NULL
);
CREATE INDEX visits_by_case ON visits (case_id, recorded_at);

-- At most one overridden eligibility criterion per case, always with a reason.
CREATE TABLE eligibility_overrides (
    case_id       uuid PRIMARY KEY REFERENCES cases,
    criterion     text NOT NULL,
    reason        text NOT NULL CHECK (length(reason) > 0),
    tier          text,
    overridden_by text NOT NULL,
    overridden_at timestamptz NOT NULL
);

CREATE TABLE approval_steps (
    step_id       uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases,
    step          text NOT NULL CHECK (step IN ('verification', 'plan', 'exit')),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL,
    request_note  text NOT NULL,
    -- cancelled: the case was withdrawn while the step waited
    decision      text NOT NULL DEFAULT 'pending'
                  CHECK (decision IN ('pending', 'approved', 'rejected', 'cancelled')),
    decided_by    text,
    decided_at    timestamptz,
    decision_note text,
    CHECK ((decision = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX one_pending_step_per_case ON approval_steps (case_id) WHERE decision = 'pending';

CREATE TABLE objections (
    objection_id uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases,
    objector     text NOT NULL,
    content      text NOT NULL,
    recorded_by  text NOT NULL,
    raised_at    timestamptz NOT NULL,
    answer       text,
    answered_by  text,
    answered_at  timestamptz,
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);
CREATE INDEX objections_by_case ON objections (case_id, raised_at);

-- Follow-up contacts with households that left hardship.
CREATE TABLE follow_ups (
    follow_up_id uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases,
    contacted_on date NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('phone', 'visit', 'message')),
    notes        text NOT NULL,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL
);

-- A union's yearly budget per aid type. The CHECK is the last line of defence; disbursements
-- draw with a conditional update (spent + amount <= total) so they never reach it.
CREATE TABLE budgets (
    union_id   uuid NOT NULL,
    year       integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    aid_type   text NOT NULL,
    total_fen  bigint NOT NULL CHECK (total_fen >= 0),
    spent_fen  bigint NOT NULL DEFAULT 0 CHECK (spent_fen >= 0 AND spent_fen <= total_fen),
    set_by     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (union_id, year, aid_type)
);

CREATE TABLE disbursements (
    disbursement_id uuid PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases,
    member_id       uuid NOT NULL,
    union_id        uuid NOT NULL,                -- the union following the case when paid
    budget_union_id uuid NOT NULL,
    aid_type        text NOT NULL,
    year            integer NOT NULL,
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    note            text NOT NULL,
    paid_by         text NOT NULL,
    paid_at         timestamptz NOT NULL,
    -- A retried request (same key) pays once; the fingerprint tells a different request apart.
    idempotency_key text NOT NULL,
    request_hash    bytea NOT NULL,
    CONSTRAINT disbursements_idempotency_key UNIQUE (idempotency_key),
    FOREIGN KEY (budget_union_id, year, aid_type) REFERENCES budgets (union_id, year, aid_type)
);
-- Consolation money (送温暖) and tuition aid (金秋助学): at most once per member per year.
CREATE UNIQUE INDEX once_per_member_per_year ON disbursements (member_id, aid_type, year)
    WHERE aid_type IN ('consolation', 'tuition');
CREATE INDEX disbursements_by_case ON disbursements (case_id, paid_at);
CREATE INDEX disbursements_by_member_year ON disbursements (member_id, year);
CREATE INDEX disbursements_by_union_year ON disbursements (union_id, year);

-- Append-only trail of every decision: who, when, what, why.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    case_id        uuid,                          -- null for decisions about budgets
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
