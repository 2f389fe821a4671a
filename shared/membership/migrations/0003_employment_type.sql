-- The member's employment type (front-line groups: flexible and migrant workers). Rows held
-- before this column came are NULL (not known): shared/membership/refresh.py fills them from
-- enrollment's state topic when the service starts; every snapshot applied since sets it.
ALTER TABLE members ADD COLUMN IF NOT EXISTS employment_type text;
