"""SQL for 送温暖 campaigns: campaigns, allocations down the tree, lists and their entries,
payments. The allocation guards are conditional UPDATEs (a row lock and a re-checked WHERE:
concurrent changes queue and each sees the others' effect); once per recipient per campaign is
a unique index."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from services.relief.domain.campaigns import Allocation, Candidate, ListStatus
from shared.contracts.relief import Tier
from shared.contracts.relief_programmes import CampaignSnapshot, CampaignStatus, RecipientGroup
from shared.db import Conn

# Campaigns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: uuid.UUID
    title: str
    union_id: uuid.UUID
    union_name: str
    union_path: list[uuid.UUID]
    starts_on: date
    ends_on: date
    total_fen: int
    amounts_fen: dict[RecipientGroup, int]
    status: CampaignStatus
    launched_by: str
    launched_at: datetime
    closed_at: datetime | None
    allocated_fen: int  # the launching union's, handed on to its children
    paid_fen: int  # paid through every list

    def snapshot(self) -> CampaignSnapshot:
        return CampaignSnapshot(
            campaign_id=self.campaign_id, title=self.title, union_id=self.union_id, starts_on=self.starts_on,
            ends_on=self.ends_on, total_fen=self.total_fen, amounts_fen=self.amounts_fen, status=self.status,
        )  # fmt: skip


_CAMPAIGN = """SELECT c.*, u.name AS union_name, u.path AS union_path,
                  coalesce((SELECT a.allocated_fen FROM campaign_allocations a
                            WHERE a.campaign_id = c.campaign_id AND a.union_id = c.union_id), 0)
                      AS allocated_fen,
                  coalesce((SELECT sum(p.amount_fen) FROM campaign_payments p
                            WHERE p.campaign_id = c.campaign_id), 0) AS paid_fen
               FROM campaigns c JOIN unions u ON u.union_id = c.union_id"""


def _campaign(r: asyncpg.Record) -> CampaignRow:
    return CampaignRow(
        r["campaign_id"], r["title"], r["union_id"], r["union_name"], list(r["union_path"]), r["starts_on"],
        r["ends_on"], r["total_fen"], {RecipientGroup(k): v for k, v in json.loads(r["amounts_fen"]).items()},
        CampaignStatus(r["status"]), r["launched_by"], r["launched_at"], r["closed_at"],
        int(r["allocated_fen"]), int(r["paid_fen"]),
    )  # fmt: skip


async def insert_campaign(
    conn: Conn,
    campaign_id: uuid.UUID,
    title: str,
    union_id: uuid.UUID,
    period: tuple[date, date],
    total_fen: int,
    amounts_fen: dict[RecipientGroup, int],
    by: str,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO campaigns (campaign_id, title, union_id, starts_on, ends_on, total_fen, amounts_fen,
               launched_by, launched_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)""",
        campaign_id, title, union_id, period[0], period[1], total_fen,
        json.dumps({g.value: f for g, f in amounts_fen.items()}), by, at,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO campaign_allocations (campaign_id, union_id, parent_union_id, total_fen, set_by)
           VALUES ($1, $2, NULL, $3, $4)""",
        campaign_id, union_id, total_fen, by,
    )  # fmt: skip


async def get_campaign(conn: Conn, campaign_id: uuid.UUID, *, for_update: bool = False) -> CampaignRow | None:
    lock = " FOR UPDATE OF c" if for_update else ""
    row = await conn.fetchrow(f"{_CAMPAIGN} WHERE c.campaign_id = $1{lock}", campaign_id)
    return _campaign(row) if row else None


async def campaigns_concerning(
    conn: Conn,
    union_id: uuid.UUID,
    union_path: Sequence[uuid.UUID],
    status: CampaignStatus | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[CampaignRow]:
    """Launched by the union or above it, or inside its subtree; newest first, after a cursor."""
    rows = await conn.fetch(
        f"""{_CAMPAIGN}
            WHERE (c.union_id = ANY($2::uuid[]) OR $1 = ANY(u.path))
              AND ($3::text IS NULL OR c.status = $3)
              AND ($4::timestamptz IS NULL OR (c.launched_at, c.campaign_id) < ($4, $5))
            ORDER BY c.launched_at DESC, c.campaign_id DESC LIMIT $6""",
        union_id, list(union_path), status.value if status else None,
        before[0] if before else None, before[1] if before else None, limit,
    )  # fmt: skip
    return [_campaign(r) for r in rows]


async def close_campaign(conn: Conn, campaign_id: uuid.UUID, at: datetime) -> bool:
    status = await conn.execute(
        "UPDATE campaigns SET status = 'closed', closed_at = $2 WHERE campaign_id = $1 AND status = 'open'",
        campaign_id,
        at,
    )
    return bool(status == "UPDATE 1")


# Allocations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationRow:
    campaign_id: uuid.UUID
    union_id: uuid.UUID
    parent_union_id: uuid.UUID | None
    allocation: Allocation


def _allocation(r: asyncpg.Record) -> AllocationRow:
    return AllocationRow(
        r["campaign_id"], r["union_id"], r["parent_union_id"],
        Allocation(r["total_fen"], r["allocated_fen"], r["paid_fen"]),
    )  # fmt: skip


async def get_allocation(
    conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID, *, for_update: bool = False
) -> AllocationRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT * FROM campaign_allocations WHERE campaign_id = $1 AND union_id = $2{lock}",
        campaign_id,
        union_id,
    )
    return _allocation(row) if row else None


async def ensure_allocation(
    conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID, parent_union_id: uuid.UUID, by: str
) -> AllocationRow:
    """The child's row, locked (made at 0 the first time: two first allocations then queue on it)."""
    await conn.execute(
        """INSERT INTO campaign_allocations (campaign_id, union_id, parent_union_id, total_fen, set_by)
           VALUES ($1, $2, $3, 0, $4) ON CONFLICT (campaign_id, union_id) DO NOTHING""",
        campaign_id, union_id, parent_union_id, by,
    )  # fmt: skip
    row = await get_allocation(conn, campaign_id, union_id, for_update=True)
    assert row is not None
    return row


