-- Erased persons (PersonErased): their card is gone, and the live generation gains this table so
-- a later relief, legal or competitions event cannot bring any of it back (later generations get
-- it from store/generation.sql, which defines the same table).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.erased_members (
    member_id uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.erased_members AS SELECT * FROM %I.erased_members', live);
END $$;
