"""Databases as the previous main left them, for the upgrade tests: the migrations that main had
(applied files are frozen by their checksums, so they are still the files in the tree) are
applied and recorded exactly as shared.db.migrate records them, and nothing after them. A test
then seeds rows in the old shape, starts the new code on the database and checks the data."""

import hashlib
from importlib import resources

import asyncpg

from shared.db import SHARED_MIGRATIONS, ensure_database

# The migration files of the main before the service kit (commit 82801c2), per package.
PREVIOUS_MAIN: dict[str, tuple[str, ...]] = {
    SHARED_MIGRATIONS: ("0001_outbox_and_inbox.sql", "0002_outbox_wakes_relay.sql"),
    "services.enrollment.migrations": ("0001_enrollment.sql", "0002_application_channel.sql"),
    "services.relief.migrations": ("0001_relief.sql",),
    "services.legal.migrations": ("0001_legal.sql",),
    "services.competitions.migrations": ("0001_competitions.sql",),
    "services.partners.migrations": ("0001_partners.sql",),
    "services.projector.migrations": (
        "0001_cards.sql",
        "0002_generations.sql",
        "0003_relief_cases.sql",
        "0004_competitions_on_card.sql",
        "0005_legal_on_card.sql",
        "0006_partner_offers.sql",
    ),
}


async def create_at_previous_main(dsn: str, service_package: str) -> None:
    """Create the database in dsn with the shared and the service's migrations of that main."""
    await ensure_database(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """CREATE TABLE schema_migrations (
                   name text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        for package in (SHARED_MIGRATIONS, service_package):
            for filename in PREVIOUS_MAIN[package]:
                sql = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        f"{package}:{filename}",
                        hashlib.sha256(sql.encode()).hexdigest(),
                    )
    finally:
        await conn.close()
