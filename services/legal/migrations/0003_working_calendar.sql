-- The working-day calendar as data (issue 15): the State Council's public holidays and make-up
-- working days (调休上班日), one row per day that differs from "Monday to Friday are worked".
-- A year not yet published in working_calendar_years is counted by weekends alone, and a
-- deadline counted over it is marked provisional (暂按周末推算) until the year is published,
-- which recomputes it. Administered through
-- PUT /calendar/...; every change bumps the revision, which each replica compares with the
-- calendar it holds before computing a deadline.
CREATE TABLE working_calendar_years (
    year         integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    source       text NOT NULL,            -- the notice it follows
    published_by text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE working_calendar (
    day        date PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name       text NOT NULL,              -- 春节, 春节调休上班 ...
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'holiday' OR extract(isodow FROM day) IN (6, 7))  -- a make-up day is a weekend day
);

CREATE TABLE working_calendar_revision (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    revision bigint NOT NULL
);
INSERT INTO working_calendar_revision (revision) VALUES (1);

INSERT INTO working_calendar_years (year, source, published_by) VALUES
    (2025, '国务院办公厅关于2025年部分节假日安排的通知', 'migration'),
    (2026, '国务院办公厅关于2026年部分节假日安排的通知', 'migration');

-- shipped calendar: begin
INSERT INTO working_calendar (day, kind, name, updated_by)
SELECT day::date, kind, name, 'migration' FROM (VALUES
    ('2025-01-01', 'holiday', '元旦'),
    ('2025-01-26', 'workday', '春节调休上班'),
    ('2025-01-28', 'holiday', '春节'),
    ('2025-01-29', 'holiday', '春节'),
    ('2025-01-30', 'holiday', '春节'),
    ('2025-01-31', 'holiday', '春节'),
    ('2025-02-01', 'holiday', '春节'),
    ('2025-02-02', 'holiday', '春节'),
    ('2025-02-03', 'holiday', '春节'),
    ('2025-02-04', 'holiday', '春节'),
    ('2025-02-08', 'workday', '春节调休上班'),
    ('2025-04-04', 'holiday', '清明节'),
    ('2025-04-05', 'holiday', '清明节'),
    ('2025-04-06', 'holiday', '清明节'),
    ('2025-04-27', 'workday', '劳动节调休上班'),
    ('2025-05-01', 'holiday', '劳动节'),
    ('2025-05-02', 'holiday', '劳动节'),
    ('2025-05-03', 'holiday', '劳动节'),
    ('2025-05-04', 'holiday', '劳动节'),
    ('2025-05-05', 'holiday', '劳动节'),
    ('2025-05-31', 'holiday', '端午节'),
    ('2025-06-01', 'holiday', '端午节'),
    ('2025-06-02', 'holiday', '端午节'),
    ('2025-09-28', 'workday', '国庆节、中秋节调休上班'),
    ('2025-10-01', 'holiday', '国庆节、中秋节'),
    ('2025-10-02', 'holiday', '国庆节、中秋节'),
    ('2025-10-03', 'holiday', '国庆节、中秋节'),
    ('2025-10-04', 'holiday', '国庆节、中秋节'),
    ('2025-10-05', 'holiday', '国庆节、中秋节'),
    ('2025-10-06', 'holiday', '国庆节、中秋节'),
    ('2025-10-07', 'holiday', '国庆节、中秋节'),
    ('2025-10-08', 'holiday', '国庆节、中秋节'),
    ('2025-10-11', 'workday', '国庆节、中秋节调休上班'),
    ('2026-01-01', 'holiday', '元旦'),
    ('2026-01-02', 'holiday', '元旦'),
    ('2026-01-03', 'holiday', '元旦'),
    ('2026-01-04', 'workday', '元旦调休上班'),
    ('2026-02-14', 'workday', '春节调休上班'),
    ('2026-02-15', 'holiday', '春节'),
    ('2026-02-16', 'holiday', '春节'),
    ('2026-02-17', 'holiday', '春节'),
    ('2026-02-18', 'holiday', '春节'),
    ('2026-02-19', 'holiday', '春节'),
    ('2026-02-20', 'holiday', '春节'),
    ('2026-02-21', 'holiday', '春节'),
    ('2026-02-22', 'holiday', '春节'),
    ('2026-02-23', 'holiday', '春节'),
    ('2026-02-28', 'workday', '春节调休上班'),
    ('2026-04-04', 'holiday', '清明节'),
    ('2026-04-05', 'holiday', '清明节'),
    ('2026-04-06', 'holiday', '清明节'),
    ('2026-05-01', 'holiday', '劳动节'),
    ('2026-05-02', 'holiday', '劳动节'),
    ('2026-05-03', 'holiday', '劳动节'),
    ('2026-05-04', 'holiday', '劳动节'),
    ('2026-05-05', 'holiday', '劳动节'),
    ('2026-05-09', 'workday', '劳动节调休上班'),
    ('2026-06-19', 'holiday', '端午节'),
    ('2026-06-20', 'holiday', '端午节'),
    ('2026-06-21', 'holiday', '端午节'),
    ('2026-09-20', 'workday', '国庆节调休上班'),
    ('2026-09-25', 'holiday', '中秋节'),
    ('2026-09-26', 'holiday', '中秋节'),
    ('2026-09-27', 'holiday', '中秋节'),
    ('2026-10-01', 'holiday', '国庆节'),
    ('2026-10-02', 'holiday', '国庆节'),
    ('2026-10-03', 'holiday', '国庆节'),
    ('2026-10-04', 'holiday', '国庆节'),
    ('2026-10-05', 'holiday', '国庆节'),
    ('2026-10-06', 'holiday', '国庆节'),
    ('2026-10-07', 'holiday', '国庆节'),
    ('2026-10-10', 'workday', '国庆节调休上班')
) AS shipped (day, kind, name);
-- shipped calendar: end

-- A working-day deadline counted over a year not yet published (weekends alone): provisional
-- until the year's arrangement is published and the deadline recomputed.
ALTER TABLE supervisions
    ADD COLUMN opinion_reply_provisional boolean NOT NULL DEFAULT false,
    ADD COLUMN inspection_due_provisional boolean NOT NULL DEFAULT false,
    ADD CHECK (NOT opinion_reply_provisional OR opinion_reply_due IS NOT NULL),
    ADD CHECK (NOT inspection_due_provisional OR inspection_due IS NOT NULL);
