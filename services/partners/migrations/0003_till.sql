-- The merchant's check at the till (issue 18). A code is the card's rotating QR payload (kind
-- card, 60 s) or a one-offer voucher the member opened (kind voucher, 10 min). Only the code's
-- SHA-256 is kept. offer_keys: the offers it may redeem, decided when it was issued.
CREATE TABLE till_codes (
    digest        text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('card', 'voucher')),
    member_id     uuid NOT NULL,
    member_masked text NOT NULL,
    offer_keys    text[] NOT NULL,
    issued_at     timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    redeemed_at   timestamptz
);
CREATE INDEX till_codes_expiry ON till_codes (expires_at);

-- One row per redemption. A code redeems once (UNIQUE code_digest); a partner's Idempotency-Key
-- answers the same redemption again. china_day/china_month: the limits count in China time.
CREATE TABLE redemptions (
    seq             bigserial UNIQUE,
    redemption_id   uuid PRIMARY KEY,
    partner_id      text NOT NULL,
    idempotency_key text NOT NULL,
    code_digest     text NOT NULL UNIQUE,
    member_id       uuid NOT NULL,
    member_masked   text NOT NULL,
    merchant_id     text NOT NULL,
    offer_id        text NOT NULL,
    offer_key       text NOT NULL,
    redeemed_at     timestamptz NOT NULL,
    china_day       date NOT NULL,
    china_month     date NOT NULL,
    UNIQUE (partner_id, idempotency_key)
);
CREATE INDEX redemptions_by_offer_member ON redemptions (partner_id, offer_id, member_id, china_day);
CREATE INDEX redemptions_by_partner ON redemptions (partner_id, seq);
