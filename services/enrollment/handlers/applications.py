"""Application commands: submitting an application, approving it, rejecting it. Each runs in one
transaction: state, audit entry and outgoing event (through the outbox) commit together."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from services.enrollment.domain.applications import (
    ApplicationForm,
    ApplicationStatus,
    SubmissionOutcome,
    application_channel,
    classify_submission,
    may_see_submission,
    own_person_of,
    require_base_union,
    require_own_person,
    require_pending,
    require_reason,
    validate_form,
)
from services.enrollment.domain.membership import enroll, left_at, reinstate
from services.enrollment.domain.numbers import card_number, membership_number
from services.enrollment.handlers.common import Deps, existing_union, require_scope
from services.enrollment.store import applications, members, persons
from shared import audit
from shared.auth import Caller, Role
from shared.contracts.enrollment import (
    ApplicationChannel,
    ApplicationRejected,
    ApplicationSubmitted,
    MemberEnrolled,
    MemberReinstated,
)
from shared.contracts.envelope import EventPayload
from shared.db import Conn
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Trace, china_date
from shared.pii import mask_national_id


@dataclass(frozen=True)
class SubmissionResult:
    """What the caller may be told: the outcome with what it found, or, when `seen` is False,
    nothing at all (the neutral answer, the same whether or not the person is known)."""

    outcome: SubmissionOutcome
    application: applications.ApplicationRow | None = None
    member: members.MemberRow | None = None
    seen: bool = True


_NOT_SEEN = SubmissionResult(SubmissionOutcome.NEW, seen=False)


def _found_union(
    outcome: SubmissionOutcome, member: members.MemberRow | None, pending: applications.ApplicationRow | None
) -> uuid.UUID | None:
    """The union of what the submission found: the member's, or the pending application's."""
    if outcome is SubmissionOutcome.EXISTING_MEMBER and member is not None:
        return member.membership.base_union_id
    if outcome is not SubmissionOutcome.NEW and pending is not None:
        return pending.base_union_id
    return None


async def submit_application(deps: Deps, caller: Caller, form: ApplicationForm) -> SubmissionResult:
    now = deps.now()
    own_person = own_person_of(caller.principal.role, caller.principal.member_id)
    form = validate_form(form, today=china_date(now))  # ages are counted in China
    if caller.principal.role is not Role.MEMBER and not caller.principal.is_cadre_or_admin():
        raise Forbidden("an application is made by the worker themself or filed by a cadre")
    filed_by_cadre = caller.principal.role is Role.CADRE
    channel = application_channel(form.channel, filed_by_cadre=filed_by_cadre)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        union = await existing_union(conn, form.base_union_id)
        require_base_union(union.kind)
        if filed_by_cadre:
            require_scope(caller, union)  # a cadre files on a worker's behalf in their own unions
        national_id_hash = deps.pii.lookup_hash(form.national_id)
        if own_person is not None:
            person = require_own_person(await persons.lock_person_with_id(conn, own_person, national_id_hash))
        else:
            person = await persons.lock_or_create_person(
                conn, national_id_hash, deps.pii.encrypt(form.national_id), mask_national_id(form.national_id)
            )
        member = await members.get_member(conn, person.person_id)
        pending = await applications.pending_application(conn, person.person_id)
        outcome = classify_submission(
            member.membership.status if member else None,
            pending.base_union_id if pending else None,
            form.base_union_id,
        )
        found_union = _found_union(outcome, member, pending)
        seen = may_see_submission(
            outcome,
            covers_found_union=found_union is not None
            and caller.principal.covers_union((await existing_union(conn, found_union)).path),
            covers_every_union=caller.principal.role is Role.ADMIN,
            own=own_person is not None,
        )
        if outcome is not SubmissionOutcome.NEW and not seen:
            return _NOT_SEEN  # nothing written: the known person's records stay as they were
        if outcome is SubmissionOutcome.EXISTING_MEMBER:
            return SubmissionResult(outcome, member=member)
        if outcome is SubmissionOutcome.SAME_PENDING:
            return SubmissionResult(outcome, application=pending)
        if outcome is SubmissionOutcome.PENDING_ELSEWHERE:
            assert pending is not None
            raise Conflict(
                "an application for this person is already pending in another union",
                application_id=str(pending.application_id),
            )
        application = await file_application(deps, conn, trace, person, form, channel, now)
        return SubmissionResult(outcome, application=application) if seen else _NOT_SEEN


async def file_application(
    deps: Deps,
    conn: Conn,
    trace: Trace,
    person: persons.PersonRow,
    form: ApplicationForm,
    channel: ApplicationChannel,
    now: datetime,
) -> applications.ApplicationRow:
    """File a checked form for a locked person known to have no pending application, in the
    caller's transaction (the roster import files its rows through here too)."""
    application = applications.ApplicationRow(
        application_id=uuid.uuid4(), person_id=person.person_id, name=form.name, phone=form.phone,
        employer=form.employer, employment_type=form.employment_type, base_union_id=form.base_union_id,
        channel=channel, status=ApplicationStatus.PENDING, submitted_at=now,
        decided_by=None, decided_at=None, decision_reason=None,
    )  # fmt: skip
    await applications.insert_application(conn, application, submitted_by=trace.actor)
    version = await audit.record_and_next_version(
        conn, trace, person.person_id, "application.submitted", str(application.application_id),
        union_id=form.base_union_id,
    )  # fmt: skip
    submitted = ApplicationSubmitted(
        application_id=application.application_id, person_id=person.person_id, name=form.name,
        national_id_masked=person.national_id_masked, base_union_id=form.base_union_id,
        employer=form.employer, employment_type=form.employment_type, channel=channel,
        submitted_at=now,
    )  # fmt: skip
    await deps.events.emit(conn, trace, person.person_id, submitted, version=version)
    return application


