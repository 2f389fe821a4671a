-- The partners' statistics (issue 18): the live generation gains the two tables (later
-- generations get them from store/generation.sql, which defines the same tables). Filled from
-- here on; a rebuild (make rebuild) fills them from what partners.events.v1 still holds.
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.offer_redemption_stats (
    redemption_id uuid PRIMARY KEY,
    partner_id    text NOT NULL,
    offer_id      text NOT NULL,
    offer_key     text NOT NULL,
    china_day     date NOT NULL
);
CREATE INDEX offer_redemption_stats_by_partner_day
    ON %1$I.offer_redemption_stats (partner_id, china_day, offer_id);
CREATE TABLE %1$I.offer_redeemers (
    partner_id text NOT NULL,
    offer_id   text NOT NULL,
    member_key uuid NOT NULL,
    PRIMARY KEY (partner_id, offer_id, member_key)
);
CREATE INDEX offer_redeemers_by_member ON %1$I.offer_redeemers (member_key);
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.offer_redemption_stats AS SELECT * FROM %I.offer_redemption_stats', live);
    EXECUTE format('CREATE VIEW public.offer_redeemers AS SELECT * FROM %I.offer_redeemers', live);
END $$;
