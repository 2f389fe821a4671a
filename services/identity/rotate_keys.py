"""Rotate identity's signing keys from the command line (`make rotate-keys`): a new key is
published at once and signs after the publish lead; the old one stays published until its last
token has expired. Settings from the environment, like the service's."""

import asyncio
import uuid
from datetime import timedelta

from services.identity.app import MIGRATIONS, SERVICE
from services.identity.domain.keys import published_keys
from services.identity.handlers.keys import SigningKeys, rotate_keys
from services.identity.settings import IdentitySettings
from shared.db import open_pool
from shared.events import Trace, utcnow


async def rotate(settings: IdentitySettings) -> None:
    pool = await open_pool(settings.database_url, SERVICE, MIGRATIONS, min_size=1, max_size=2)
    try:
        keys = SigningKeys(pool, settings.identity_key_secret.get_secret_value())
        await keys.ensure_first_key()
        lead = settings.identity_key_lead_seconds
        made = await rotate_keys(
            keys, pool, timedelta(seconds=lead), Trace("operator:cli", str(uuid.uuid4()))
        )
        shown = {k.key_id for k in published_keys(keys.schedule(), utcnow())}
        print(f"new key {made.key_id}: published now, signs from {made.activates_at.isoformat()}")
        for k in keys.schedule():
            state = "published" if k.key_id in shown else "retired"
            print(f"  {k.key_id}  signs from {k.activates_at.isoformat()}  {state}")
    finally:
        await pool.close()


def main() -> None:
    asyncio.run(rotate(IdentitySettings()))


if __name__ == "__main__":
    main()
