"""What competitions holds on a member (for their copy of their data): their entries, what the
entries were awarded, objections to them, and the member's honours."""

from shared.personal_data import Holding

_ENTRIES = "SELECT entry_id FROM entry_members WHERE member_id = $1"

HOLDINGS = (
    Holding(
        "entry",
        "参赛报名",
        f"""SELECT entry_id::text AS record_id, registered_at AS recorded_at, to_jsonb(e) AS data
            FROM entries e WHERE entry_id IN ({_ENTRIES}) ORDER BY registered_at""",
    ),
    Holding(
        "award",
        "竞赛奖项",
        f"""SELECT award_id::text AS record_id, granted_at AS recorded_at, to_jsonb(a) AS data
            FROM awards a WHERE entry_id IN ({_ENTRIES}) ORDER BY granted_at""",
    ),
    Holding(
        "entry_objection",
        "参赛异议",
        f"""SELECT objection_id::text AS record_id, raised_at AS recorded_at,
                   to_jsonb(o) - 'raised_by' AS data
            FROM objections o WHERE entry_id IN ({_ENTRIES}) ORDER BY raised_at""",
    ),
    Holding(
        "honour",
        "荣誉称号",
        """SELECT honour_id::text AS record_id, granted_on::timestamptz AS recorded_at, to_jsonb(h) AS data
           FROM honours h WHERE member_id = $1 ORDER BY granted_on""",
    ),
)