async def _pending_in_scope(
    conn: Conn, caller: Caller, application_id: uuid.UUID
) -> applications.ApplicationRow:
    application = await applications.get_application(conn, application_id, for_update=True)
    if application is None:
        raise NotFound(f"application {application_id} does not exist")
    require_scope(caller, await existing_union(conn, application.base_union_id))
    require_pending(application.status)
    return application


async def approve_application(deps: Deps, caller: Caller, application_id: uuid.UUID) -> members.MemberRow:
    """Approve: a new member gets fresh numbers; a returning one is reinstated with their own."""
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        application = await _pending_in_scope(conn, caller, application_id)
        return await approve(deps, conn, trace, application, now)


async def approve(
    deps: Deps, conn: Conn, trace: Trace, application: applications.ApplicationRow, now: datetime
) -> members.MemberRow:
    """Approve a pending application the caller may decide, in the caller's transaction (the
    roster import approves its rows through here too)."""
    person = await persons.lock_person(conn, application.person_id)
    assert person is not None
    existing = await members.get_member(conn, person.person_id, for_update=True)
    payload: EventPayload
    if existing is None:
        m_seq, c_seq = await members.allocate_numbers(conn)
        member = members.MemberRow(
            member_id=person.person_id, name=application.name, phone=application.phone,
            employer=application.employer, employment_type=application.employment_type,
            membership_number=membership_number(m_seq), card_number=card_number(c_seq),
            national_id_masked=person.national_id_masked,
            membership=enroll(person.person_id, application.base_union_id, now),
        )  # fmt: skip
        payload = MemberEnrolled(
            application_id=application.application_id, decided_by=trace.actor, member=members.snapshot(member)
        )
    else:
        member = replace(
            existing, name=application.name, phone=application.phone, employer=application.employer,
            employment_type=application.employment_type,
            membership=reinstate(existing.membership, application.base_union_id, now),
        )  # fmt: skip
        payload = MemberReinstated(
            application_id=application.application_id, left_at=left_at(existing.membership),
            reinstated_at=now, member=members.snapshot(member),
        )  # fmt: skip
    await members.save_member(conn, member)
    await applications.decide_application(
        conn, application.application_id, ApplicationStatus.APPROVED, trace.actor, None
    )
    version = await audit.record_and_next_version(
        conn, trace, person.person_id, "application.approved", str(application.application_id)
    )
    await deps.events.emit(conn, trace, person.person_id, payload, version=version)
    return member


async def reject_application(
    deps: Deps, caller: Caller, application_id: uuid.UUID, reason: str
) -> applications.ApplicationRow:
    reason = require_reason(reason)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        application = await _pending_in_scope(conn, caller, application_id)
        decided = await applications.decide_application(
            conn, application_id, ApplicationStatus.REJECTED, caller.actor, reason
        )
        version = await audit.record_and_next_version(
            conn, trace, application.person_id, "application.rejected", str(application_id), reason=reason
        )
        rejected = ApplicationRejected(
            application_id=application_id, person_id=application.person_id,
            base_union_id=application.base_union_id, reason=reason, decided_by=caller.actor,
        )  # fmt: skip
        await deps.events.emit(conn, trace, application.person_id, rejected, version=version)
        return decided
