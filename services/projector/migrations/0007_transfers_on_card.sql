-- Transfer requests on the card: the live generation gains member_transfers (later generations
-- get it from store/generation.sql, which defines the same table).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.member_transfers (
    member_id     uuid PRIMARY KEY,
    version       integer NOT NULL,
    transfer_id   uuid NOT NULL,
    from_union_id uuid NOT NULL,
    to_union_id   uuid NOT NULL,
    status        text NOT NULL,
    requested_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.member_transfers AS SELECT * FROM %I.member_transfers', live);
END $$;
