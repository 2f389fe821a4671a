-- The service's own view of the union tree, from enrollment's UnionRegistered events.
CREATE TABLE unions (
    union_id   uuid PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL,
    parent_id  uuid,
    region     text NOT NULL,
    path       uuid[] NOT NULL,   -- root .. this union
    path_names text[] NOT NULL
);
CREATE INDEX unions_path ON unions USING gin (path);

-- The service's own view of membership; `version` is enrollment's per-member version: an older
-- snapshot never overwrites a newer one.
CREATE TABLE members (
    member_id     uuid PRIMARY KEY,
    version       integer NOT NULL,
    name          text NOT NULL,
    base_union_id uuid NOT NULL,
    status        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Per-member sequence of this service's events (subject_version).
CREATE TABLE event_sequences (
    member_id uuid PRIMARY KEY,
    version   integer NOT NULL
);

CREATE TABLE competitions (
    competition_id uuid PRIMARY KEY,
    name           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('labour', 'skills', 'golden_ideas', 'team_title')),
    union_id       uuid NOT NULL REFERENCES unions,      -- the organiser: members of its subtree take part
    criteria       jsonb NOT NULL,                       -- [{key, name, weight, max_points}]
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL
);

CREATE TABLE stages (
    stage_id         uuid PRIMARY KEY,
    competition_id   uuid NOT NULL REFERENCES competitions,
    seq              integer NOT NULL,
    name             text NOT NULL,
    judges           text[] NOT NULL,                    -- token `sub` of each judge (a cadre)
    chief_judge      text NOT NULL,
    blind            boolean NOT NULL,
    expert_weight    integer NOT NULL CHECK (expert_weight >= 0),
    public_weight    integer NOT NULL CHECK (public_weight >= 0),
    spread_gap       numeric(7, 2) NOT NULL,
    objection_days   integer NOT NULL CHECK (objection_days BETWEEN 0 AND 60),
    status           text NOT NULL CHECK (status IN ('scoring', 'published', 'final')),
    published_at     timestamptz,
    objection_ends_at timestamptz,
    finalized_at     timestamptz,
    results          jsonb,                              -- the ranking as last computed
    UNIQUE (competition_id, seq),
    CHECK (expert_weight + public_weight > 0),
    CHECK (chief_judge = ANY (judges))
);

CREATE TABLE entries (
    entry_id       uuid PRIMARY KEY,
    competition_id uuid NOT NULL REFERENCES competitions,
    entry_no       integer NOT NULL,
    team_name      text,                                 -- null: an individual entry
    union_id       uuid NOT NULL,                        -- the entrant's base union (or the team's union group)
    idea_title     text,                                 -- golden ideas: what is proposed
    status         text NOT NULL CHECK (status IN ('active', 'withdrawn')),
    registered_by  text NOT NULL,
    registered_at  timestamptz NOT NULL,
    withdrawn_at   timestamptz,
    adopted_at     timestamptz,                          -- golden ideas: adopted (采纳) after review
    adopted_by     text,
    UNIQUE (competition_id, entry_no),
    CHECK ((adopted_at IS NULL) = (adopted_by IS NULL))
);

CREATE TABLE entry_members (
    entry_id       uuid NOT NULL REFERENCES entries,
    competition_id uuid NOT NULL,
    member_id      uuid NOT NULL,
    union_id       uuid NOT NULL,                        -- the member's base union when registered
    PRIMARY KEY (entry_id, member_id)
);
-- One entry per member per competition (in a team or alone).
CREATE UNIQUE INDEX one_entry_per_member ON entry_members (competition_id, member_id);
CREATE INDEX entry_members_by_member ON entry_members (member_id);

-- A judge's sheet for one entry in one stage: submitted once, then locked.
CREATE TABLE score_sheets (
    sheet_id     uuid PRIMARY KEY,
    stage_id     uuid NOT NULL REFERENCES stages,
    entry_id     uuid NOT NULL REFERENCES entries,
    judge        text NOT NULL,
    judge_union  uuid,
    points       jsonb NOT NULL,                         -- {criterion: "decimal"}
    submitted_at timestamptz NOT NULL,
    CONSTRAINT one_sheet_per_judge_and_entry UNIQUE (stage_id, entry_id, judge)
);

-- The chief judge's review of an entry whose judges' totals spread wider than the stage's gap:
-- publication waits for it.
CREATE TABLE spread_reviews (
    stage_id    uuid NOT NULL REFERENCES stages,
    entry_id    uuid NOT NULL REFERENCES entries,
    reviewed_by text NOT NULL,
    note        text NOT NULL CHECK (length(note) > 0),
    reviewed_at timestamptz NOT NULL,
    PRIMARY KEY (stage_id, entry_id)
);

-- Public vote tallies, where the stage mixes them in.
CREATE TABLE public_votes (
    stage_id  uuid NOT NULL REFERENCES stages,
    entry_id  uuid NOT NULL REFERENCES entries,
    votes     integer NOT NULL CHECK (votes >= 0),
    PRIMARY KEY (stage_id, entry_id)
);

CREATE TABLE objections (
    objection_id uuid PRIMARY KEY,
    stage_id     uuid NOT NULL REFERENCES stages,
    entry_id     uuid NOT NULL REFERENCES entries,
    raised_by    text NOT NULL,
    reason       text NOT NULL CHECK (length(reason) > 0),
    status       text NOT NULL CHECK (status IN ('open', 'upheld', 'dismissed')),
    resolution   text,
    resolved_by  text,
    raised_at    timestamptz NOT NULL,
    resolved_at  timestamptz
);
CREATE INDEX objections_open ON objections (stage_id) WHERE status = 'open';

CREATE TABLE awards (
    award_id       uuid PRIMARY KEY,
    competition_id uuid NOT NULL REFERENCES competitions,
    entry_id       uuid NOT NULL REFERENCES entries,
    stage_id       uuid NOT NULL REFERENCES stages,
    title          text NOT NULL,
    rank           integer,
    honour_kind    text,
    granted_by     text NOT NULL,
    granted_at     timestamptz NOT NULL,
    CONSTRAINT one_award_title_per_entry UNIQUE (competition_id, entry_id, title)
);

CREATE TABLE honours (
    honour_id      uuid PRIMARY KEY,
    member_id      uuid NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('model_worker', 'craftsman', 'technical_expert',
                       'pioneer_team', 'may_day_medal')),
    title          text NOT NULL,
    granted_on     date NOT NULL,
    valid_until    date NOT NULL,
    revoked_on     date,
    award_id       uuid REFERENCES awards,
    competition_id uuid REFERENCES competitions,
    team_name      text,
    granted_by     text NOT NULL,
    CHECK (valid_until >= granted_on)
);
CREATE INDEX honours_by_member ON honours (member_id, valid_until);

-- Append-only trail of every decision: who, when, what, why.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    competition_id uuid,
    subject        text NOT NULL,
    reason         text,
    correlation_id text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_by_competition ON audit_log (competition_id, id) WHERE competition_id IS NOT NULL;
CREATE INDEX audit_log_by_subject ON audit_log (subject, id);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
