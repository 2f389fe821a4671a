"""Every programme payment to a member (送温暖 and 金秋助学 both write here): what the card shows,
carried whole, newest first, on each ProgrammeAidPaid."""

import uuid

from shared.contracts.relief_programmes import MAX_RECEIPTS, ProgrammeReceipt
from shared.db import Conn


async def insert_receipt(conn: Conn, member_id: uuid.UUID, receipt: ProgrammeReceipt) -> None:
    await conn.execute(
        """INSERT INTO programme_receipts (payment_id, member_id, programme, source_id, title, amount_fen,
               paid_at, paying_union_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        receipt.payment_id, member_id, receipt.programme.value, receipt.source_id, receipt.title,
        receipt.amount_fen, receipt.paid_at, receipt.paying_union_id,
    )  # fmt: skip


async def receipts_of(conn: Conn, member_id: uuid.UUID) -> list[ProgrammeReceipt]:
    """The member's receipts, newest first, at most MAX_RECEIPTS (what one event carries)."""
    rows = await conn.fetch(
        """SELECT payment_id, programme, source_id, title, amount_fen, paid_at, paying_union_id
           FROM programme_receipts WHERE member_id = $1 ORDER BY paid_at DESC, payment_id LIMIT $2""",
        member_id, MAX_RECEIPTS,
    )  # fmt: skip
    return [ProgrammeReceipt.model_validate(dict(r)) for r in rows]
