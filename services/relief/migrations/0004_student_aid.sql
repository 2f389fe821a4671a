-- 金秋助学 (autumn student aid): windows, their evidence files, applications and objections.

-- One window per union and academic year; its status follows from the time (and closed_at,
-- set by the durable timer at closes_at).
CREATE TABLE student_aid_windows (
    window_id       uuid PRIMARY KEY,
    union_id        uuid NOT NULL,
    academic_year   integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
    title           text NOT NULL,
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    amounts_fen     jsonb NOT NULL,            -- {school_type: fen per student}
    disclosure_days integer NOT NULL CHECK (disclosure_days BETWEEN 1 AND 60),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    closed_at       timestamptz,
    CHECK (closes_at > opens_at),
    CONSTRAINT one_window_per_union_and_year UNIQUE (union_id, academic_year)
);

-- Admission evidence (录取通知书): the bytes with what was checked about them.
CREATE TABLE student_aid_evidence (
    file_id      uuid PRIMARY KEY,
    file_name    text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size         integer NOT NULL CHECK (size BETWEEN 1 AND 5242880),
    sha256       bytea NOT NULL,
    data         bytea NOT NULL,
    uploaded_by  text NOT NULL,
    uploader_member_id uuid,                   -- a member uploading for themself
    uploaded_at  timestamptz NOT NULL
);

CREATE TABLE student_aid_applications (
    application_id     uuid PRIMARY KEY,
    window_id          uuid NOT NULL REFERENCES student_aid_windows,
    academic_year      integer NOT NULL,
    member_id          uuid NOT NULL,
    union_id           uuid NOT NULL,             -- the member's base union when filed
    student_name       text NOT NULL,
    student_hash       bytea NOT NULL,            -- keyed hash of the student's ID number (never stored)
    school_name        text NOT NULL,
    school_type        text NOT NULL CHECK (school_type IN ('undergraduate', 'junior_college',
                           'secondary_vocational', 'postgraduate')),
    admission_year     integer NOT NULL,
    amount_fen         bigint NOT NULL CHECK (amount_fen > 0),
    eligible_by        text NOT NULL CHECK (eligible_by IN ('register', 'assessment')),
    household_size     integer CHECK (household_size BETWEEN 1 AND 50),
    monthly_income_fen bigint CHECK (monthly_income_fen >= 0),
    evidence_file_id   uuid NOT NULL REFERENCES student_aid_evidence,
    status             text NOT NULL CHECK (status IN ('submitted', 'in_disclosure', 'approved',
                           'declined', 'paid')),
    decision_reason    text,
    filed_by           text NOT NULL,
    filed_at           timestamptz NOT NULL,
    reviewed_by        text,
    reviewed_at        timestamptz,
    disclosure_ends_at timestamptz,
    approved_at        timestamptz,
    -- Payment: from the tuition budget of budget_union_id; a retry (same key) pays once.
    payment_id         uuid UNIQUE,
    budget_union_id    uuid,
    paid_by            text,
    paid_at            timestamptz,
    idempotency_key    text UNIQUE,
    request_hash       bytea,
    CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
    CHECK ((paid_at IS NULL) = (payment_id IS NULL))
);
-- Once per student per academic year: a declined application does not count.
CREATE UNIQUE INDEX one_student_aid_per_student_per_year ON student_aid_applications (student_hash, academic_year)
    WHERE status <> 'declined';
CREATE INDEX student_aid_applications_by_window ON student_aid_applications (window_id, filed_at);
CREATE INDEX student_aid_applications_by_union ON student_aid_applications (union_id, status);
CREATE INDEX student_aid_applications_by_member ON student_aid_applications (member_id, filed_at);
CREATE INDEX student_aid_applications_in_disclosure ON student_aid_applications (disclosure_ends_at)
    WHERE status = 'in_disclosure';

CREATE TABLE student_aid_objections (
    objection_id   uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES student_aid_applications,
    text           text NOT NULL CHECK (length(text) > 0),
    raised_by      text NOT NULL,
    raised_at      timestamptz NOT NULL,
    answer         text,
    upheld         boolean,
    answered_by    text,
    answered_at    timestamptz,
    CHECK ((answered_at IS NULL) = (upheld IS NULL) AND (answered_at IS NULL) = (answer IS NULL))
);
CREATE INDEX student_aid_objections_by_application ON student_aid_objections (application_id, raised_at);
