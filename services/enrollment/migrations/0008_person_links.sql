-- Real-name verification (实名认证): an identity account linked to one person, and one person to
-- one account. The identity service asks for the link (POST /persons/links) and never holds the
-- national ID; `how` says whether a new or known non-member was linked (real_name) or an
-- existing member claimed their membership (claim). Each link and transfer is in the audit trail.
CREATE TABLE person_links (
    person_id  uuid PRIMARY KEY REFERENCES persons (person_id),
    account_id uuid NOT NULL UNIQUE,
    linked_at  timestamptz NOT NULL,
    how        text NOT NULL CHECK (how IN ('real_name', 'claim'))
);
