"""Public disclosure (公示): the window opens with a masked notice, objections are recorded and
answered while it runs, and an upheld objection declines the case. One transaction each."""

import uuid

from services.relief.domain.aid import aid_list, aid_year
from services.relief.domain.disclosure import (
    disclosure_number,
    require_unanswered,
    require_window_open,
    window,
)
from services.relief.domain.intake import clean_text
from services.relief.domain.lifecycle import Action
from services.relief.handlers.common import Deps, audit_case, case_to_work, moved, publish, save
from services.relief.store import cases
from services.relief.store.cases import CaseRow, ObjectionRow
from shared.auth import Caller
from shared.contracts.relief import AidType, CaseDeclined, DisclosureStarted
from shared.errors import NotFound
from shared.events import Trace


async def start_disclosure(
    deps: Deps, caller: Caller, case_id: uuid.UUID, proposed_aid: tuple[AidType, ...]
) -> CaseRow:
    now = deps.now()
    trace = Trace.of(caller)
    proposed = aid_list(proposed_aid, "a disclosure")
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        starts, ends = window(now, deps.policy.disclosure_days)
        number = disclosure_number(aid_year(now), await cases.next_disclosure_sequence(conn))
        disclosed = moved(
            case, Action.START_DISCLOSURE, disclosure_no=number, disclosure_starts_at=starts,
            disclosure_ends_at=ends, proposed_aid=proposed,
        )  # fmt: skip
        saved = await save(conn, disclosed)
        await audit_case(
            conn, trace, "disclosure.started", saved, disclosure_no=number, ends_at=ends,
            proposed_aid=[a.value for a in proposed],
        )  # fmt: skip
        await publish(
            conn, deps, trace, saved, now,
            lambda s: DisclosureStarted(case=s, disclosure_no=number, starts_at=starts, ends_at=ends),
        )  # fmt: skip
        return saved


async def record_objection(
    deps: Deps, caller: Caller, case_id: uuid.UUID, objector: str, content: str
) -> ObjectionRow:
    now = deps.now()
    objector = clean_text(objector, "the objector", required=True, limit=100)
    content = clean_text(content, "the objection", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        moved(case, Action.RECORD_OBJECTION)
        assert case.disclosure_ends_at is not None
        require_window_open(now, case.disclosure_ends_at)
        objection = await cases.insert_objection(conn, case_id, objector, content, caller.actor, now)
        await audit_case(
            conn, Trace.of(caller), "objection.recorded", case, content,
            objection_id=str(objection.objection_id), objector=objector,
        )  # fmt: skip
        return objection


async def answer_objection(
    deps: Deps, caller: Caller, case_id: uuid.UUID, objection_id: uuid.UUID, answer: str
) -> ObjectionRow:
    now = deps.now()
    answer = clean_text(answer, "the answer", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        moved(case, Action.ANSWER_OBJECTION)
        objection = await cases.get_objection(conn, objection_id)
        if objection is None or objection.case_id != case_id:
            raise NotFound(f"objection {objection_id} is not one of this case's")
        require_unanswered(objection.answered_by)
        answered = await cases.answer_objection(conn, objection_id, answer, caller.actor, now)
        await audit_case(
            conn, Trace.of(caller), "objection.answered", case, answer, objection_id=str(objection_id)
        )
        return answered


async def decline(deps: Deps, caller: Caller, case_id: uuid.UUID, reason: str) -> CaseRow:
    """An objection upheld during disclosure: the household is not entered in the register."""
    now = deps.now()
    trace = Trace.of(caller)
    reason = clean_text(reason, "the reason", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        saved = await save(conn, moved(case, Action.DECLINE, closed_at=now))
        await audit_case(conn, trace, "case.declined", saved, reason)
        await publish(conn, deps, trace, saved, now, lambda s: CaseDeclined(case=s, declined_at=now))
        return saved
