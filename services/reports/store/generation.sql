-- One generation of the reports' read model (created inside its own schema: see
-- store/generations.py). No personal data: ids, unions, statuses, codes and counts only.

-- The union tree (enrollment.UnionRegistered): path is root .. union, so a subtree is
-- `path @> ARRAY[u]` (GIN).
CREATE TABLE unions (
    union_id  uuid PRIMARY KEY,
    parent_id uuid,
    path      uuid[] NOT NULL,
    name      text NOT NULL,
    kind      text NOT NULL
);
CREATE INDEX unions_path ON unions USING gin (path);

-- Each member's current base union and status (newest snapshot by subject_version): counted as
-- members, and used to attribute events that name no union (redemptions).
CREATE TABLE members (
    member_id     uuid PRIMARY KEY,
    version       integer NOT NULL,
    base_union_id uuid NOT NULL,
    status        text NOT NULL
);
CREATE INDEX members_union ON members (base_union_id) WHERE status = 'active';

-- The employer register (enrollment.EmployerRegistered / EmployerUpdated).
CREATE TABLE employers (
    employer_id          uuid PRIMARY KEY,
    version              integer NOT NULL,
    responsible_union_id uuid NOT NULL,
    base_union_id        uuid,
    workforce            integer NOT NULL,
    should_have_union    boolean NOT NULL
);
CREATE INDEX employers_union ON employers (responsible_union_id);

-- Relief cases as they stand (the newest snapshot per case); causes NULL: not known (v1).
CREATE TABLE relief_cases (
    case_id   uuid PRIMARY KEY,
    version   integer NOT NULL,
    union_id  uuid NOT NULL,
    status    text NOT NULL,
    tier      text,
    causes    text[]
);

-- A union's yearly budget per aid type (relief.BudgetSet), the newest by its subject version.
CREATE TABLE budgets (
    union_id  uuid NOT NULL,
    year      integer NOT NULL,
    aid_type  text NOT NULL,
    version   integer NOT NULL,
    total_fen bigint NOT NULL,
    PRIMARY KEY (union_id, year, aid_type)
);

-- Disputes as they stand. A collective case's events come once per worker (each keyed by its
-- member): the newest by time wins.
CREATE TABLE legal_cases (
    case_id  uuid PRIMARY KEY,
    as_of    timestamptz NOT NULL,
    union_id uuid NOT NULL,
    kind     text NOT NULL,
    stage    text NOT NULL,
    outcome  text
);

-- Monthly flows: one row per fact (its own key: an event id, a case, a disbursement, a
-- redemption), so an event met twice (both topics, a collective case's copies, a generation
-- swap) counts once. month: the first day of the month in China time.
CREATE TABLE facts (
    fact_key text NOT NULL,
    measure  text NOT NULL,
    dim      text NOT NULL DEFAULT '',
    union_id uuid NOT NULL,
    month    date NOT NULL,
    amount   bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (fact_key, measure, dim)
);
CREATE INDEX facts_union_month ON facts (measure, union_id, month);
