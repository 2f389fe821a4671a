"""What competitions holds on a member (for their copy of their data): their entries, what the
entries were awarded, objections to them (without who raised them), and the member's honours."""

from shared.personal_data import Holding

_OF_MY_ENTRIES = "t.entry_id IN (SELECT entry_id FROM entry_members WHERE member_id = $1)"

HOLDINGS = (
    Holding.rows("entry", "参赛报名", "entries", key="entry_id", at="registered_at", where=_OF_MY_ENTRIES),
    Holding.rows("award", "竞赛奖项", "awards", key="award_id", at="granted_at", where=_OF_MY_ENTRIES),
    Holding.rows(
        "entry_objection",
        "参赛异议",
        "objections",
        key="objection_id",
        at="raised_at",
        where=_OF_MY_ENTRIES,
        hidden=["raised_by"],
    ),
    Holding.rows("honour", "荣誉称号", "honours", key="honour_id", at="granted_on", where="t.member_id = $1"),
)
