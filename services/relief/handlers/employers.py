"""Relief's employer register view: reading it, and designating an employer in difficulty
(困难企业认定), with a reason, audited."""

import uuid

from services.relief.domain.campaigns import clean_reason
from services.relief.handlers.campaigns import default_union, require_covers, require_staff, union_of
from services.relief.handlers.common import Deps
from services.relief.store import employers as store
from services.relief.store.employers import EmployerRow
from shared import audit
from shared.auth import Caller
from shared.errors import NotFound
from shared.events import Trace


async def list_employers(
    deps: Deps,
    caller: Caller,
    union_id: uuid.UUID | None,
    in_difficulty: bool | None,
    q: str | None,
    limit: int,
) -> list[EmployerRow]:
    root = default_union(caller, union_id)
    async with deps.pool.acquire() as conn:
        require_covers(caller, await union_of(conn, root))
        return await store.employers_in(conn, root, in_difficulty, (q or "").strip() or None, limit)


async def designate(
    deps: Deps, caller: Caller, employer_id: uuid.UUID, in_difficulty: bool, reason: str
) -> EmployerRow:
    """By a cadre over the union that consoles the employer (its base union, else the one
    responsible for it)."""
    why = clean_reason(reason)
    require_staff(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        employer = await store.get_employer(conn, employer_id, for_update=True)
        if employer is None:
            raise NotFound("帮扶系统中没有这家企业")
        require_covers(caller, await union_of(conn, employer.union_id))
        saved = await store.designate(conn, employer_id, in_difficulty, why, caller.actor, deps.now())
        action = "employer.difficulty_designated" if in_difficulty else "employer.difficulty_lifted"
        await audit.record(
            conn, Trace.of(caller), action, f"employer:{employer_id}", record_id=employer_id, reason=why,
            in_difficulty=in_difficulty, previous=employer.in_difficulty,
        )  # fmt: skip
        return saved
