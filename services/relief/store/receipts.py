"""Interim (part B) until p20-campaigns is merged: a member's programme receipts."""

import uuid

from shared.contracts.relief_programmes import MAX_RECEIPTS, ProgrammeReceipt
from shared.db import Conn


async def insert_receipt(conn: Conn, member_id: uuid.UUID, r: ProgrammeReceipt) -> None:
    await conn.execute(
        """INSERT INTO programme_receipts (payment_id, member_id, programme, source_id, title, amount_fen,
               paid_at, paying_union_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        r.payment_id, member_id, r.programme.value, r.source_id, r.title, r.amount_fen, r.paid_at,
        r.paying_union_id,
    )  # fmt: skip


async def receipts_of(conn: Conn, member_id: uuid.UUID) -> list[ProgrammeReceipt]:
    rows = await conn.fetch(
        """SELECT payment_id, programme, source_id, title, amount_fen, paid_at, paying_union_id
           FROM programme_receipts WHERE member_id = $1 ORDER BY paid_at DESC, payment_id LIMIT $2""",
        member_id, MAX_RECEIPTS,
    )  # fmt: skip
    return [ProgrammeReceipt.model_validate(dict(r)) for r in rows]
