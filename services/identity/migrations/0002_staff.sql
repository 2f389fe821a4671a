-- Staff accounts (admins, cadres, counsel, partners' till staff) and their role bindings (their
-- password tries are counted in `attempts`, 0001). A staff account is an
-- `accounts` row of kind 'staff' (sessions and the disabled status live there) with its
-- sign-in details here.

CREATE TABLE staff_accounts (
    account_id          uuid PRIMARY KEY REFERENCES accounts (account_id),
    username            text NOT NULL UNIQUE,          -- lower case; what a person types
    display_name        text NOT NULL,
    password_hash       text NOT NULL,                 -- argon2id, never answered
    -- A cadre-made account: every binding it gets is a cadre/counsel one inside this union's subtree.
    scope_union_id      uuid,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL,
    password_changed_at timestamptz NOT NULL,
    -- The second factor, encrypted (Fernet, the service's PII key): pending until confirmed.
    totp_pending        bytea,
    totp_secret         bytea,
    totp_enabled_at     timestamptz,
    totp_last_step      bigint                         -- a code is accepted once: only later steps
);

CREATE INDEX staff_accounts_scope ON staff_accounts (scope_union_id) WHERE scope_union_id IS NOT NULL;

CREATE TABLE staff_bindings (
    binding_id  uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES staff_accounts (account_id),
    role        text NOT NULL CHECK (role IN ('admin', 'cadre', 'counsel', 'partner_staff')),
    union_id    uuid,
    partner_id  text,
    counsel_id  uuid,
    granted_by  text NOT NULL,
    granted_at  timestamptz NOT NULL,
    revoked_by  text,
    revoked_at  timestamptz,
    CHECK ((role IN ('cadre', 'counsel')) = (union_id IS NOT NULL)),
    CHECK ((role = 'counsel') = (counsel_id IS NOT NULL)),
    CHECK ((role = 'partner_staff') = (partner_id IS NOT NULL))
);

-- One live binding per account, role and scope; a revoked one may be granted again.
CREATE UNIQUE INDEX staff_bindings_live ON staff_bindings (
    account_id, role, coalesce(union_id::text, ''), coalesce(partner_id, ''), coalesce(counsel_id::text, '')
) WHERE revoked_at IS NULL;
CREATE INDEX staff_bindings_union ON staff_bindings (union_id) WHERE revoked_at IS NULL;
