"""Commands of the enrollment service. Each runs in one transaction: state, audit row and
outgoing events (through the outbox) are committed together or not at all."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import asyncpg

from services.enrollment.domain import membership as rules
from services.enrollment.domain.applications import (
    ApplicationForm,
    ApplicationStatus,
    SubmissionOutcome,
    application_channel,
    classify_submission,
    require_base_union,
    require_pending,
    require_reason,
    validate_form,
)
from services.enrollment.domain.numbers import card_number, membership_number
from services.enrollment.domain.unions import check_child_kind
from services.enrollment.store import queries as q
from shared.auth import Caller, Role
from shared.contracts import new_envelope
from shared.contracts.enrollment import (
    ApplicationRejected,
    ApplicationSubmitted,
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MemberTransferred,
    UnionKind,
    UnionRegistered,
)
from shared.contracts.envelope import EventPayload
from shared.db import Conn
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.outbox import enqueue
from shared.pii import PiiProtector, mask_national_id

SOURCE = "enrollment"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    pii: PiiProtector
    topic: str
    now: Callable[[], datetime] = field(default=_utcnow)


async def _emit(
    conn: Conn,
    deps: Deps,
    caller: Caller,
    subject: uuid.UUID,
    version: int,
    payload: EventPayload,
) -> None:
    envelope = new_envelope(
        payload,
        source=SOURCE,
        subject=str(subject),
        subject_version=version,
        correlation_id=caller.correlation_id,
    )
    await enqueue(conn, deps.topic, envelope)


def _require_scope(caller: Caller, union: q.UnionRow) -> None:
    if not caller.principal.covers_union(union.path):
        raise Forbidden(f"union {union.name} is outside your scope")


async def _union(conn: Conn, union_id: uuid.UUID) -> q.UnionRow:
    union = await q.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} does not exist")
    return union


# Unions -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterUnion:
    name: str
    kind: UnionKind
    parent_id: uuid.UUID | None
    region: str | None
    union_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def register_union(deps: Deps, caller: Caller, cmd: RegisterUnion) -> q.UnionRow:
    name = cmd.name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("union name must be 1 to 200 characters")
    async with deps.pool.acquire() as conn, conn.transaction():
        parent = await _union(conn, cmd.parent_id) if cmd.parent_id else None
        if parent is None:
            if caller.principal.role is not Role.ADMIN:
                raise Forbidden("only an admin may register a top-level union")
        else:
            _require_scope(caller, parent)
        check_child_kind(parent.kind if parent else None, cmd.kind)
        region = (cmd.region or "").strip() or (parent.region if parent else "")
        if not region:
            raise InvalidInput("a top-level union needs a region")
        union = q.UnionRow(
            union_id=cmd.union_id,
            name=name,
            kind=cmd.kind,
            parent_id=parent.union_id if parent else None,
            region=region,
            path=[*(parent.path if parent else []), cmd.union_id],
            path_names=[*(parent.path_names if parent else []), name],
        )
        try:
            await q.insert_union(conn, union)
        except asyncpg.UniqueViolationError as exc:
            raise InvalidInput(f"a union named {name} already exists there") from exc
        await q.audit(
            conn,
            caller.actor,
            "union.registered",
            str(union.union_id),
            caller.correlation_id,
            name=name,
        )
        payload = UnionRegistered(
            union_id=union.union_id,
            name=name,
            kind=union.kind,
            parent_id=union.parent_id,
            region=region,
            path=union.refs,
        )
        await _emit(conn, deps, caller, union.union_id, 1, payload)
        return union


async def union_subtree(deps: Deps, caller: Caller, union_id: uuid.UUID) -> list[q.UnionRow]:
    async with deps.pool.acquire() as conn:
        _require_scope(caller, await _union(conn, union_id))
        return await q.subtree(conn, union_id)


# Applications -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionResult:
    outcome: SubmissionOutcome
    application: q.ApplicationRow | None = None
    member: q.MemberRow | None = None


async def submit_application(deps: Deps, caller: Caller, form: ApplicationForm) -> SubmissionResult:
    now = deps.now()
    form = validate_form(form, today=now.date())
    async with deps.pool.acquire() as conn, conn.transaction():
        union = await _union(conn, form.base_union_id)
        require_base_union(union.kind)
        if caller.principal.role is Role.CADRE:
            _require_scope(caller, union)  # a cadre files on a worker's behalf in their own unions
        person = await q.lock_or_create_person(
            conn,
            deps.pii.lookup_hash(form.national_id),
            deps.pii.encrypt(form.national_id),
            mask_national_id(form.national_id),
        )
        member = await q.get_member(conn, person.person_id)
        pending = await q.pending_application(conn, person.person_id)
        outcome = classify_submission(
            member.membership.status if member else None,
            pending.base_union_id if pending else None,
            form.base_union_id,
        )
        if outcome is SubmissionOutcome.EXISTING_MEMBER:
            return SubmissionResult(outcome, member=member)
        if outcome is SubmissionOutcome.SAME_PENDING:
            return SubmissionResult(outcome, application=pending)
        application = q.ApplicationRow(
            application_id=uuid.uuid4(),
            person_id=person.person_id,
            name=form.name,
            phone=form.phone,
            employer=form.employer,
            employment_type=form.employment_type,
            base_union_id=form.base_union_id,
            channel=application_channel(form.channel, filed_by_cadre=caller.principal.role is Role.CADRE),
            status=ApplicationStatus.PENDING,
            submitted_at=now,
            decided_by=None,
            decided_at=None,
            decision_reason=None,
        )
        await q.insert_application(conn, application, submitted_by=caller.actor)
        version = await q.audit_and_next_version(
            conn, person.person_id, caller.actor, "application.submitted", str(application.application_id),
            caller.correlation_id, union_id=form.base_union_id,
        )  # fmt: skip
        await _emit(
            conn, deps, caller, person.person_id, version,
            ApplicationSubmitted(
                application_id=application.application_id,
                person_id=person.person_id,
                name=form.name,
                national_id_masked=person.national_id_masked,
                base_union_id=form.base_union_id,
                employer=form.employer,
                employment_type=form.employment_type,
                channel=application.channel,
                submitted_at=now,
            ),
        )  # fmt: skip
        return SubmissionResult(outcome, application=application)


async def _pending_in_scope(conn: Conn, caller: Caller, application_id: uuid.UUID) -> q.ApplicationRow:
    application = await q.get_application(conn, application_id, for_update=True)
    if application is None:
        raise NotFound(f"application {application_id} does not exist")
    _require_scope(caller, await _union(conn, application.base_union_id))
    require_pending(application.status)
    return application


async def approve_application(deps: Deps, caller: Caller, application_id: uuid.UUID) -> q.MemberRow:
    """Approve: a new member gets fresh numbers; a returning one is reinstated with their own."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        application = await _pending_in_scope(conn, caller, application_id)
        person = await q.lock_person(conn, application.person_id)
        assert person is not None
        existing = await q.get_member(conn, person.person_id, for_update=True)
        payload: EventPayload
        if existing is None:
            m_seq, c_seq = await q.allocate_numbers(conn)
            member = q.MemberRow(
                member_id=person.person_id,
                name=application.name,
                phone=application.phone,
                employer=application.employer,
                employment_type=application.employment_type,
                membership_number=membership_number(m_seq),
                card_number=card_number(c_seq),
                national_id_masked=person.national_id_masked,
                membership=rules.enroll(person.person_id, application.base_union_id, now),
            )
        else:
            left_at = existing.membership.periods[-1].ended_at
            member = replace(
                existing,
                name=application.name,
                phone=application.phone,
                employer=application.employer,
                employment_type=application.employment_type,
                membership=rules.reinstate(existing.membership, application.base_union_id, now),
            )
        await q.save_member(conn, member)
        await q.decide_application(conn, application_id, ApplicationStatus.APPROVED, caller.actor, None)
        version = await q.audit_and_next_version(
            conn,
            person.person_id,
            caller.actor,
            "application.approved",
            str(application_id),
            caller.correlation_id,
        )
        if existing is None:
            payload = MemberEnrolled(
                application_id=application_id, decided_by=caller.actor, member=q.snapshot(member)
            )
        else:
            assert left_at is not None
            payload = MemberReinstated(
                application_id=application_id,
                left_at=left_at,
                reinstated_at=now,
                member=q.snapshot(member),
            )
        await _emit(conn, deps, caller, person.person_id, version, payload)
        return member