async def hand_on(conn: Conn, campaign_id: uuid.UUID, parent_id: uuid.UUID, delta_fen: int) -> bool:
    """The parent's allocated amount moves by delta if, and only if, it stays within its total."""
    status = await conn.execute(
        """UPDATE campaign_allocations SET allocated_fen = allocated_fen + $3, updated_at = now()
           WHERE campaign_id = $1 AND union_id = $2
             AND allocated_fen + $3 >= 0 AND allocated_fen + paid_fen + $3 <= total_fen""",
        campaign_id, parent_id, delta_fen,
    )  # fmt: skip
    return bool(status == "UPDATE 1")


async def set_allocation_total(
    conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID, total_fen: int, by: str
) -> AllocationRow | None:
    row = await conn.fetchrow(
        """UPDATE campaign_allocations SET total_fen = $3, set_by = $4, updated_at = now()
           WHERE campaign_id = $1 AND union_id = $2 AND allocated_fen + paid_fen <= $3 RETURNING *""",
        campaign_id, union_id, total_fen, by,
    )  # fmt: skip
    return _allocation(row) if row else None


async def draw(
    conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID, amount_fen: int
) -> AllocationRow | None:
    """Pay amount_fen from the union's allocation if, and only if, it stays within it."""
    row = await conn.fetchrow(
        """UPDATE campaign_allocations SET paid_fen = paid_fen + $3, updated_at = now()
           WHERE campaign_id = $1 AND union_id = $2 AND allocated_fen + paid_fen + $3 <= total_fen
           RETURNING *""",
        campaign_id, union_id, amount_fen,
    )  # fmt: skip
    return _allocation(row) if row else None


@dataclass(frozen=True)
class ChildUnion:
    union_id: uuid.UUID
    name: str
    kind: str
    allocation: Allocation


async def children_of(conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID) -> list[ChildUnion]:
    rows = await conn.fetch(
        """SELECT u.union_id, u.name, u.kind, coalesce(a.total_fen, 0) AS total_fen,
                  coalesce(a.allocated_fen, 0) AS allocated_fen, coalesce(a.paid_fen, 0) AS paid_fen
           FROM unions u LEFT JOIN campaign_allocations a ON a.campaign_id = $1 AND a.union_id = u.union_id
           WHERE u.parent_id = $2 ORDER BY u.name, u.union_id""",
        campaign_id, union_id,
    )  # fmt: skip
    return [
        ChildUnion(
            r["union_id"], r["name"], r["kind"], Allocation(r["total_fen"], r["allocated_fen"], r["paid_fen"])
        )
        for r in rows
    ]


# Who is eligible ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A recipient as the registers know it, with the facts that decide its groups."""

    union_id: uuid.UUID
    union_path: list[uuid.UUID]
    member_id: uuid.UUID | None
    employer_id: uuid.UUID | None
    in_register: bool = False
    tier: Tier | None = None
    model_worker: bool = False
    front_line: bool = False


