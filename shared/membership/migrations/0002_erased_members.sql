-- Who has been erased: a snapshot older than the erasure, met later (the state topic keeps each
-- part under its own key, so a reader may see the erasure first), must not bring the name back
-- even where this view never held the member.
CREATE TABLE IF NOT EXISTS erased_members (
    member_id uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
