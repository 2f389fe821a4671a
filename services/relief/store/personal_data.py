"""What relief holds on a member (for their copy of their data): the files and what was done in
them. Keyed hashes stay out, and so does who raised an objection (another person's data)."""

from shared.personal_data import Holding

_MINE = "t.member_id = $1"
_OF_MY_CASES = "t.case_id IN (SELECT case_id FROM cases WHERE member_id = $1)"

HOLDINGS = (
    Holding.rows(
        "relief_case",
        "困难帮扶档案",
        "cases",
        key="case_id",
        at="opened_at",
        where=_MINE,
        hidden=["household_hash"],
    ),
    Holding.rows(
        "hardship_report", "困难申报", "case_reports", key="report_id", at="reported_at", where=_MINE
    ),
    Holding.rows("visit", "入户核查", "visits", key="visit_id", at="recorded_at", where=_OF_MY_CASES),
    Holding.rows(
        "eligibility_override",
        "认定意见",
        "eligibility_overrides",
        key="case_id",
        at="overridden_at",
        where=_OF_MY_CASES,
    ),
    Holding.rows(
        "approval_step", "审批", "approval_steps", key="step_id", at="requested_at", where=_OF_MY_CASES
    ),
    Holding.rows(
        "objection",
        "公示异议",
        "objections",
        key="objection_id",
        at="raised_at",
        where=_OF_MY_CASES,
        hidden=["objector"],
    ),
    Holding.rows(
        "follow_up", "跟踪回访", "follow_ups", key="follow_up_id", at="recorded_at", where=_OF_MY_CASES
    ),
    Holding.rows(
        "aid_paid",
        "救助发放",
        "disbursements",
        key="disbursement_id",
        at="paid_at",
        where=_MINE,
        hidden=["request_hash", "idempotency_key"],
    ),
    # 金秋助学: the member's applications, the objections to them (not who raised them) and the
    # evidence files' particulars (not their bytes).
    Holding.rows(
        "student_aid_application",
        "金秋助学申请",
        "student_aid_applications",
        key="application_id",
        at="filed_at",
        where=_MINE,
        hidden=["student_hash", "request_hash", "idempotency_key"],
    ),
    Holding.rows(
        "student_aid_objection",
        "金秋助学公示异议",
        "student_aid_objections",
        key="objection_id",
        at="raised_at",
        where="t.application_id IN "
        "(SELECT application_id FROM student_aid_applications WHERE member_id = $1)",
        hidden=["raised_by"],
    ),
    Holding.rows(
        "student_aid_evidence",
        "金秋助学录取材料",
        "student_aid_evidence",
        key="file_id",
        at="uploaded_at",
        where="t.uploader_member_id = $1 OR t.file_id IN "
        "(SELECT evidence_file_id FROM student_aid_applications WHERE member_id = $1)",
        hidden=["data", "uploaded_by"],
    ),
)