def _found(r: asyncpg.Record) -> Found:
    return Found(
        r["union_id"], list(r["path"]), r["member_id"], None, r["in_register"],
        Tier(r["tier"]) if r["tier"] else None, r["model_worker"], r["front_line"],
    )  # fmt: skip


async def found_in(conn: Conn, root_id: uuid.UUID, today: date) -> list[Found]:
    """Every possible recipient in the union's subtree: households in the register (by the
    union following the case), front-line members (by their base union), employers in
    difficulty (by their base union, else the union responsible for them)."""
    members = await conn.fetch(
        """SELECT coalesce(c.union_id, m.base_union_id) AS union_id, u.path, m.member_id,
                  c.case_id IS NOT NULL AS in_register, c.tier,
                  EXISTS (SELECT FROM model_worker_honours h WHERE h.member_id = m.member_id
                          AND h.revoked_on IS NULL AND h.valid_until >= $2) AS model_worker,
                  m.status = 'active' AND m.employment_type IN ('flexible', 'migrant') AS front_line
           FROM members m
           LEFT JOIN cases c ON c.member_id = m.member_id AND c.status = 'in_register'
           JOIN unions u ON u.union_id = coalesce(c.union_id, m.base_union_id)
           WHERE $1 = ANY(u.path)
             AND (c.case_id IS NOT NULL
                  OR (m.status = 'active' AND m.employment_type IN ('flexible', 'migrant')))""",
        root_id, today,
    )  # fmt: skip
    employers = await conn.fetch(
        """SELECT u.union_id, u.path, e.employer_id FROM employers e
           JOIN unions u ON u.union_id = coalesce(e.base_union_id, e.responsible_union_id)
           WHERE e.in_difficulty AND $1 = ANY(u.path)""",
        root_id,
    )
    held = [_found(r) for r in members]
    return held + [Found(r["union_id"], list(r["path"]), None, r["employer_id"]) for r in employers]


# Lists -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    list_id: uuid.UUID
    campaign_id: uuid.UUID
    campaign_title: str
    union_id: uuid.UUID
    union_name: str
    union_path: list[uuid.UUID]
    status: ListStatus
    prepared_by: str
    submitted_by: str | None
    approved_by: str | None
    created_at: datetime
    updated_at: datetime
    entries_count: int
    included_count: int
    total_fen: int  # what its included entries come to
    paid_fen: int


_LIST = """SELECT l.*, c.title AS campaign_title, u.name AS union_name, u.path AS union_path,
              (SELECT count(*) FROM campaign_list_entries e WHERE e.list_id = l.list_id) AS entries_count,
              (SELECT count(*) FROM campaign_list_entries e WHERE e.list_id = l.list_id AND e.included)
                  AS included_count,
              coalesce((SELECT sum(e.amount_fen) FROM campaign_list_entries e
                        WHERE e.list_id = l.list_id AND e.included), 0) AS total_fen,
              coalesce((SELECT sum(p.amount_fen) FROM campaign_payments p WHERE p.list_id = l.list_id), 0)
                  AS paid_fen
           FROM campaign_lists l JOIN campaigns c ON c.campaign_id = l.campaign_id
           JOIN unions u ON u.union_id = l.union_id"""


def _list(r: asyncpg.Record) -> ListRow:
    return ListRow(
        r["list_id"], r["campaign_id"], r["campaign_title"], r["union_id"], r["union_name"],
        list(r["union_path"]), ListStatus(r["status"]), r["prepared_by"], r["submitted_by"],
        r["approved_by"], r["created_at"], r["updated_at"], r["entries_count"], r["included_count"],
        int(r["total_fen"]), int(r["paid_fen"]),
    )  # fmt: skip


async def get_list(conn: Conn, list_id: uuid.UUID) -> ListRow | None:
    row = await conn.fetchrow(f"{_LIST} WHERE l.list_id = $1", list_id)
    return _list(row) if row else None


async def lock_list(conn: Conn, list_id: uuid.UUID) -> ListStatus | None:
    status = await conn.fetchval("SELECT status FROM campaign_lists WHERE list_id = $1 FOR UPDATE", list_id)
    return ListStatus(status) if status else None


async def list_of_union(conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID) -> uuid.UUID | None:
    """The union's list, locked (regeneration waits for an edit in flight)."""
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT list_id FROM campaign_lists WHERE campaign_id = $1 AND union_id = $2 FOR UPDATE",
        campaign_id,
        union_id,
    )
    return found


