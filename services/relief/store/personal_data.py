"""What relief holds on a member (for their copy of their data): the files and what was done in
them. Keyed hashes stay out, and so does who raised an objection (another person's data)."""

from shared.personal_data import Holding

_OF_MEMBER = "SELECT case_id FROM cases WHERE member_id = $1"

HOLDINGS = (
    Holding(
        "relief_case",
        "困难帮扶档案",
        """SELECT case_id::text AS record_id, opened_at AS recorded_at,
                  to_jsonb(c) - 'household_hash' AS data
           FROM cases c WHERE member_id = $1 ORDER BY opened_at""",
    ),
    Holding(
        "hardship_report",
        "困难申报",
        """SELECT report_id::text AS record_id, reported_at AS recorded_at, to_jsonb(r) AS data
           FROM case_reports r WHERE member_id = $1 ORDER BY reported_at""",
    ),
    Holding(
        "visit",
        "入户核查",
        f"""SELECT visit_id::text AS record_id, recorded_at, to_jsonb(v) AS data
            FROM visits v WHERE case_id IN ({_OF_MEMBER}) ORDER BY recorded_at""",
    ),
    Holding(
        "eligibility_override",
        "认定意见",
        f"""SELECT case_id::text AS record_id, overridden_at AS recorded_at, to_jsonb(o) AS data
            FROM eligibility_overrides o WHERE case_id IN ({_OF_MEMBER}) ORDER BY overridden_at""",
    ),
    Holding(
        "approval_step",
        "审批",
        f"""SELECT step_id::text AS record_id, requested_at AS recorded_at, to_jsonb(s) AS data
            FROM approval_steps s WHERE case_id IN ({_OF_MEMBER}) ORDER BY requested_at""",
    ),
    Holding(
        "objection",
        "公示异议",
        f"""SELECT objection_id::text AS record_id, raised_at AS recorded_at,
                   to_jsonb(o) - 'objector' AS data
            FROM objections o WHERE case_id IN ({_OF_MEMBER}) ORDER BY raised_at""",
    ),
    Holding(
        "follow_up",
        "跟踪回访",
        f"""SELECT follow_up_id::text AS record_id, recorded_at, to_jsonb(f) AS data
            FROM follow_ups f WHERE case_id IN ({_OF_MEMBER}) ORDER BY recorded_at""",
    ),
    Holding(
        "aid_paid",
        "救助发放",
        """SELECT disbursement_id::text AS record_id, paid_at AS recorded_at,
                  to_jsonb(d) - 'request_hash' - 'idempotency_key' AS data
           FROM disbursements d WHERE member_id = $1 ORDER BY paid_at""",
    ),
)
