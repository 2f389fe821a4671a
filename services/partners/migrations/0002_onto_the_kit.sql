-- Partners moves onto the service kit's tables (shared migrations 0003 and 0004), in place: an
-- existing database keeps everything it had. On a fresh database 0001 has just created the old
-- tables empty, so this moves nothing and drops them.

-- A merchant's events were numbered by merchants.version (the envelopes' subject is the merchant
-- id): the kit's event_versions carries that sequence on, so the next event is the old last + 1.
-- (Offer events keep the versions their partner gives: they never had a row to move.)
INSERT INTO event_versions (subject, version)
SELECT merchant_id, version FROM merchants WHERE version > 0
ON CONFLICT (subject) DO UPDATE SET version = GREATEST(event_versions.version, EXCLUDED.version);
ALTER TABLE merchants DROP COLUMN version;

-- The union's own decisions move to the kit's audit trail, in their order and with their times.
-- The old trail kept a step's reason in its detail; the kit has a column for it.
INSERT INTO audit_trail (at, actor, action, subject, record_id, reason, correlation_id, detail)
SELECT at, actor, action, subject, NULL, detail ->> 'reason', correlation_id, detail - 'reason'
FROM trail
ORDER BY id;
DROP TABLE trail;
DROP FUNCTION trail_is_append_only();
