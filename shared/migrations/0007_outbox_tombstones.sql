-- A record without a value is a tombstone: on a compacted topic it deletes its key at the next
-- compaction (a person's data key, on erasure). The relay publishes it as a null value.
ALTER TABLE outbox ALTER COLUMN value DROP NOT NULL;
