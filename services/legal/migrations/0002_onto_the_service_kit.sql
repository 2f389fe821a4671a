-- Legal moves onto the service kit's tables (shared migrations 0003-0005, applied before this
-- one), in place: nothing published, recorded or scheduled is lost.
--
-- 1. The per-subject versions of the events already published continue in event_versions, so
--    the next event of a subject is the old version + 1 (consumers apply only newer versions).
INSERT INTO event_versions (subject, version)
SELECT subject, version FROM event_sequences WHERE version > 0
ON CONFLICT (subject) DO UPDATE SET version = greatest(event_versions.version, EXCLUDED.version);

-- 2. The trail, oldest first (so audit_trail's ids keep its order); the case becomes the record.
INSERT INTO audit_trail (at, actor, action, subject, record_id, reason, correlation_id, detail)
SELECT at, actor, action, subject, case_id, reason, correlation_id, detail
FROM audit_log ORDER BY id;

-- 3. Every deadline notice (pending, fired or cancelled) becomes a durable timer with the same
--    id, time and status: a pending one still fires once, a fired one never again.
INSERT INTO timers (timer_id, kind, subject, fire_at, payload, status, fired_at)
SELECT deadline_id,
       'legal.deadline',
       CASE WHEN case_id IS NOT NULL THEN 'case:' || case_id::text
            ELSE 'supervision:' || supervision_id::text END,
       fire_at,
       jsonb_build_object('name', name, 'due_on', to_char(due_on, 'YYYY-MM-DD'), 'notice', notice),
       status,
       fired_at
FROM deadlines;

DROP TABLE deadlines;
DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only();
DROP TABLE event_sequences;

