-- Interim (part B): the programme receipts table as part A's 0003_campaigns.sql creates it;
-- this file goes when p20-campaigns is merged.
CREATE TABLE programme_receipts (
    payment_id      uuid PRIMARY KEY,
    member_id       uuid NOT NULL,
    programme       text NOT NULL,
    source_id       uuid NOT NULL,
    title           text NOT NULL,
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    paid_at         timestamptz NOT NULL,
    paying_union_id uuid NOT NULL
);
CREATE INDEX programme_receipts_by_member ON programme_receipts (member_id, paid_at DESC);
