-- Partner offers on the card: the live generation gains merchants and offers (later generations
-- get them from store/generation.sql, which defines the same tables).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.merchants (
    merchant_id   text PRIMARY KEY,
    version       integer NOT NULL,
    partner_id    text NOT NULL,
    name          text,
    category      text,
    region        text,
    region_prefix text,
    address       text,
    listed_at     timestamptz,
    delisted_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merchants_listed_by_region ON %1$I.merchants (region, name, merchant_id) WHERE delisted_at IS NULL;
CREATE INDEX merchants_listed_by_name ON %1$I.merchants (name, merchant_id) WHERE delisted_at IS NULL;

CREATE TABLE %1$I.offers (
    offer_key           text PRIMARY KEY,
    version             integer NOT NULL,
    partner_id          text NOT NULL,
    merchant_id         text NOT NULL,
    offer_id            text NOT NULL,
    title               text,
    description         text,
    discount_kind       text,
    discount_percent    numeric,
    discount_amount_fen bigint,
    category            text,
    region              text,
    region_prefix       text,
    valid_from          timestamptz,
    valid_until         timestamptz,
    eligibility         text,
    published_at        timestamptz,
    withdrawn_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offers_live_by_region
    ON %1$I.offers (region, eligibility, valid_until, offer_key) WHERE withdrawn_at IS NULL;
CREATE INDEX offers_live_by_region_category
    ON %1$I.offers (region, category, eligibility, valid_until, offer_key) WHERE withdrawn_at IS NULL;
CREATE INDEX offers_live_by_merchant ON %1$I.offers (merchant_id, valid_until) WHERE withdrawn_at IS NULL;
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.merchants AS SELECT * FROM %I.merchants', live);
    EXECUTE format('CREATE VIEW public.offers AS SELECT * FROM %I.offers', live);
END $$;
