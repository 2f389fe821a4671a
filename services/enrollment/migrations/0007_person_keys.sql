-- Crypto-shredding (docs/erasure.md): each person's data key, wrapped by a key derived from the
-- service's PII_KEY. The events carry the person's name, masked ID and employer sealed with it;
-- erasure deletes the row (and publishes the erasure on the key topic), which makes every copy
-- of those events unreadable.
CREATE TABLE person_keys (
    person_id   uuid PRIMARY KEY REFERENCES persons (person_id),
    wrapped_key bytea NOT NULL
);
