"""What legal holds on a member (for their copy of their data): the cases that cover them, their
deadlines and counsel. The other workers a case covers are left out (their ids are theirs)."""

from shared.personal_data import Holding

_OF_MEMBER = "SELECT case_id FROM cases WHERE $1 = ANY(member_ids)"

HOLDINGS = (
    Holding(
        "legal_case",
        "法律援助案件",
        """SELECT case_id::text AS record_id, filed_at AS recorded_at, to_jsonb(c) - 'member_ids' AS data
           FROM cases c WHERE $1 = ANY(member_ids) ORDER BY filed_at""",
    ),
    Holding(
        "counsel_assignment",
        "指派律师",
        f"""SELECT id::text AS record_id, assigned_at AS recorded_at, to_jsonb(a) AS data
            FROM counsel_assignments a WHERE case_id IN ({_OF_MEMBER}) ORDER BY assigned_at""",
    ),
    Holding(
        "deadline",
        "时限提醒",
        # Deadline notices are the kit's durable timers of the case (shared/timers.py).
        """SELECT timer_id::text AS record_id, fire_at AS recorded_at,
                   payload || jsonb_build_object('case_id', substr(subject, 6), 'status', status,
                                                 'fire_at', fire_at, 'fired_at', fired_at) AS data
            FROM timers WHERE kind = 'legal.deadline'
              AND subject IN (SELECT 'case:' || case_id::text FROM cases WHERE $1 = ANY(member_ids))
            ORDER BY fire_at""",
    ),
)
