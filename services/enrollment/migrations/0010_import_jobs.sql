-- Roster imports (批量导入): a cadre's file, checked line by line in a dry run, then committed in
-- the background (each line an application by channel 'import', approved at once).
CREATE TABLE import_jobs (
    import_id      uuid PRIMARY KEY,
    union_id       uuid NOT NULL REFERENCES unions,   -- the scope the file was checked against
    actor          text NOT NULL,                     -- who uploaded it (files the applications)
    correlation_id text NOT NULL,
    file_name      text NOT NULL,
    sha256         bytea NOT NULL,                    -- of the file's bytes, to tell uploads apart
    format         text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    status         text NOT NULL CHECK (status IN ('checked', 'committing', 'committed', 'failed')),
    total          integer NOT NULL,
    ok             integer NOT NULL,
    refused        integer NOT NULL,
    done           integer NOT NULL DEFAULT 0,        -- ok lines the commit has handled (progress)
    committed_by   text,                              -- who committed it (approves the applications)
    created_at     timestamptz NOT NULL,
    committed_at   timestamptz,
    purged_at      timestamptz                        -- the lines' personal data deleted
);
CREATE INDEX import_jobs_committing ON import_jobs (created_at) WHERE status = 'committing';
CREATE INDEX import_jobs_unpurged ON import_jobs (created_at) WHERE purged_at IS NULL;

-- One row per line of the file. The checked row (name, ID number, phone...) is kept only as
-- ciphertext with the service's PII key, until the line is committed or the job is 7 days old.
CREATE TABLE import_lines (
    import_id  uuid NOT NULL REFERENCES import_jobs ON DELETE CASCADE,
    line       integer NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('ok', 'refused')),
    reason     text NOT NULL,
    row_cipher bytea,
    done       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (import_id, line)
);
CREATE INDEX import_lines_to_commit ON import_lines (import_id, line) WHERE outcome = 'ok' AND NOT done;
