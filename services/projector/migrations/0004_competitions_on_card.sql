-- Honours and results on the card: the live generation gains the competition tables (later
-- generations get them from store/generation.sql, which defines the same tables).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.honours (
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
CREATE INDEX honours_by_member ON %1$I.honours (member_id);

CREATE TABLE %1$I.competition_results (
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

CREATE TABLE %1$I.competition_awards (
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
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.honours AS SELECT * FROM %I.honours', live);
    EXECUTE format('CREATE VIEW public.competition_results AS SELECT * FROM %I.competition_results', live);
    EXECUTE format('CREATE VIEW public.competition_awards AS SELECT * FROM %I.competition_awards', live);
END $$;