async def insert_list(
    conn: Conn, list_id: uuid.UUID, campaign_id: uuid.UUID, union_id: uuid.UUID, by: str, at: datetime
) -> bool:
    """False: another request made the union's list first."""
    status = await conn.execute(
        """INSERT INTO campaign_lists (list_id, campaign_id, union_id, status, prepared_by, created_at,
               updated_at)
           VALUES ($1, $2, $3, 'draft', $4, $5, $5) ON CONFLICT (campaign_id, union_id) DO NOTHING""",
        list_id, campaign_id, union_id, by, at,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


async def set_list_status(
    conn: Conn,
    list_id: uuid.UUID,
    status: ListStatus,
    at: datetime,
    *,
    submitted_by: str | None = None,
    approved_by: str | None = None,
    prepared_by: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE campaign_lists SET status = $2, submitted_by = $3, approved_by = $4,
               prepared_by = coalesce($5, prepared_by), updated_at = $6
           WHERE list_id = $1""",
        list_id, status.value, submitted_by, approved_by, prepared_by, at,
    )  # fmt: skip


async def lists_in(conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID) -> list[ListRow]:
    rows = await conn.fetch(
        f"{_LIST} WHERE l.campaign_id = $1 AND $2 = ANY(u.path) ORDER BY u.name, l.list_id",
        campaign_id,
        union_id,
    )
    return [_list(r) for r in rows]


@dataclass(frozen=True)
class EntryRow:
    entry_id: uuid.UUID
    list_id: uuid.UUID
    recipient: str
    member_id: uuid.UUID | None
    employer_id: uuid.UUID | None
    name: str
    group: RecipientGroup
    amount_fen: int
    included: bool
    source: str
    reason: str
    edited: bool
    paid_at: datetime | None


def _entry(r: asyncpg.Record) -> EntryRow:
    return EntryRow(
        r["entry_id"], r["list_id"], r["recipient"], r["member_id"], r["employer_id"], r["name"] or "",
        RecipientGroup(r["grp"]), r["amount_fen"], r["included"], r["source"], r["reason"], r["edited"],
        r["paid_at"],
    )  # fmt: skip


_ENTRY = """SELECT e.*, coalesce(m.name, emp.name) AS name FROM campaign_list_entries e
            LEFT JOIN members m ON m.member_id = e.member_id
            LEFT JOIN employers emp ON emp.employer_id = e.employer_id"""


async def entries_of(conn: Conn, list_id: uuid.UUID) -> list[EntryRow]:
    rows = await conn.fetch(f"{_ENTRY} WHERE e.list_id = $1 ORDER BY e.position, e.entry_id", list_id)
    return [_entry(r) for r in rows]


async def get_entry(conn: Conn, list_id: uuid.UUID, entry_id: uuid.UUID) -> EntryRow | None:
    row = await conn.fetchrow(f"{_ENTRY} WHERE e.list_id = $1 AND e.entry_id = $2", list_id, entry_id)
    return _entry(row) if row else None


async def insert_entries(
    conn: Conn, list_id: uuid.UUID, found: Sequence[Candidate], source: str, reason: str
) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in found]
    start = await conn.fetchval(
        "SELECT coalesce(max(position), 0) FROM campaign_list_entries WHERE list_id = $1", list_id
    )
    await conn.executemany(
        """INSERT INTO campaign_list_entries (entry_id, list_id, recipient, member_id, employer_id, grp,
               amount_fen, source, reason, edited, position)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        [
            (i, list_id, "member" if c.member_id else "employer", c.member_id, c.employer_id, c.group.value,
             c.amount_fen, source, reason, source == "added", start + n + 1)
            for n, (i, c) in enumerate(zip(ids, found, strict=True))
        ],
    )  # fmt: skip
    return ids


async def regroup_entry(conn: Conn, entry_id: uuid.UUID, group: RecipientGroup, amount_fen: int) -> None:
    await conn.execute(
        "UPDATE campaign_list_entries SET grp = $2, amount_fen = $3 WHERE entry_id = $1",
        entry_id,
        group.value,
        amount_fen,
    )


async def delete_entries(conn: Conn, entry_ids: Sequence[uuid.UUID]) -> None:
    await conn.execute("DELETE FROM campaign_list_entries WHERE entry_id = ANY($1::uuid[])", list(entry_ids))


async def edit_entry(
    conn: Conn,
    entry_id: uuid.UUID,
    reason: str,
    *,
    included: bool | None = None,
    amount_fen: int | None = None,
) -> None:
    await conn.execute(
        """UPDATE campaign_list_entries SET included = coalesce($2, included),
               amount_fen = coalesce($3, amount_fen), reason = $4, edited = true
           WHERE entry_id = $1""",
        entry_id, included, amount_fen, reason,
    )  # fmt: skip


# Payments ----------------------------------------------------------------------------------------


async def paid_keys(conn: Conn, campaign_id: uuid.UUID, keys: Sequence[str]) -> set[str]:
    rows = await conn.fetch(
        """SELECT recipient_key FROM campaign_payments
           WHERE campaign_id = $1 AND recipient_key = ANY($2::text[])""",
        campaign_id,
        list(keys),
    )
    return {r["recipient_key"] for r in rows}


@dataclass(frozen=True)
class PaymentRow:
    payment_id: uuid.UUID
    campaign_id: uuid.UUID
    list_id: uuid.UUID
    entry_id: uuid.UUID
    union_id: uuid.UUID
    recipient_key: str
    group: RecipientGroup
    amount_fen: int
    paid_by: str
    paid_at: datetime


async def insert_payment(conn: Conn, p: PaymentRow) -> bool:
    """False: this campaign paid the recipient already (another list, committed meanwhile).
    A payment of the same recipient in flight elsewhere makes this wait for its outcome."""
    status = await conn.execute(
        """INSERT INTO campaign_payments (payment_id, campaign_id, list_id, entry_id, union_id, recipient_key,
               grp, amount_fen, paid_by, paid_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (campaign_id, recipient_key) DO NOTHING""",
        p.payment_id, p.campaign_id, p.list_id, p.entry_id, p.union_id, p.recipient_key, p.group.value,
        p.amount_fen, p.paid_by, p.paid_at,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


async def mark_paid(conn: Conn, entry_ids: Sequence[uuid.UUID], at: datetime) -> None:
    await conn.execute(
        "UPDATE campaign_list_entries SET paid_at = $2 WHERE entry_id = ANY($1::uuid[])", list(entry_ids), at
    )


async def pay_request(conn: Conn, key: str) -> tuple[uuid.UUID, dict[str, Any]] | None:
    row = await conn.fetchrow(
        "SELECT list_id, result FROM campaign_pay_requests WHERE idempotency_key = $1", key
    )
    return (row["list_id"], json.loads(row["result"])) if row else None


async def insert_pay_request(
    conn: Conn, key: str, list_id: uuid.UUID, result: dict[str, Any], by: str, at: datetime
) -> None:
    await conn.execute(
        """INSERT INTO campaign_pay_requests (idempotency_key, list_id, result, requested_by, requested_at)
           VALUES ($1, $2, $3::jsonb, $4, $5)""",
        key, list_id, json.dumps(result, default=str), by, at,
    )  # fmt: skip


# The report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaidFigure:
    union_path: list[uuid.UUID]
    group: RecipientGroup
    households: int
    employers: int
    amount_fen: int


async def paid_in(conn: Conn, campaign_id: uuid.UUID, union_id: uuid.UUID) -> list[PaidFigure]:
    rows = await conn.fetch(
        """SELECT u.path, p.grp,
                  count(*) FILTER (WHERE p.recipient_key LIKE 'member:%') AS households,
                  count(*) FILTER (WHERE p.recipient_key LIKE 'employer:%') AS employers,
                  sum(p.amount_fen) AS amount_fen
           FROM campaign_payments p JOIN unions u ON u.union_id = p.union_id
           WHERE p.campaign_id = $1 AND $2 = ANY(u.path)
           GROUP BY u.path, p.grp""",
        campaign_id, union_id,
    )  # fmt: skip
    return [
        PaidFigure(
            list(r["path"]), RecipientGroup(r["grp"]), r["households"], r["employers"], int(r["amount_fen"])
        )
        for r in rows
    ]


async def union_names(conn: Conn, union_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await conn.fetch(
        "SELECT union_id, name FROM unions WHERE union_id = ANY($1::uuid[])", list(union_ids)
    )
    return {r["union_id"]: r["name"] for r in rows}


@dataclass(frozen=True)
class UnionInfo:
    union_id: uuid.UUID
    name: str
    kind: str
    parent_id: uuid.UUID | None
    path: list[uuid.UUID]


async def union_info(conn: Conn, union_id: uuid.UUID) -> UnionInfo | None:
    row = await conn.fetchrow(
        "SELECT union_id, name, kind, parent_id, path FROM unions WHERE union_id = $1", union_id
    )
    return (
        UnionInfo(row["union_id"], row["name"], row["kind"], row["parent_id"], list(row["path"]))
        if row
        else None
    )
