-- The employer register (用人单位名录): public data (name and 统一社会信用代码 are published by
-- the state), one row per code. The responsible union (a township, street or park union, or
-- above) organises it; base_union_id is the base union covering it once one is founded or it has
-- joined a 联合工会. responsible_path is that union's path (root .. union, unions never move),
-- so a subtree's employers are one GIN lookup. version is the employer's event sequence (the
-- kit's event_versions numbers it; kept here so an answer shows it without a second read).
CREATE TABLE employers (
    employer_id          uuid PRIMARY KEY,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    credit_code          text NOT NULL UNIQUE CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
    region               text NOT NULL CHECK (region ~ '^[0-9]{6}$'),
    workforce            integer NOT NULL CHECK (workforce BETWEEN 0 AND 1000000),
    responsible_union_id uuid NOT NULL REFERENCES unions (union_id),
    responsible_path     uuid[] NOT NULL,
    base_union_id        uuid REFERENCES unions (union_id),
    should_have_union    boolean NOT NULL,
    version              integer NOT NULL CHECK (version >= 1),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX employers_by_responsible_path ON employers USING gin (responsible_path);
-- The list pages by (name, employer_id), names in code point order (the same whatever the locale).
CREATE INDEX employers_by_name ON employers ((name COLLATE "C"), employer_id);
CREATE INDEX employers_by_base_union ON employers (base_union_id) WHERE base_union_id IS NOT NULL;

-- Member search (GET /members/search): a name prefix (text_pattern_ops: byte order, so a range
-- on the prefix uses it whatever the collation), and the last four characters of the masked ID
-- (the masked form itself is found through them). Card and membership numbers are unique already.
CREATE INDEX members_by_name_prefix ON members (name text_pattern_ops);
CREATE INDEX persons_by_id_last4 ON persons (right(national_id_masked, 4));
