-- Erasure (删除个人信息): an erased person keeps their row (the member id, numbers and periods
-- stay, so membership history and other services' records still resolve) but no name, ID or
-- contact data. erased_at says it happened; the reason is in the audit trail.
ALTER TABLE persons ADD COLUMN erased_at timestamptz;
