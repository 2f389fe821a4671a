-- The identity service: accounts, the keys that sign access tokens, one-time codes, sign-in
-- sessions and their refresh tokens, the attempts the abuse limits count, real-name disputes.
-- The audit trail, outbox and event versions are the kit's (shared migrations).
-- No phone number in clear (a keyed hash to find it, a sealed copy to show it masked) and no
-- national ID at all: enrollment holds those.

CREATE TABLE accounts (
    account_id      uuid PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('member', 'staff')),
    phone_hash      bytea UNIQUE,            -- shared/pii.py lookup_hash of the 11 digits
    phone_sealed    bytea,                   -- shared/pii.py encrypt, shown masked only
    person_id       uuid UNIQUE,             -- enrollment's person (= member id) once linked
    realname_status text NOT NULL DEFAULT 'unverified'
                    CHECK (realname_status IN ('unverified', 'verified', 'disputed')),
    realname_at     timestamptz,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at      timestamptz NOT NULL,
    CHECK (kind <> 'member' OR (phone_hash IS NOT NULL AND phone_sealed IS NOT NULL))
);

-- Ed25519 signing keys. The private key is wrapped (AES-GCM, a key derived from
-- IDENTITY_KEY_SECRET, the key id bound in). A key is published from created_at, signs from
-- activates_at (after the verifiers have had time to see it) until the next key activates,
-- and stays published until the last token it signed has expired.
CREATE TABLE signing_keys (
    key_id       uuid PRIMARY KEY,           -- the kid (its text form)
    private_key  bytea NOT NULL,             -- wrapped raw private bytes
    public_key   bytea NOT NULL,             -- raw public bytes
    created_at   timestamptz NOT NULL,
    activates_at timestamptz NOT NULL
);
CREATE INDEX signing_keys_activation ON signing_keys (activates_at);

-- One-time codes: only a keyed hash of the code, compared in constant time.
CREATE TABLE codes (
    code_id    uuid PRIMARY KEY,
    phone_hash bytea NOT NULL,
    purpose    text NOT NULL,
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    failures   integer NOT NULL DEFAULT 0,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'used', 'dead', 'replaced'))
);
CREATE INDEX codes_by_phone ON codes (phone_hash, purpose, created_at DESC);

-- A sign-in session is a refresh family: it keeps the claims it was opened with (a staff
-- session is refreshed with them; a member session re-reads its account).
CREATE TABLE sessions (
    session_id     uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts,
    claims         jsonb NOT NULL,           -- AccessClaims without sid
    role           text NOT NULL,
    binding_id     uuid,                     -- the role binding (staff sessions)
    opened_at      timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,     -- absolute end: no refresh past it
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_by_account ON sessions (account_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_by_binding ON sessions (binding_id) WHERE revoked_at IS NULL;

-- Refresh tokens: opaque, high-entropy, stored as SHA-256; each is used once.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- What the rate limits and lockouts count: an action ('code_sent', 'code_checked', ...) by a
-- subject (a phone's keyed hash, a client address's, an account's), and whether it succeeded.
CREATE TABLE attempts (
    action    text NOT NULL,
    subject   bytea NOT NULL,
    at        timestamptz NOT NULL,
    succeeded boolean NOT NULL
);
CREATE INDEX attempts_by_subject ON attempts (action, subject, at DESC);

-- A person already claimed by another account: a cadre of the person's union decides.
CREATE TABLE disputes (
    dispute_id  uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts,   -- the account asking for the person
    person_id   uuid NOT NULL,
    holder_id   uuid,                              -- the account holding it when opened
    union_path  uuid[],                            -- null: only an admin decides
    opened_at   timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'transferred', 'kept')),
    settled_at  timestamptz,
    settled_by  text,
    reason      text
);
CREATE INDEX disputes_open ON disputes (opened_at) WHERE status = 'open';
CREATE INDEX disputes_union_path ON disputes USING gin (union_path);
CREATE UNIQUE INDEX disputes_one_open ON disputes (account_id, person_id) WHERE status = 'open';
