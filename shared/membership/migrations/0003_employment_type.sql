-- The member's employment type (front-line groups: flexible and migrant workers). Rows held
-- before this column came read as employees until their member's next event.
ALTER TABLE members ADD COLUMN IF NOT EXISTS employment_type text NOT NULL DEFAULT 'employee';
