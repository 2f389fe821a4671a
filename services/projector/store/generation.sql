-- One generation of the card read model: the card tables and the consumer's own memory of what
-- it applied (processed_events) and where it stands (consumer_positions), so a view and its
-- tracking positions always move together.
--
-- The ONLY definition of a generation's tables. store/generations.py runs it with search_path
-- set to the generation's schema (rm_<n>), so names here stay unqualified. rm_1 was not made
-- from it but moved into place from the earlier migrations (see migrations/0002_generations.sql);
-- tests/integration/test_projector_rebuild.py proves the two have the same shape.
CREATE TABLE unions (
    union_id   uuid PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL,
    parent_id  uuid,
    region     text NOT NULL,
    path       uuid[] NOT NULL,
    path_names text[] NOT NULL
);
CREATE INDEX unions_path ON unions USING gin (path);

-- One row per member; `version` is the member's event sequence, so an older event never
-- overwrites a newer state.
CREATE TABLE cards (
    member_id          uuid PRIMARY KEY,
    version            integer NOT NULL,
    name               text NOT NULL,
    national_id_masked text NOT NULL,
    membership_number  text NOT NULL,
    card_number        text NOT NULL,
    base_union_id      uuid NOT NULL,
    status             text NOT NULL,
    member_since       date NOT NULL,
    employer           text NOT NULL,
    employment_type    text NOT NULL,
    periods            jsonb NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cards_by_union ON cards (base_union_id, status);

-- The person's latest application, so the card can say what needs their action.
CREATE TABLE applications (
    person_id      uuid PRIMARY KEY,
    version        integer NOT NULL,
    application_id uuid NOT NULL,
    base_union_id  uuid NOT NULL,
    status         text NOT NULL,
    reason         text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The member's relief case (困难职工帮扶) as the newest relief event tells it. Shown to the member
-- only. `version` is relief's own per-member event sequence (not enrollment's).
CREATE TABLE relief_cases (
    member_id    uuid PRIMARY KEY,
    version      integer NOT NULL,
    case_id      uuid NOT NULL,
    status       text NOT NULL,
    tier         text,
    union_id     uuid NOT NULL,
    aid_year     integer NOT NULL,
    aid_paid_fen bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The member's programme receipts (送温暖 campaigns, 金秋助学 student aid): the `receipts` of the
-- newest relief.ProgrammeAidPaid, whole (each event carries them all, newest first). Shown to the
-- member only. `version` is relief's per-member sequence (the one relief_cases follows too): an
-- older event never overwrites newer receipts. No personal data: programme, title, amount, time.
CREATE TABLE programme_receipts (
    member_id  uuid PRIMARY KEY,
    version    integer NOT NULL,
    receipts   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Honours, final results and awards from competitions (劳动竞赛/技能竞赛), one row each; `version`
-- is the competitions service's per-member event sequence. Honours expire by date at read time.
CREATE TABLE honours (
    honour_id        uuid PRIMARY KEY,
    member_id        uuid NOT NULL,
    version          integer NOT NULL,
    kind             text NOT NULL,
    title            text NOT NULL,
    granted_on       date NOT NULL,
    valid_until      date NOT NULL,
    revoked_on       date,
    competition_name text,
    team_name        text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX honours_by_member ON honours (member_id);

CREATE TABLE competition_results (
    member_id        uuid NOT NULL,
    stage_id         uuid NOT NULL,
    version          integer NOT NULL,
    competition_name text NOT NULL,
    competition_kind text NOT NULL,
    stage_name       text NOT NULL,
    team_name        text,
    rank             integer NOT NULL,
    of_entries       integer NOT NULL,
    score            numeric NOT NULL,
    finalized_at     timestamptz NOT NULL,
    PRIMARY KEY (member_id, stage_id)
);

CREATE TABLE competition_awards (
    award_id         uuid NOT NULL,
    member_id        uuid NOT NULL,
    version          integer NOT NULL,
    title            text NOT NULL,
    competition_name text NOT NULL,
    team_name        text,
    rank             integer,
    granted_at       timestamptz NOT NULL,
    PRIMARY KEY (award_id, member_id)
);

-- The member's labour disputes (法律维权): stage and next statutory deadline, one row per worker
-- of a case (collective cases cover several). Shown to the member only. `version` is the legal
-- service's sequence for the case's filer: every case event is keyed by the filer.
CREATE TABLE legal_cases (
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
CREATE INDEX legal_cases_by_member ON legal_cases (member_id);

-- The member's latest transfer request (接转): the card shows it while it waits for the
-- receiving union. `version` is enrollment's sequence for the member, as for the card.
CREATE TABLE member_transfers (
    member_id     uuid PRIMARY KEY,
    version       integer NOT NULL,
    transfer_id   uuid NOT NULL,
    from_union_id uuid NOT NULL,
    to_union_id   uuid NOT NULL,
    status        text NOT NULL,
    requested_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Erased persons (PersonErased): nothing of theirs is written again, whichever topic it comes from.
CREATE TABLE erased_members (
    member_id uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);

-- Partner merchants and their offers (会员普惠), from the partners service's events. A merchant's
-- `version` is its envelope's subject_version (the partners service's per-merchant sequence); a
-- delisting for a merchant not seen yet keeps a row with the version, so an older listing that
-- arrives later cannot bring it back. region_prefix is the region without its trailing zero
-- pairs (330100 -> 3301).
CREATE TABLE merchants (
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
-- The directory: listed merchants within a region range, by name.
CREATE INDEX merchants_listed_by_region ON merchants (region, name, merchant_id) WHERE delisted_at IS NULL;
CREATE INDEX merchants_listed_by_name ON merchants (name, merchant_id) WHERE delisted_at IS NULL;

-- One row per offer key ("<partner_id>/<offer_id>"); `version` is the partner's version of the
-- offer: an older version never overwrites a newer one, and a withdrawn offer stays withdrawn
-- (a withdrawal that arrives first keeps a row with only the keys). Which offers a card shows is
-- decided at read time (validity window, merchant listed, the member's region and groups).
CREATE TABLE offers (
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
-- The card: one range scan per (region, eligibility) covering the member, already in page order
-- (and per (region, category, eligibility) when the card is filtered by category).
CREATE INDEX offers_live_by_region
    ON offers (region, eligibility, valid_until, offer_key) WHERE withdrawn_at IS NULL;
CREATE INDEX offers_live_by_region_category
    ON offers (region, category, eligibility, valid_until, offer_key) WHERE withdrawn_at IS NULL;
-- The directory's count of live offers per merchant.
CREATE INDEX offers_live_by_merchant ON offers (merchant_id, valid_until) WHERE withdrawn_at IS NULL;

-- The member's usage history (使用记录): one row per partners.OfferRedeemed, keyed by the
-- partners service's redemption id, so a redelivered event changes nothing. Shown to the member
-- only, with the merchant's name and the offer's title when they are known here.
CREATE TABLE redemptions (
    redemption_id uuid PRIMARY KEY,
    member_id     uuid NOT NULL,
    partner_id    text NOT NULL,
    merchant_id   text NOT NULL,
    offer_id      text NOT NULL,
    offer_key     text NOT NULL,
    redeemed_at   timestamptz NOT NULL
);
CREATE INDEX redemptions_by_member ON redemptions (member_id, redeemed_at DESC, redemption_id DESC);

-- The member's inbox (消息): what each event told the member, in words (domain/inbox.py), one
-- row per (member, source event): a redelivered event changes nothing. Shown to the member only,
-- newest first; near deadlines are added when it is read, from legal_cases.
CREATE TABLE inbox (
    member_id   uuid NOT NULL,
    event_id    uuid NOT NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (member_id, event_id)
);
CREATE INDEX inbox_by_member ON inbox (member_id, occurred_at, event_id);

-- The partners' statistics (统计, issue 18), from partners.OfferRedeemed: one row per redemption
-- id (a redelivered event counts once) without the member; and who redeemed each offer, only
-- ever counted (distinct members). An erased member's rows here go (their redemptions stay
-- counted above), whatever the order the two events are read in, a rebuild's included.
CREATE TABLE offer_redemption_stats (
    redemption_id uuid PRIMARY KEY,
    partner_id    text NOT NULL,
    offer_id      text NOT NULL,
    offer_key     text NOT NULL,
    china_day     date NOT NULL
);
CREATE INDEX offer_redemption_stats_by_partner_day
    ON offer_redemption_stats (partner_id, china_day, offer_id);
CREATE TABLE offer_redeemers (
    partner_id text NOT NULL,
    offer_id   text NOT NULL,
    member_key uuid NOT NULL,
    PRIMARY KEY (partner_id, offer_id, member_key)
);
CREATE INDEX offer_redeemers_by_member ON offer_redeemers (member_key);

-- The idempotent consumer's tables (same columns as shared/migrations), per generation.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE consumer_positions (
    consumer   text        NOT NULL,
    topic      text        NOT NULL,
    partition  integer     NOT NULL,
    "offset"   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);
