-- Programme aid on the card (issue 20): the live generation gains programme_receipts, each member's
-- 送温暖 and 金秋助学 receipts from relief.ProgrammeAidPaid (later generations get it from
-- store/generation.sql, which defines the same table).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.programme_receipts (
    member_id  uuid PRIMARY KEY,
    version    integer NOT NULL,
    receipts   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.programme_receipts AS SELECT * FROM %I.programme_receipts', live);
END $$;
