-- The member's inbox (消息, issue 18): the live generation gains inbox, one row per (member,
-- source event), so a redelivered event never doubles an item (later generations get it from
-- store/generation.sql, which defines the same table).
DO $$
DECLARE
    live text := (SELECT active_schema FROM projection_state);
BEGIN
    EXECUTE format($ddl$
CREATE TABLE %1$I.inbox (
    member_id   uuid NOT NULL,
    event_id    uuid NOT NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (member_id, event_id)
);
CREATE INDEX inbox_by_member ON %1$I.inbox (member_id, occurred_at, event_id);
    $ddl$, live);
    EXECUTE format('CREATE VIEW public.inbox AS SELECT * FROM %I.inbox', live);
END $$;
