-- 送温暖 campaigns: launched at a union, split down the tree, paid from base unions' lists.
CREATE TABLE campaigns (
    campaign_id  uuid PRIMARY KEY,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    union_id     uuid NOT NULL,                     -- the launching union: its subtree takes part
    starts_on    date NOT NULL,
    ends_on      date NOT NULL,
    total_fen    bigint NOT NULL CHECK (total_fen > 0),
    amounts_fen  jsonb NOT NULL,                    -- {group: fen per recipient}
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    launched_by  text NOT NULL,
    launched_at  timestamptz NOT NULL,
    closed_at    timestamptz,
    CHECK (starts_on <= ends_on),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX campaigns_by_union ON campaigns (union_id, launched_at DESC);

-- Each union's share of a campaign. The launching union's is the total; a child's is taken from
-- its parent's unallocated remainder. The guard is one conditional UPDATE (store/campaigns.py);
-- the CHECK is the last line: no row ever hands out more than it holds.
CREATE TABLE campaign_allocations (
    campaign_id     uuid NOT NULL REFERENCES campaigns,
    union_id        uuid NOT NULL,
    parent_union_id uuid,                           -- NULL: the launching union
    total_fen       bigint NOT NULL CHECK (total_fen >= 0),
    allocated_fen   bigint NOT NULL DEFAULT 0 CHECK (allocated_fen >= 0),  -- to its children
    paid_fen        bigint NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),       -- through its own list
    set_by          text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, union_id),
    CHECK (allocated_fen + paid_fen <= total_fen)
);

-- A base union's distribution list, one per campaign.
CREATE TABLE campaign_lists (
    list_id      uuid PRIMARY KEY,
    campaign_id  uuid NOT NULL REFERENCES campaigns,
    union_id     uuid NOT NULL,
    status       text NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'paid')),
    prepared_by  text NOT NULL,
    submitted_by text,
    approved_by  text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    UNIQUE (campaign_id, union_id)
);

CREATE TABLE campaign_list_entries (
    entry_id    uuid PRIMARY KEY,
    list_id     uuid NOT NULL REFERENCES campaign_lists,
    recipient   text NOT NULL CHECK (recipient IN ('member', 'employer')),
    member_id   uuid,
    employer_id uuid,
    grp         text NOT NULL,
    amount_fen  bigint NOT NULL CHECK (amount_fen > 0),
    included    boolean NOT NULL DEFAULT true,
    source      text NOT NULL CHECK (source IN ('generated', 'added')),
    reason      text NOT NULL DEFAULT '',
    edited      boolean NOT NULL DEFAULT false,     -- a person changed it: regeneration keeps it
    paid_at     timestamptz,
    position    integer NOT NULL,
    CHECK ((recipient = 'member') = (member_id IS NOT NULL)),
    CHECK ((recipient = 'employer') = (employer_id IS NOT NULL))
);
CREATE UNIQUE INDEX one_entry_per_member ON campaign_list_entries (list_id, member_id) WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX one_entry_per_employer ON campaign_list_entries (list_id, employer_id)
    WHERE employer_id IS NOT NULL;

-- What a campaign paid, once per household (member) or employer per campaign.
CREATE TABLE campaign_payments (
    payment_id    uuid PRIMARY KEY,
    campaign_id   uuid NOT NULL REFERENCES campaigns,
    list_id       uuid NOT NULL REFERENCES campaign_lists,
    entry_id      uuid NOT NULL REFERENCES campaign_list_entries,
    union_id      uuid NOT NULL,
    recipient_key text NOT NULL,                    -- member:<id> or employer:<id>
    grp           text NOT NULL,
    amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
    paid_by       text NOT NULL,
    paid_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX once_per_recipient_per_campaign ON campaign_payments (campaign_id, recipient_key);
CREATE INDEX campaign_payments_by_union ON campaign_payments (campaign_id, union_id);

-- A pay request's answer under its Idempotency-Key: a retry gets it back, nothing paid again.
CREATE TABLE campaign_pay_requests (
    idempotency_key text PRIMARY KEY,
    list_id         uuid NOT NULL REFERENCES campaign_lists,
    result          jsonb NOT NULL,
    requested_by    text NOT NULL,
    requested_at    timestamptz NOT NULL
);

-- Every programme payment to a member (送温暖, 金秋助学): what the card shows, carried whole
-- on each ProgrammeAidPaid (store/receipts.py).
CREATE TABLE programme_receipts (
    payment_id      uuid PRIMARY KEY,
    member_id       uuid NOT NULL,
    programme       text NOT NULL,
    source_id       uuid NOT NULL,
    title           text NOT NULL,
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    paid_at         timestamptz NOT NULL,
    paying_union_id uuid NOT NULL
);
CREATE INDEX programme_receipts_by_member ON programme_receipts (member_id, paid_at DESC);

-- Relief's view of enrollment's employer register, and its own 困难企业 designation.
CREATE TABLE employers (
    employer_id          uuid PRIMARY KEY,
    version              integer NOT NULL,
    name                 text NOT NULL,
    region               text NOT NULL,
    workforce            integer NOT NULL,
    responsible_union_id uuid NOT NULL,
    base_union_id        uuid,
    in_difficulty        boolean NOT NULL DEFAULT false,
    difficulty_reason    text,
    designated_by        text,
    designated_at        timestamptz
);
CREATE INDEX employers_by_union ON employers (coalesce(base_union_id, responsible_union_id));

-- Model worker titles (劳动模范), from competitions' honour events.
CREATE TABLE model_worker_honours (
    honour_id   uuid PRIMARY KEY,
    member_id   uuid NOT NULL,
    valid_until date NOT NULL,
    revoked_on  date
);
CREATE INDEX model_worker_honours_by_member ON model_worker_honours (member_id);
