"""The legal-aid roster (法律援助): cadres register the lawyers and volunteers of their union."""

import uuid

from services.legal.handlers.common import Deps, require_cadre, require_union_scope
from services.legal.store import counsel
from services.legal.store.counsel import CounselRow
from shared import audit
from shared.auth import Caller
from shared.events import Trace


async def register_counsel(
    deps: Deps, caller: Caller, union_id: uuid.UUID, name: str, role: str, capacity: int, employers: list[str]
) -> CounselRow:
    async with deps.pool.acquire() as conn, conn.transaction():
        await require_union_scope(conn, caller, union_id)
        require_cadre(caller, "cadres keep the legal-aid roster")
        counsel_id = uuid.uuid4()
        represented = [e.strip() for e in employers if e.strip()]
        await counsel.insert_counsel(conn, counsel_id, name.strip(), role, union_id, capacity, represented)
        await audit.record(
            conn, Trace.of(caller), "counsel.registered", f"counsel:{counsel_id}",
            name=name, capacity=capacity, employers=employers,
        )  # fmt: skip
        row = await counsel.get_counsel(conn, counsel_id)
        assert row is not None
        return row
