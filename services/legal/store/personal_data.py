"""What legal holds on a member (for their copy of their data): the cases that cover them, their
counsel and deadline notices. The other workers a case covers are left out (their ids are theirs)."""

from shared.personal_data import Holding

_OF_MY_CASES = "t.case_id IN (SELECT case_id FROM cases WHERE $1 = ANY(member_ids))"

HOLDINGS = (
    Holding.rows(
        "legal_case",
        "法律援助案件",
        "cases",
        key="case_id",
        at="filed_at",
        where="$1 = ANY(t.member_ids)",
        hidden=["member_ids"],
    ),
    Holding.rows(
        "counsel_assignment",
        "指派律师",
        "counsel_assignments",
        key="id",
        at="assigned_at",
        where=_OF_MY_CASES,
    ),
    # Deadline notices are the kit's durable timers of the case (shared/timers.py).
    Holding.rows(
        "deadline",
        "时限提醒",
        "timers",
        key="timer_id",
        at="fire_at",
        where="t.kind = 'legal.deadline' AND t.subject IN "
        "(SELECT 'case:' || case_id::text FROM cases WHERE $1 = ANY(member_ids))",
    ),
)
