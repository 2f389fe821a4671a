"""Writes (guarded by the member's event version) and reads of the card read model."""

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from services.projector.store.generations import LiveSchema
from shared.contracts import legal, relief
from shared.contracts.competitions import (
    AwardGranted,
    HonourGranted,
    HonourRenewed,
    HonourRevoked,
    ResultFinalized,
)
from shared.contracts.enrollment import MembershipPeriod, MemberSnapshot, TransferSnapshot
from shared.contracts.relief_programmes import ProgrammeReceipt
from shared.db import Conn

# The card keeps the member's periods as they are in the event, as JSON made by pydantic-core.
_PERIODS_JSON = TypeAdapter(list[MembershipPeriod])
# A member's programme receipts, kept as the event gives them (the card reads them back whole).
_RECEIPTS_JSON = TypeAdapter(list[ProgrammeReceipt])


async def upsert_card(conn: Conn, version: int, m: MemberSnapshot) -> None:
    # Skipped for an erased person: a reader of both enrollment topics may meet an older snapshot
    # (another part's key, another partition) after the erasure, and the card row is gone.
    await conn.execute(
        """INSERT INTO cards (member_id, version, name, national_id_masked, membership_number,
               card_number, base_union_id, status, member_since, employer, employment_type, periods)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name,
               national_id_masked = EXCLUDED.national_id_masked,
               membership_number = EXCLUDED.membership_number, card_number = EXCLUDED.card_number,
               base_union_id = EXCLUDED.base_union_id, status = EXCLUDED.status,
               member_since = EXCLUDED.member_since, employer = EXCLUDED.employer,
               employment_type = EXCLUDED.employment_type, periods = EXCLUDED.periods,
               updated_at = now()
           WHERE cards.version < EXCLUDED.version""",
        m.member_id, version, m.name, m.national_id_masked, m.membership_number, m.card_number,
        m.base_union_id, m.status.value, m.member_since, m.employer, m.employment_type.value,
        _PERIODS_JSON.dump_json(m.periods).decode(),
    )  # fmt: skip


async def erase_member(conn: Conn, member_id: uuid.UUID, at: datetime) -> None:
    """Everything the card holds on an erased person goes: the card answers 404 from then on, and
    the writes of other services' events skip them (erased_members). Those services keep their
    records without the name; the partners' statistics keep counting their redemptions, but no
    longer count them among an offer's distinct members (that would need to know who they were).
    One statement: batched writes run it at once, in order."""
    await conn.execute(
        """WITH e AS (INSERT INTO erased_members (member_id, erased_at) VALUES ($1, $2)
                      ON CONFLICT (member_id) DO NOTHING),
                c AS (DELETE FROM cards WHERE member_id = $1),
                a AS (DELETE FROM applications WHERE person_id = $1),
                t AS (DELETE FROM member_transfers WHERE member_id = $1),
                r AS (DELETE FROM relief_cases WHERE member_id = $1),
                pr AS (DELETE FROM programme_receipts WHERE member_id = $1),
                h AS (DELETE FROM honours WHERE member_id = $1),
                cr AS (DELETE FROM competition_results WHERE member_id = $1),
                ca AS (DELETE FROM competition_awards WHERE member_id = $1),
                rd AS (DELETE FROM redemptions WHERE member_id = $1),
                ib AS (DELETE FROM inbox WHERE member_id = $1),
                sr AS (DELETE FROM offer_redeemers WHERE member_key = $1)
           DELETE FROM legal_cases WHERE member_id = $1""",
        member_id, at,
    )  # fmt: skip


async def upsert_transfer(conn: Conn, version: int, t: TransferSnapshot) -> None:
    """The member's latest transfer request, whatever its status (the card shows a pending one)."""
    await conn.execute(
        """INSERT INTO member_transfers (member_id, version, transfer_id, from_union_id, to_union_id,
               status, requested_at, expires_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version,
               transfer_id = EXCLUDED.transfer_id, from_union_id = EXCLUDED.from_union_id,
               to_union_id = EXCLUDED.to_union_id, status = EXCLUDED.status,
               requested_at = EXCLUDED.requested_at, expires_at = EXCLUDED.expires_at, updated_at = now()
           WHERE member_transfers.version < EXCLUDED.version""",
        t.member_id, version, t.transfer_id, t.from_union_id, t.to_union_id, t.status.value,
        t.requested_at, t.expires_at,
    )  # fmt: skip


