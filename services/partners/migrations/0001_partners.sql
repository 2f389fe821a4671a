-- Partners (merchants' platforms) and the merchants the union put under each of them (by tender).
CREATE TABLE partners (
    partner_id  text PRIMARY KEY,
    name        text NOT NULL,
    contact     text,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys for the HTTP ingress: only a SHA-256 digest is kept; a partner may hold two while
-- rotating, each revoked on its own.
CREATE TABLE partner_keys (
    key_id      uuid PRIMARY KEY,
    partner_id  text NOT NULL REFERENCES partners,
    digest      text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- One owner per merchant: a partner may publish for its own merchants only.
CREATE TABLE merchants (
    merchant_id text PRIMARY KEY,
    partner_id  text NOT NULL REFERENCES partners,
    name        text NOT NULL,
    category    text NOT NULL,
    region      text NOT NULL,
    address     text,
    listed      boolean NOT NULL DEFAULT true,
    version     integer NOT NULL,  -- subject_version of the merchant's events
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merchants_by_partner ON merchants (partner_id, merchant_id);

-- The newest accepted version of each offer; (partner, offer id, version) is the idempotency key.
CREATE TABLE offers (
    partner_id   text NOT NULL,
    offer_id     text NOT NULL,
    merchant_id  text NOT NULL REFERENCES merchants,
    version      integer NOT NULL,
    content_hash text NOT NULL,
    withdrawn    boolean NOT NULL,
    body         jsonb NOT NULL,  -- the accepted message, as validated
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, offer_id)
);

-- Every event that came in and what became of it, from either path. A partner reads its
-- rejected and stale ones (GET /partner-api/v1/rejections); the dead-letter topic has the bytes.
CREATE TABLE ingress_log (
    id          bigserial PRIMARY KEY,
    partner_id  text,          -- null only if the topic named no partner
    source      text NOT NULL CHECK (source IN ('kafka', 'http')),
    origin      text NOT NULL, -- topic:partition:offset, or http:<correlation id>
    offer_id    text,
    version     integer,
    outcome     text NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'stale', 'rejected')),
    reasons     text[] NOT NULL DEFAULT '{}',
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingress_log_rejections ON ingress_log (partner_id, id) WHERE outcome IN ('rejected', 'stale');
CREATE INDEX ingress_log_by_offer ON ingress_log (partner_id, offer_id, id);

-- Append-only trail of the union's own decisions (partners, keys, merchants).
CREATE TABLE trail (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    subject        text NOT NULL,
    correlation_id text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE FUNCTION trail_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trail is append-only';
END $$;
CREATE TRIGGER trail_append_only BEFORE UPDATE OR DELETE ON trail
    FOR EACH ROW EXECUTE FUNCTION trail_is_append_only();
CREATE TRIGGER trail_no_truncate BEFORE TRUNCATE ON trail
    FOR EACH STATEMENT EXECUTE FUNCTION trail_is_append_only();
