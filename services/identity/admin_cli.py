"""The first admin account: `make admin USERNAME=x` (or `python -m services.identity.admin_cli x`
with DATABASE_URL set to the identity database). Makes the account and its admin binding,
migrating the database first if the service never ran, and prints a random password once: only
its argon2id hash is kept. Refused once an admin exists (an admin makes the next through the API).
The binding's event waits in the outbox until the identity service's relay publishes it."""

import argparse
import asyncio
import os
import sys
import uuid

from services.identity.app import MIGRATIONS, SERVICE
from services.identity.domain.passwords import random_password
from services.identity.handlers.staff import bootstrap_admin
from shared.contracts.topics import IDENTITY_EVENTS, state_topic
from shared.db import open_pool
from shared.errors import DomainError
from shared.events import EventWriter, Trace


async def make_admin(database_url: str, topic_prefix: str, username: str, display_name: str) -> int:
    pool = await open_pool(database_url, SERVICE, MIGRATIONS, min_size=1, max_size=2)
    try:
        topic = f"{topic_prefix}{IDENTITY_EVENTS}"
        events = EventWriter(SERVICE, topic, state_topic(topic))
        password = random_password()
        trace = Trace("cli:make-admin", f"make-admin-{uuid.uuid4().hex[:12]}")
        try:
            made = await bootstrap_admin(pool, events, username, display_name, password, trace)
        except DomainError as refused:
            print(f"refused: {refused.reason}", file=sys.stderr)
            return 1
    finally:
        await pool.close()
    print(f"admin account {made.account_id} ({username.strip().lower()}), binding {made.binding_id}")
    print(f"password (shown once, change it with POST /me/password): {password}")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username")
    parser.add_argument("--display-name", default="管理员")
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("DATABASE_URL is not set (the identity database): use `make admin USERNAME=...`")
    code = asyncio.run(
        make_admin(database_url, os.environ.get("TOPIC_PREFIX", ""), args.username, args.display_name)
    )
    raise SystemExit(code)


if __name__ == "__main__":
    main()
