-- A service's view of the union tree and of membership, from enrollment's events. IF NOT EXISTS:
-- the services that kept this view before it was a package created the same tables in their
-- own first migration (this package's migrations run after the service's own).
CREATE TABLE IF NOT EXISTS unions (
    union_id   uuid PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL,
    parent_id  uuid,
    region     text NOT NULL,
    path       uuid[] NOT NULL,   -- root .. this union
    path_names text[] NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    member_id     uuid PRIMARY KEY,
    version       integer NOT NULL,
    name          text NOT NULL,
    base_union_id uuid NOT NULL,
    status        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
