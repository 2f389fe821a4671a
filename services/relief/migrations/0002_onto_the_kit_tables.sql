-- Relief moves onto the service kit's shared tables (shared migrations 0003 and 0004, applied
-- before this one), in place: nothing already published or recorded is lost.
--
-- The per-member versions of relief's events continue in event_versions (the subject is the
-- text the envelopes carried: the member id), so the next event after the upgrade is old + 1.
INSERT INTO event_versions (subject, version)
SELECT member_id::text, version FROM event_sequences WHERE version > 0
ON CONFLICT (subject) DO UPDATE SET version = GREATEST(event_versions.version, EXCLUDED.version);

-- The trail, oldest first (the new ids keep its order); the case id becomes the record id.
INSERT INTO audit_trail (at, actor, action, subject, record_id, reason, correlation_id, detail)
SELECT at, actor, action, subject, case_id, reason, correlation_id, detail
FROM audit_log
ORDER BY id;

DROP TABLE event_sequences;
DROP TABLE audit_log;  -- its triggers go with it
DROP FUNCTION audit_log_is_append_only();
