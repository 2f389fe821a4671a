-- Enrollment moves onto the service kit's tables (shared migrations 0003 and 0004, applied
-- before this file): its event versions and its audit rows are carried over in place, then its
-- own copies go. On a fresh database there is nothing to carry and the old tables just go.

-- Event versions: a person's events (applications, membership) were numbered in persons.version;
-- a union's only event, UnionRegistered, was version 1. The envelopes' subject is the id as text.
INSERT INTO event_versions (subject, version)
SELECT person_id::text, version FROM persons WHERE version > 0
ON CONFLICT (subject) DO UPDATE SET version = greatest(event_versions.version, EXCLUDED.version);

INSERT INTO event_versions (subject, version)
SELECT union_id::text, 1 FROM unions
ON CONFLICT (subject) DO NOTHING;

ALTER TABLE persons DROP COLUMN version;

-- Audit rows, oldest first so the trail keeps its order. The reason a decision gave was kept in
-- detail; it now has its own column. record_id is the record the entry belongs to, which is also
-- the subject of the events: the person for an application or membership step, the union for a
-- union's registration (an application's entry names the application as its subject).
INSERT INTO audit_trail (at, actor, action, subject, record_id, reason, correlation_id, detail)
SELECT l.at, l.actor, l.action, l.subject,
       CASE WHEN l.action LIKE 'application.%' THEN a.person_id
            WHEN l.action LIKE 'member.%' OR l.action LIKE 'union.%' THEN l.subject::uuid
       END,
       l.detail ->> 'reason', l.correlation_id, l.detail - 'reason'
FROM audit_log l
LEFT JOIN applications a ON l.action LIKE 'application.%' AND a.application_id::text = l.subject
ORDER BY l.id;

DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only();
