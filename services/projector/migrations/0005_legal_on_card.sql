-- Labour disputes on the card: the live generation gains legal_cases (later generations get it
-- from store/generation.sql, which defines the same table).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.legal_cases (
    case_id        uuid NOT NULL,
    member_id      uuid NOT NULL,
    version        integer NOT NULL,
    case_no        text NOT NULL,
    kind           text NOT NULL,
    stage          text NOT NULL,
    outcome        text,
    next_deadline  text,
    next_due_on    date,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, member_id)
);
CREATE INDEX legal_cases_by_member ON %1$I.legal_cases (member_id);
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.legal_cases AS SELECT * FROM %I.legal_cases', live);
END $$;
