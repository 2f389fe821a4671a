-- Redemptions on the card (issue 18): the live generation gains redemptions, the member's usage
-- history from partners.OfferRedeemed (later generations get it from store/generation.sql, which
-- defines the same table).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.redemptions (
    redemption_id uuid PRIMARY KEY,
    member_id     uuid NOT NULL,
    partner_id    text NOT NULL,
    merchant_id   text NOT NULL,
    offer_id      text NOT NULL,
    offer_key     text NOT NULL,
    redeemed_at   timestamptz NOT NULL
);
CREATE INDEX redemptions_by_member ON %1$I.redemptions (member_id, redeemed_at DESC, redemption_id DESC);
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.redemptions AS SELECT * FROM %I.redemptions', live);
END $$;