async def reject_application(
    deps: Deps, caller: Caller, application_id: uuid.UUID, reason: str
) -> q.ApplicationRow:
    reason = require_reason(reason)
    async with deps.pool.acquire() as conn, conn.transaction():
        application = await _pending_in_scope(conn, caller, application_id)
        await q.decide_application(conn, application_id, ApplicationStatus.REJECTED, caller.actor, reason)
        version = await q.audit_and_next_version(
            conn,
            application.person_id,
            caller.actor,
            "application.rejected",
            str(application_id),
            caller.correlation_id,
            reason=reason,
        )
        await _emit(
            conn, deps, caller, application.person_id, version,
            ApplicationRejected(
                application_id=application_id,
                person_id=application.person_id,
                base_union_id=application.base_union_id,
                reason=reason,
                decided_by=caller.actor,
            ),
        )  # fmt: skip
        decided = await q.get_application(conn, application_id)
        assert decided is not None
        return decided


async def list_applications(
    deps: Deps, caller: Caller, union_id: uuid.UUID, status: ApplicationStatus | None, limit: int
) -> list[q.ApplicationRow]:
    async with deps.pool.acquire() as conn:
        _require_scope(caller, await _union(conn, union_id))
        return await q.list_applications(conn, union_id, status, limit)


# Members ----------------------------------------------------------------------------------------


