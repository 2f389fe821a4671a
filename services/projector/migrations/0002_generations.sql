-- Read-model generations (see services/projector/store/generations.py).
--
-- The card tables and the projector's own processed_events and consumer_positions live in one
-- schema per generation, rm_<n>: a view and its tracking positions move together. The one row
-- of projection_state names the live generation; every read-model transaction points its
-- search_path at it first. A rebuild fills rm_<n+1> from the topics while rm_<n> keeps serving,
-- then swaps this row.
--
-- The existing tables become generation 1 as they are: moved, not copied. In the projector's
-- database the projector is the only consumer, so every processed_events / consumer_positions
-- row is its own (whatever its topic prefix). Later generations are created from
-- store/generation.sql, which has the same shape (a test compares the two).
CREATE TABLE projection_state (
    singleton     boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    active_schema text        NOT NULL CHECK (active_schema ~ '^rm_[0-9]+$'),
    generation    integer     NOT NULL CHECK (active_schema = 'rm_' || generation),
    swapped_at    timestamptz NOT NULL DEFAULT now()
);

CREATE SCHEMA rm_1;
ALTER TABLE public.unions SET SCHEMA rm_1;
ALTER TABLE public.cards SET SCHEMA rm_1;
ALTER TABLE public.applications SET SCHEMA rm_1;
ALTER TABLE public.processed_events SET SCHEMA rm_1;
ALTER TABLE public.consumer_positions SET SCHEMA rm_1;

INSERT INTO projection_state (active_schema, generation) VALUES ('rm_1', 1);

-- The old names keep answering, read-only in spirit, for people and scripts that query the
-- database directly (`SELECT ... FROM cards`): views over the live generation, re-pointed by
-- every swap. The services never use them: their search_path puts rm_<n> first.
CREATE VIEW public.unions AS SELECT * FROM rm_1.unions;
CREATE VIEW public.cards AS SELECT * FROM rm_1.cards;
CREATE VIEW public.applications AS SELECT * FROM rm_1.applications;
CREATE VIEW public.processed_events AS SELECT * FROM rm_1.processed_events;
CREATE VIEW public.consumer_positions AS SELECT * FROM rm_1.consumer_positions;
