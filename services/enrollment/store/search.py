"""SQL of the member search. Every function takes the connection of the caller's transaction."""

import uuid
from dataclasses import dataclass

from services.enrollment.domain.search import MemberQuery
from shared.contracts.enrollment import MembershipStatus
from shared.db import Conn


@dataclass(frozen=True)
class FoundMember:
    member_id: uuid.UUID
    name: str
    national_id_masked: str
    card_number: str
    membership_number: str
    base_union_id: uuid.UUID
    base_union_name: str
    status: MembershipStatus


# Each reading of the words is its own branch on its own index (name prefix, the unique
# numbers, the ID's last four); the union's path then keeps the scope. An erased person is
# never found (no name, no ID left to show).
_SEARCH = r"""
WITH hits AS (
    SELECT member_id FROM members
    WHERE $2::text IS NOT NULL AND name ~>=~ $2 AND name ~<~ $3
          AND starts_with(name, $2)
    UNION
    SELECT member_id FROM members WHERE card_number = $4
    UNION
    SELECT member_id FROM members WHERE membership_number = $4
    UNION
    SELECT person_id FROM persons
    WHERE right(national_id_masked, 4) = $5
          AND ($6::text IS NULL OR left(national_id_masked, 4) = $6)
          AND ($7::int IS NULL OR length(national_id_masked) = $7)
)
SELECT m.member_id, m.name, p.national_id_masked, m.card_number, m.membership_number,
       m.base_union_id, u.name AS base_union_name, m.status
FROM hits h
JOIN members m ON m.member_id = h.member_id
JOIN persons p ON p.person_id = m.member_id AND p.erased_at IS NULL
JOIN unions u ON u.union_id = m.base_union_id
WHERE $1::uuid IS NULL OR u.path @> ARRAY[$1::uuid]
ORDER BY m.name, m.member_id
LIMIT $8
"""


async def search_members(
    conn: Conn, scope: uuid.UUID | None, q: MemberQuery, limit: int
) -> list[FoundMember]:
    """Members in `scope`'s subtree (None: everywhere) that the query finds, by name."""
    rows = await conn.fetch(
        _SEARCH, scope, q.name_from, q.name_below, q.number, q.id_last4, q.id_first4, q.id_length, limit
    )
    return [
        FoundMember(
            member_id=r["member_id"], name=r["name"], national_id_masked=r["national_id_masked"],
            card_number=r["card_number"], membership_number=r["membership_number"],
            base_union_id=r["base_union_id"], base_union_name=r["base_union_name"],
            status=MembershipStatus(r["status"]),
        )
        for r in rows
    ]  # fmt: skip
