-- The reports' read model lives in generations: one schema rg_<n> per generation, its tables
-- made from store/generation.sql (the one definition, applied by the service when it starts and
-- by a rebuild). This row names the live one; a rebuild fills rg_<n+1> from the topics while
-- rg_<n> keeps serving, then swaps the row (store/generations.py). The consumer's
-- processed_events and consumer_positions stay in public (the kit's tables): every read-model
-- write is idempotent by its own key, so a generation may see an event twice.
CREATE TABLE reports_state (
    singleton     boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    active_schema text        NOT NULL CHECK (active_schema ~ '^rg_[0-9]+$'),
    generation    integer     NOT NULL CHECK (active_schema = 'rg_' || generation),
    swapped_at    timestamptz NOT NULL DEFAULT now()
);
