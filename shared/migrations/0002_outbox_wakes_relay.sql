-- Every statement that adds outbox rows wakes the relay (channel shared.outbox.NOTIFY_CHANNEL);
-- delivered on commit only. Done here rather than by a pg_notify from the writer, which cost
-- each command one more round trip.
CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_ready', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_wake_relay AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay();
