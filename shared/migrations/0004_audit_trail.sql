-- The append-only trail of every step a service takes for a person or a record (shared.audit):
-- who, when, what, why. record_id ties an entry to the record a trail is read by (a case, a
-- competition); subject names what the step was about.
CREATE TABLE audit_trail (
    id             bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text        NOT NULL,
    action         text        NOT NULL,
    subject        text        NOT NULL,
    record_id      uuid,
    reason         text,
    correlation_id text        NOT NULL,
    detail         jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_trail_by_record ON audit_trail (record_id, id) WHERE record_id IS NOT NULL;
CREATE INDEX audit_trail_by_subject ON audit_trail (subject, id);

CREATE FUNCTION audit_trail_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_trail is append-only';
END $$;
CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON audit_trail
    FOR EACH ROW EXECUTE FUNCTION audit_trail_is_append_only();
CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_is_append_only();