async def _member_for(
    conn: Conn,
    caller: Caller,
    member_id: uuid.UUID,
    *,
    self_allowed: bool,
    lock: bool,
) -> q.MemberRow:
    member = await q.get_member(conn, member_id, for_update=lock)
    if member is None:
        raise NotFound(f"member {member_id} does not exist")
    if self_allowed and caller.principal.is_member(member_id):
        return member
    _require_scope(caller, await _union(conn, member.membership.base_union_id))
    return member


async def get_member(deps: Deps, caller: Caller, member_id: uuid.UUID) -> q.MemberRow:
    async with deps.pool.acquire() as conn:
        return await _member_for(conn, caller, member_id, self_allowed=True, lock=False)


async def transfer_member(
    deps: Deps, caller: Caller, member_id: uuid.UUID, to_union_id: uuid.UUID, reason: str
) -> q.MemberRow:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await _member_for(conn, caller, member_id, self_allowed=False, lock=True)
        target = await _union(conn, to_union_id)
        require_base_union(target.kind)
        from_union_id = member.membership.base_union_id
        moved = replace(member, membership=rules.transfer(member.membership, to_union_id, now, reason))
        await q.save_member(conn, moved)
        version = await q.audit_and_next_version(
            conn, member_id, caller.actor, "member.transferred", str(member_id), caller.correlation_id,
            from_union_id=from_union_id, to_union_id=to_union_id, reason=reason,
        )  # fmt: skip
        await _emit(
            conn, deps, caller, member_id, version,
            MemberTransferred(
                from_union_id=from_union_id, to_union_id=to_union_id, reason=reason.strip(),
                member=q.snapshot(moved),
            ),
        )  # fmt: skip
        return moved


async def leave_member(deps: Deps, caller: Caller, member_id: uuid.UUID, reason: str) -> q.MemberRow:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await _member_for(conn, caller, member_id, self_allowed=True, lock=True)
        left = replace(member, membership=rules.leave(member.membership, now, reason))
        await q.save_member(conn, left)
        version = await q.audit_and_next_version(
            conn, member_id, caller.actor, "member.left", str(member_id), caller.correlation_id, reason=reason
        )
        await _emit(
            conn,
            deps,
            caller,
            member_id,
            version,
            MemberLeft(reason=reason.strip(), member=q.snapshot(left)),
        )
        return left


async def reinstate_member(
    deps: Deps, caller: Caller, member_id: uuid.UUID, union_id: uuid.UUID
) -> q.MemberRow:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await q.get_member(conn, member_id, for_update=True)
        if member is None:
            raise NotFound(f"member {member_id} does not exist")
        target = await _union(conn, union_id)
        _require_scope(caller, target)  # the receiving union decides
        require_base_union(target.kind)
        left_at = member.membership.periods[-1].ended_at
        back = replace(member, membership=rules.reinstate(member.membership, union_id, now))
        assert left_at is not None
        await q.save_member(conn, back)
        version = await q.audit_and_next_version(
            conn,
            member_id,
            caller.actor,
            "member.reinstated",
            str(member_id),
            caller.correlation_id,
            union_id=union_id,
        )
        await _emit(
            conn, deps, caller, member_id, version,
            MemberReinstated(
                application_id=None, left_at=left_at, reinstated_at=now, member=q.snapshot(back)
            ),
        )  # fmt: skip
        return back
