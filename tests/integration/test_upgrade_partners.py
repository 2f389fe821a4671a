"""Partners' migration onto the kit's tables, on a scratch_dsn as the previous main left it: merchant
event versions carry on in event_versions, the old trail is readable through shared.audit, the
old tables are gone and every other row is as it was."""

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from services.partners.app import MIGRATIONS, SERVICE
from shared import audit
from shared.contracts.partners import MerchantListed, OfferCategory
from shared.db import Conn, open_pool
from shared.events import EventWriter, Trace
from tests.integration.upgrade import create_at_previous_main

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# Every table 0002 leaves in place, with its rows in a stable order.
KEPT = {
    "partners": "SELECT * FROM partners ORDER BY partner_id",
    "partner_keys": "SELECT * FROM partner_keys ORDER BY key_id",
    "merchants": "SELECT merchant_id, partner_id, name, category, region, address, listed, updated_at"
    " FROM merchants ORDER BY merchant_id",
    "offers": "SELECT * FROM offers ORDER BY partner_id, offer_id",
    "ingress_log": "SELECT * FROM ingress_log ORDER BY id",
}


async def _seed(conn: asyncpg.Connection) -> None:
    """Rows in the old shape: merchants numbered their own events, the trail was `trail`."""
    await conn.executemany(
        "INSERT INTO partners (partner_id, name, contact, status, created_at) VALUES ($1, $2, $3, $4, $5)",
        [
            ("meituan-hz", "美团 · 杭州", "ops@example.cn", "suspended", AT),
            ("eleme-hz", "饿了么 · 杭州", None, "active", AT),
        ],
    )
    await conn.executemany(
        "INSERT INTO partner_keys (key_id, partner_id, digest, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
        [
            (uuid.UUID(int=1), "meituan-hz", "digest-a", AT, AT),
            (uuid.UUID(int=2), "meituan-hz", "digest-b", AT, None),
        ],
    )
    await conn.executemany(
        """INSERT INTO merchants (merchant_id, partner_id, name, category, region, address, listed, version,
                                  updated_at) VALUES ($1, $2, $3, 'dining', '330100', $4, $5, $6, $7)""",
        [
            ("zwg-hubin", "meituan-hz", "知味观", "湖滨路 1 号", True, 3, AT),
            ("kfc-wulin", "eleme-hz", "肯德基", None, False, 2, AT),
        ],
    )
    await conn.execute(
        """INSERT INTO offers (partner_id, offer_id, merchant_id, version, content_hash, withdrawn, body, updated_at)
           VALUES ('meituan-hz', 'spring', 'zwg-hubin', 7, 'hash', false, '{"title": "8 折"}', $1)""",
        AT,
    )
    await conn.execute(
        """INSERT INTO ingress_log (partner_id, source, origin, offer_id, version, outcome, reasons, received_at)
           VALUES ('meituan-hz', 'kafka', 't:0:5', 'spring', 6, 'stale', '{"older"}', $1)""",
        AT,
    )
    await conn.executemany(
        "INSERT INTO trail (at, actor, action, subject, correlation_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (
                AT,
                "admin-1",
                "partner_registered",
                "meituan-hz",
                "c-1",
                '{"name": "美团 · 杭州", "key_id": "k1"}',
            ),
            (AT, "admin-1", "merchant_listed", "zwg-hubin", "c-2", '{"partner_id": "meituan-hz"}'),
            (AT, "admin-2", "partner_suspended", "meituan-hz", "c-3", '{"reason": "contract ended"}'),
        ],
    )


async def _kept(conn: Conn) -> dict[str, list[dict[str, object]]]:
    return {table: [dict(r) for r in await conn.fetch(sql)] for table, sql in KEPT.items()}


async def test_an_existing_database_moves_onto_the_kits_tables_with_nothing_lost(scratch_dsn: str) -> None:
    await create_at_previous_main(scratch_dsn, MIGRATIONS)
    old = await asyncpg.connect(scratch_dsn)
    try:
        await _seed(old)
        before = await _kept(old)
    finally:
        await old.close()

    pool = await open_pool(scratch_dsn, SERVICE, [MIGRATIONS])  # the app's packages, in its order
    try:
        async with pool.acquire() as conn:
            assert await _kept(conn) == before
            versions = await conn.fetch("SELECT subject, version FROM event_versions ORDER BY subject")
            assert [tuple(r) for r in versions] == [("kfc-wulin", 2), ("zwg-hubin", 3)]
            async with conn.transaction():
                event = MerchantListed(
                    merchant_id="zwg-hubin", partner_id="meituan-hz", name="知味观",
                    category=OfferCategory.DINING, region="330100", address=None, listed_at=AT,
                )  # fmt: skip
                writer = EventWriter(SERVICE, "t.partners.events.v1")
                assert await writer.emit(conn, Trace("admin-1", "c-4"), "zwg-hubin", event) == 4

            trail = await audit.trail_of_subject(conn, "meituan-hz")
            assert [(e.at, e.actor, e.action, e.reason, e.detail) for e in trail] == [
                (AT, "admin-1", "partner_registered", None, {"name": "美团 · 杭州", "key_id": "k1"}),
                (AT, "admin-2", "partner_suspended", "contract ended", {}),
            ]
            [listed] = await audit.trail_of_subject(conn, "zwg-hubin")
            assert (listed.action, listed.detail) == ("merchant_listed", {"partner_id": "meituan-hz"})
            moved = await conn.fetch("SELECT correlation_id, record_id FROM audit_trail ORDER BY id")
            assert [tuple(r) for r in moved] == [("c-1", None), ("c-2", None), ("c-3", None)]

            assert await conn.fetchval("SELECT to_regclass('trail')") is None
            assert await conn.fetchval("SELECT 1 FROM pg_proc WHERE proname = 'trail_is_append_only'") is None
            column = (
                "SELECT 1 FROM information_schema.columns WHERE table_name = 'merchants' AND column_name = $1"
            )
            assert await conn.fetchval(column, "version") is None
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("DELETE FROM audit_trail")
    finally:
        await pool.close()

    # Started again (another replica, a restart): nothing is applied twice.
    pool = await open_pool(scratch_dsn, SERVICE, [MIGRATIONS])
    try:
        assert await pool.fetchval("SELECT count(*) FROM audit_trail") == 3
        assert await pool.fetchval("SELECT version FROM event_versions WHERE subject = 'zwg-hubin'") == 4
    finally:
        await pool.close()


async def test_a_fresh_database_gets_the_kits_tables_only(scratch_dsn: str) -> None:
    pool = await open_pool(scratch_dsn, SERVICE, [MIGRATIONS])
    try:
        assert await pool.fetchval("SELECT to_regclass('trail')") is None
        assert await pool.fetchval("SELECT to_regclass('audit_trail')") is not None
        assert await pool.fetchval("SELECT count(*) FROM event_versions") == 0
    finally:
        await pool.close()
