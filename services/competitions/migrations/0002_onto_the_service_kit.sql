-- The service kit keeps every service's event versions in `event_versions` and its trail in
-- `audit_trail` (shared migrations 0003 and 0004, applied before this one). Moved in place, so
-- an existing database loses nothing: the per-member versions already published continue from
-- where they are (consumers apply only newer versions), and the trail keeps its entries in
-- their order, the competition a step belonged to becoming record_id. On a fresh database both
-- old tables are empty: nothing moves, and they go all the same.
INSERT INTO event_versions (subject, version)
SELECT member_id::text, version FROM event_sequences
ON CONFLICT (subject) DO UPDATE SET version = greatest(event_versions.version, EXCLUDED.version);

INSERT INTO audit_trail (at, actor, action, subject, record_id, reason, correlation_id, detail)
SELECT at, actor, action, subject, competition_id, reason, correlation_id, detail
FROM audit_log ORDER BY id;

DROP TABLE event_sequences;
DROP TABLE audit_log;  -- its triggers go with it
DROP FUNCTION audit_log_is_append_only();
