-- An erased person (enrollment.PersonErased) leaves no member id in the till's tables: their
-- codes go, their redemptions stay (they count towards an offer's stock) without the member id
-- or the masked name.
ALTER TABLE redemptions ALTER COLUMN member_id DROP NOT NULL;
CREATE INDEX till_codes_by_member ON till_codes (member_id);
CREATE INDEX redemptions_by_member ON redemptions (member_id) WHERE member_id IS NOT NULL;
