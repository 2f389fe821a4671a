-- How mediation ended (issue 15): agreement (达成协议), failed (调解不成) or its window passed
-- (期满未结); arbitration follows only a failed mediation or a passed window.
ALTER TABLE cases
    ADD COLUMN mediation_outcome text CHECK (mediation_outcome IN ('agreement', 'failed', 'window_passed')),
    ADD COLUMN mediation_ended_on date,
    ADD CHECK ((mediation_outcome IS NULL) = (mediation_ended_on IS NULL));
