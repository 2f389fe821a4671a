-- Relief on the card: the live generation gains relief_cases (later generations get it from
-- store/generation.sql, which defines the same table).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
        CREATE TABLE %I.relief_cases (
            member_id    uuid PRIMARY KEY,
            version      integer NOT NULL,
            case_id      uuid NOT NULL,
            status       text NOT NULL,
            tier         text,
            union_id     uuid NOT NULL,
            aid_year     integer NOT NULL,
            aid_paid_fen bigint NOT NULL,
            updated_at   timestamptz NOT NULL DEFAULT now()
        )$ddl$, live);
    EXECUTE format('CREATE VIEW public.relief_cases AS SELECT * FROM %I.relief_cases', live);
END $$;