async def upsert_application(
    conn: Conn,
    person_id: uuid.UUID,
    version: int,
    application_id: uuid.UUID,
    base_union_id: uuid.UUID,
    status: str,
    reason: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO applications (person_id, version, application_id, base_union_id, status, reason)
           SELECT $1, $2, $3, $4, $5, $6
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (person_id) DO UPDATE SET version = EXCLUDED.version,
               application_id = EXCLUDED.application_id, base_union_id = EXCLUDED.base_union_id,
               status = EXCLUDED.status, reason = EXCLUDED.reason, updated_at = now()
           WHERE applications.version < EXCLUDED.version""",
        person_id, version, application_id, base_union_id, status, reason,
    )  # fmt: skip


# The card row, its union and the member's latest application: what every card read starts from
# (and what the access check needs). {extra} adds columns of a particular read, fixed text only.
CARD_ROW = """
SELECT c.*, u.name AS union_name, u.path AS union_path, u.path_names AS union_path_names,
       u.region AS union_region,
       a.status AS application_status, a.reason AS application_reason,
       a.application_id, a.version AS application_version,
       a.base_union_id AS application_union_id,
       au.path AS application_union_path, {guard} {extra}
FROM (SELECT $1::uuid AS id) k
LEFT JOIN {s}.cards c ON c.member_id = k.id
LEFT JOIN {s}.unions u ON u.union_id = c.base_union_id
LEFT JOIN {s}.applications a ON a.person_id = k.id
LEFT JOIN {s}.unions au ON au.union_id = a.base_union_id
"""

# Everything the card shows, in one statement (one round trip, one snapshot). $2: whether the
# member themself reads (only then are the relief case, the disputes, the redemptions and the
# programme receipts read);
# $3: how many recent results and awards; $4: how many recent redemptions.
CARD_DETAILS = """,
       CASE WHEN $2 THEN (SELECT jsonb_build_object('case_id', r.case_id, 'status', r.status,
                                     'tier', r.tier, 'aid_year', r.aid_year,
                                     'aid_paid_fen', r.aid_paid_fen)
                          FROM {s}.relief_cases r WHERE r.member_id = k.id) END AS relief,
       (SELECT coalesce(jsonb_agg(h ORDER BY h.granted_on DESC), '[]')
        FROM (SELECT kind, title, granted_on, valid_until, competition_name, team_name FROM {s}.honours
              WHERE member_id = k.id AND revoked_on IS NULL AND valid_until >= current_date) h)
           AS honours,
       (SELECT coalesce(jsonb_agg(x ORDER BY x.finalized_at DESC), '[]')
        FROM (SELECT competition_name, competition_kind, stage_name, team_name, rank, of_entries,
                     score, finalized_at
              FROM {s}.competition_results WHERE member_id = k.id ORDER BY finalized_at DESC LIMIT $3) x)
           AS results,
       (SELECT coalesce(jsonb_agg(w ORDER BY w.granted_at DESC), '[]')
        FROM (SELECT title, competition_name, team_name, rank, granted_at FROM {s}.competition_awards
              WHERE member_id = k.id ORDER BY granted_at DESC LIMIT $3) w)
           AS awards,
       (SELECT jsonb_build_object('transfer_id', t.transfer_id, 'to_union_id', t.to_union_id,
                                  'to_union_name', tu.name, 'status', t.status,
                                  'requested_at', t.requested_at, 'expires_at', t.expires_at)
        FROM {s}.member_transfers t LEFT JOIN {s}.unions tu ON tu.union_id = t.to_union_id
        WHERE t.member_id = k.id AND t.status = 'pending') AS pending_transfer,
       CASE WHEN $2 THEN
           (SELECT coalesce(jsonb_agg(to_jsonb(d) - 'closed' - 'updated_at'
                                      ORDER BY d.closed, d.updated_at DESC), '[]')
            FROM (SELECT case_no, kind, stage, outcome, next_deadline, next_due_on,
                         stage = 'closed' AS closed, updated_at
                  FROM {s}.legal_cases WHERE member_id = k.id) d)
       ELSE '[]' END AS legal_cases,
       CASE WHEN $2 THEN
           (SELECT coalesce(jsonb_agg(x ORDER BY x.redeemed_at DESC, x.redemption_id DESC), '[]')
            FROM (SELECT r.redemption_id, r.redeemed_at, r.partner_id, m.name AS merchant_name,
                         o.title AS offer_title
                  FROM {s}.redemptions r
                  LEFT JOIN {s}.merchants m ON m.merchant_id = r.merchant_id
                  LEFT JOIN {s}.offers o ON o.offer_key = r.offer_key
                  WHERE r.member_id = k.id
                  ORDER BY r.redeemed_at DESC, r.redemption_id DESC LIMIT $4) x)
       ELSE '[]' END AS redemptions,
       CASE WHEN $2 THEN
           coalesce((SELECT p.receipts FROM {s}.programme_receipts p WHERE p.member_id = k.id), '[]')
       ELSE '[]' END AS programme_aid"""
CARD_DETAIL_LISTS = ("honours", "results", "awards", "legal_cases", "redemptions", "programme_aid")
RECENT_REDEMPTIONS = 20  # the card's usage history: the last 20, newest first


def card_or_none(row: Any) -> dict[str, Any] | None:
    """The row as a dict, or None when the member has neither a card nor an application."""
    if row is None or (row["member_id"] is None and row["application_id"] is None):
        return None
    return dict(row)


def card_row_sql(extra: str) -> str:
    """CARD_ROW with the columns of a particular read; `{s}` stays for LiveSchema to fill."""
    return CARD_ROW.format(extra=extra, guard=LiveSchema.GUARD, s="{s}")


CARD_WITH_DETAILS = card_row_sql(CARD_DETAILS)


async def card_with_details(
    conn: Conn,
    live: LiveSchema,
    member_id: uuid.UUID,
    *,
    own: bool,
    recent: int = 5,
    redemptions: int = RECENT_REDEMPTIONS,
) -> dict[str, Any] | None:
    """The card row with "relief" and "pending_transfer" (each a dict or None) and the lists
    "honours" (current today), "results" and "awards" (the most recent), "legal_cases" (open
    first, latest first), "redemptions" (the member's own view only: the most recent first),
    "programme_aid" (the member's own view only: the receipts as relief last sent them)."""
    card = card_or_none(await live.fetchrow(conn, CARD_WITH_DETAILS, member_id, own, recent, redemptions))
    if card is not None:
        for name in ("relief", "pending_transfer"):
            card[name] = json.loads(card[name]) if card[name] is not None else None
        for name in CARD_DETAIL_LISTS:
            card[name] = json.loads(card[name], parse_float=Decimal)  # scores stay exact
    return card


async def list_cards(
    conn: Conn,
    union_id: uuid.UUID,
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT c.member_id, c.name, c.national_id_masked, c.membership_number, c.card_number,
                  c.status, c.member_since, c.base_union_id, u.name AS union_name
           FROM cards c JOIN unions u ON u.union_id = c.base_union_id
           WHERE u.path @> ARRAY[$1::uuid] AND ($2::text IS NULL OR c.status = $2)
             AND ($3::uuid IS NULL OR c.member_id > $3)
           ORDER BY c.member_id LIMIT $4""",
        union_id, status, after, limit,
    )  # fmt: skip
    return [dict(r) for r in rows]


async def union_path(conn: Conn, union_id: uuid.UUID) -> list[uuid.UUID] | None:
    path = await conn.fetchval("SELECT path FROM unions WHERE union_id = $1", union_id)
    return list(path) if path is not None else None


async def upsert_relief_case(conn: Conn, version: int, case: relief.CaseSnapshot) -> None:
    await conn.execute(
        """INSERT INTO relief_cases
               (member_id, version, case_id, status, tier, union_id, aid_year, aid_paid_fen)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version, case_id = EXCLUDED.case_id,
               status = EXCLUDED.status, tier = EXCLUDED.tier, union_id = EXCLUDED.union_id,
               aid_year = EXCLUDED.aid_year, aid_paid_fen = EXCLUDED.aid_paid_fen, updated_at = now()
           WHERE relief_cases.version < EXCLUDED.version""",
        case.member_id, version, case.case_id, case.status.value, case.tier.value if case.tier else None,
        case.union_id, case.aid_year, case.aid_paid_fen,
    )  # fmt: skip


async def replace_programme_receipts(
    conn: Conn, version: int, member_id: uuid.UUID, receipts: list[ProgrammeReceipt]
) -> None:
    """The member's receipts become the newest event's, whole; an older event changes nothing."""
    await conn.execute(
        """INSERT INTO programme_receipts (member_id, version, receipts)
           SELECT $1, $2, $3::jsonb
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version,
               receipts = EXCLUDED.receipts, updated_at = now()
           WHERE programme_receipts.version < EXCLUDED.version""",
        member_id, version, _RECEIPTS_JSON.dump_json(receipts).decode(),
    )  # fmt: skip


async def upsert_honour(conn: Conn, version: int, h: HonourGranted | HonourRenewed) -> None:
    competition = h.competition.name if isinstance(h, HonourGranted) and h.competition else None
    team = h.team_name if isinstance(h, HonourGranted) else None
    await conn.execute(
        """INSERT INTO honours (honour_id, member_id, version, kind, title, granted_on, valid_until,
               competition_name, team_name)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $2)
           ON CONFLICT (honour_id) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title,
               granted_on = EXCLUDED.granted_on, valid_until = EXCLUDED.valid_until, revoked_on = NULL,
               competition_name = coalesce(EXCLUDED.competition_name, honours.competition_name),
               team_name = coalesce(EXCLUDED.team_name, honours.team_name), updated_at = now()
           WHERE honours.version < EXCLUDED.version""",
        h.honour_id, h.member_id, version, h.kind.value, h.title, h.granted_on, h.valid_until,
        competition, team,
    )  # fmt: skip


async def revoke_honour(conn: Conn, version: int, h: HonourRevoked) -> None:
    await conn.execute(
        """INSERT INTO honours
               (honour_id, member_id, version, kind, title, granted_on, valid_until, revoked_on)
           SELECT $1, $2, $3, $4, $5, $6, $6, $6
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $2)
           ON CONFLICT (honour_id) DO UPDATE SET version = EXCLUDED.version,
               revoked_on = EXCLUDED.revoked_on, updated_at = now()
           WHERE honours.version < EXCLUDED.version""",
        h.honour_id, h.member_id, version, h.kind.value, h.title, h.revoked_on,
    )  # fmt: skip


async def upsert_result(conn: Conn, version: int, r: ResultFinalized) -> None:
    await conn.execute(
        """INSERT INTO competition_results (member_id, stage_id, version, competition_name,
               competition_kind, stage_name, team_name, rank, of_entries, score, finalized_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)
           ON CONFLICT (member_id, stage_id) DO UPDATE SET version = EXCLUDED.version,
               rank = EXCLUDED.rank, of_entries = EXCLUDED.of_entries, score = EXCLUDED.score,
               finalized_at = EXCLUDED.finalized_at
           WHERE competition_results.version < EXCLUDED.version""",
        r.member_id, r.stage_id, version, r.competition.name, r.competition.kind.value, r.stage_name,
        r.entry.team_name, r.rank, r.of_entries, r.score, r.finalized_at,
    )  # fmt: skip


async def insert_award(conn: Conn, version: int, a: AwardGranted) -> None:
    await conn.execute(
        """INSERT INTO competition_awards (award_id, member_id, version, title, competition_name,
               team_name, rank, granted_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $2)
           ON CONFLICT DO NOTHING""",
        a.award_id, a.member_id, version, a.title, a.competition.name, a.entry.team_name, a.rank,
        a.granted_at,
    )  # fmt: skip


async def upsert_legal_case(conn: Conn, version: int, case: legal.CaseSnapshot) -> None:
    deadline = case.next_deadline
    await conn.executemany(
        """INSERT INTO legal_cases (case_id, member_id, version, case_no, kind, stage, outcome,
               next_deadline, next_due_on)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
           WHERE NOT EXISTS (SELECT FROM erased_members WHERE member_id = $2)
           ON CONFLICT (case_id, member_id) DO UPDATE SET version = EXCLUDED.version,
               stage = EXCLUDED.stage, outcome = EXCLUDED.outcome,
               next_deadline = EXCLUDED.next_deadline, next_due_on = EXCLUDED.next_due_on, updated_at = now()
           WHERE legal_cases.version < EXCLUDED.version""",
        [
            (case.case_id, member_id, version, case.case_no, case.kind.value, case.stage.value,
             case.outcome.value if case.outcome else None,
             deadline.name.value if deadline else None, deadline.due_on if deadline else None)
            for member_id in case.member_ids
        ],
    )  # fmt: skip
