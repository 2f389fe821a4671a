"""金秋助学: windows, admission evidence and applications, and who may read them. One
transaction per command, with its trail entry; the window's close is a durable timer scheduled
with it (handlers/student_aid_decisions.py fires it)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.relief.domain import student_aid as rules
from services.relief.domain.intake import Household
from services.relief.domain.student_aid import ApplicationStatus, WindowStatus
from services.relief.handlers.common import Deps, require_union_scope, union_path
from services.relief.store import student_aid as store
from services.relief.store.student_aid import (
    ApplicationRow,
    EvidenceRow,
    NewApplication,
    ObjectionRow,
    WindowRow,
)
from shared import audit, membership, timers
from shared.auth import Caller, Principal, Role
from shared.contracts.relief_programmes import SchoolType
from shared.db import Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import Trace, china_date

WINDOW_CLOSE = "student_aid.window_close"
DISCLOSURE_END = "student_aid.disclosure_end"
ONE_PER_STUDENT_INDEX = "one_student_aid_per_student_per_year"


def window_subject(window_id: uuid.UUID) -> str:
    return f"student_aid_window:{window_id}"


def application_subject(application_id: uuid.UUID) -> str:
    return f"student_aid_application:{application_id}"


def require_staff(caller: Caller) -> None:
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden("只有工会干部可以办理金秋助学")


# Windows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowForm:
    union_id: uuid.UUID
    academic_year: int
    opens_at: datetime
    closes_at: datetime
    amounts_fen: dict[SchoolType, int]
    disclosure_days: int | None


async def open_window(deps: Deps, caller: Caller, form: WindowForm) -> WindowRow:
    require_staff(caller)
    year = rules.check_academic_year(form.academic_year)
    opens_at, closes_at = rules.check_window_times(form.opens_at, form.closes_at)
    amounts = rules.check_amounts(form.amounts_fen)
    days = rules.check_disclosure_days(form.disclosure_days)
    now = deps.now()
    window_id = uuid.uuid4()
    async with deps.pool.acquire() as conn:
        try:
            async with conn.transaction():
                await require_union_scope(conn, caller, form.union_id)
                row = WindowRow(
                    window_id, form.union_id, None, [], year, rules.window_title(year), opens_at, closes_at,
                    amounts, days, caller.actor, now, None,
                )  # fmt: skip
                await store.insert_window(conn, row)
                await timers.schedule(
                    conn,
                    [timers.Timer(uuid.uuid4(), WINDOW_CLOSE, window_subject(window_id), closes_at,
                                  {"window_id": str(window_id)})],
                )  # fmt: skip
                await audit.record(
                    conn, Trace.of(caller), "student_aid.window_opened", window_subject(window_id),
                    record_id=window_id, union_id=str(form.union_id), academic_year=year, opens_at=opens_at,
                    closes_at=closes_at, amounts_fen={t.value: f for t, f in amounts.items()},
                    disclosure_days=days,
                )  # fmt: skip
                saved = await store.get_window(conn, window_id)
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"该工会已设立 {year} 年金秋助学") from exc
    assert saved is not None
    return saved


async def _default_union(conn: Conn, caller: Caller, union_id: uuid.UUID | None) -> uuid.UUID:
    """A member: their base union; a cadre: the union named, else their own; an admin names one."""
    p = caller.principal
    if p.role is Role.MEMBER and p.member_id is not None:
        member = await membership.get_member(conn, p.member_id)
        if member is None:
            raise NotFound("会员信息尚未同步到帮扶系统")
        if union_id is not None and union_id != member.base_union_id:
            path = await union_path(conn, member.base_union_id)
            if union_id not in path:
                raise Forbidden("只能查看本人所在工会及其上级工会的信息")
        return union_id or member.base_union_id
    if not p.is_cadre_or_admin():
        raise Forbidden("只有会员和工会干部可以查看金秋助学")
    chosen = union_id or p.union_id
    if chosen is None:
        raise InvalidInput("请指定工会 (union_id)")
    await require_union_scope(conn, caller, chosen)
    return chosen


async def list_windows(
    deps: Deps, caller: Caller, union_id: uuid.UUID | None, only_open: bool, after: int, limit: int
) -> list[WindowRow]:
    async with deps.pool.acquire() as conn:
        chosen = await _default_union(conn, caller, union_id)
        path = list(await union_path(conn, chosen))
        return await store.windows_concerning(
            conn, chosen, path, deps.now() if only_open else None, after, limit
        )


async def get_window(deps: Deps, caller: Caller, window_id: uuid.UUID) -> WindowRow:
    """Windows are public to anyone signed in: no personal data in them."""
    async with deps.pool.acquire() as conn:
        window = await store.get_window(conn, window_id)
    if window is None:
        raise NotFound("金秋助学申请期不存在")
    return window


def status_of(deps: Deps, window: WindowRow) -> WindowStatus:
    return rules.window_status(deps.now(), window.opens_at, window.closes_at, window.closed_at)


# Evidence ---------------------------------------------------------------------------------------


async def upload_evidence(
    deps: Deps, caller: Caller, file_name: str, content_type: str | None, data: bytes
) -> EvidenceRow:
    p = caller.principal
    if not (p.role is Role.MEMBER or p.is_cadre_or_admin()):
        raise Forbidden("只有会员和工会干部可以上传录取材料")
    evidence = rules.check_evidence(file_name, content_type, data)
    file_id = uuid.uuid4()
    async with deps.pool.acquire() as conn, conn.transaction():
        member_id = p.member_id if p.role is Role.MEMBER else None
        row = await store.insert_evidence(conn, file_id, evidence, data, caller.actor, member_id, deps.now())
        await audit.record(
            conn, Trace.of(caller), "student_aid.evidence_uploaded", f"student_aid_evidence:{file_id}",
            record_id=file_id, content_type=evidence.content_type, size=evidence.size,
            sha256=evidence.sha256.hex(),
        )  # fmt: skip
        return row


def uploaded_by(principal: Principal, actor: str, evidence: EvidenceRow) -> bool:
    """A member's file is theirs by member id (one account may sign in anew), staff's by account."""
    if principal.role is Role.MEMBER:
        return evidence.uploader_member_id is not None and principal.member_id == evidence.uploader_member_id
    return evidence.uploader_member_id is None and evidence.uploaded_by == actor


async def read_evidence(deps: Deps, caller: Caller, file_id: uuid.UUID) -> tuple[EvidenceRow, bytes]:
    """The uploader, the member whose application it supports, the cadres of their union."""
    async with deps.pool.acquire() as conn:
        evidence = await store.get_evidence(conn, file_id)
        if evidence is None:
            raise NotFound("文件不存在")
        if (
            not uploaded_by(caller.principal, caller.actor, evidence)
            and caller.principal.role is not Role.ADMIN
        ):
            uses = await store.applications_with_evidence(conn, file_id)
            if not any(
                caller.principal.is_member(m) or caller.principal.covers_union(path) for m, path in uses
            ):
                raise NotFound("文件不存在")  # as if absent: its existence is not told
        return evidence, await store.evidence_bytes(conn, file_id)


# Applications -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationForm:
    window_id: uuid.UUID
    member_id: uuid.UUID | None
    student_name: str
    student_id_number: str
    school_name: str
    school_type: SchoolType
    admission_year: int
    evidence_file_id: uuid.UUID
    household: Household | None


async def apply(deps: Deps, caller: Caller, form: ApplicationForm) -> ApplicationRow:
    p = caller.principal
    by_member = p.role is Role.MEMBER
    if by_member:
        if form.member_id is not None and not p.is_member(form.member_id):
            raise Forbidden("会员只能为本人的子女申请; 代为申请请由工会干部办理")
    elif not p.is_cadre_or_admin():
        raise Forbidden("金秋助学由会员本人或其所在工会的干部申请")
    member_id = caller.member_meant(form.member_id, "为哪位会员申请?")
    now = deps.now()
    student = rules.student_id(form.student_id_number, china_date(now))
    student_hash = deps.pii.lookup_hash(rules.student_key(student))
    student_name = rules.clean(form.student_name, "学生姓名", limit=50)
    school_name = rules.clean(form.school_name, "学校名称", limit=100)
    try:
        async with deps.pool.acquire() as conn, conn.transaction():
            return await _apply(
                conn, deps, caller, form, member_id, student_hash, student_name, school_name, now
            )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == ONE_PER_STUDENT_INDEX:  # a concurrent application for the student
            raise Conflict("该学生本学年已申请或已获金秋助学资助") from exc
        raise


async def _apply(
    conn: Conn,
    deps: Deps,
    caller: Caller,
    form: ApplicationForm,
    member_id: uuid.UUID,
    student_hash: bytes,
    student_name: str,
    school_name: str,
    now: datetime,
) -> ApplicationRow:
    member = await membership.get_member(conn, member_id)
    if member is None:
        raise NotFound("该会员不存在或尚未同步到帮扶系统")
    union = await membership.get_union(conn, member.base_union_id)
    path = union.path if union else [member.base_union_id]
    if not caller.principal.is_member(member_id) and not caller.principal.covers_union(path):
        raise Forbidden("该会员所在工会不在您的管辖范围内")
    window = await store.get_window(conn, form.window_id, for_share=True)
    if window is None:
        raise NotFound("金秋助学申请期不存在")
    if window.union_id not in path:
        raise Conflict("该会员所在工会不在本次金秋助学的范围内")
    rules.require_window_open(
        rules.window_status(now, window.opens_at, window.closes_at, window.closed_at),
        window.opens_at,
        window.closes_at,
    )
    rules.check_admission_year(form.admission_year, window.academic_year)
    amount = rules.amount_for(window.amounts_fen, form.school_type)
    evidence = await store.get_evidence(conn, form.evidence_file_id)
    # The caller's own upload, or the member's (a cadre files with what the member sent in).
    if evidence is None or not (
        uploaded_by(caller.principal, caller.actor, evidence) or evidence.uploader_member_id == member_id
    ):
        raise InvalidInput("录取材料不存在, 请先上传 (POST /student-aid/evidence)")
    eligible_by = rules.eligible_by(
        member_active=member.active,
        in_register=await store.in_register(conn, member_id),
        household=form.household,
        line_fen=deps.policy.line_for(union.region if union else ""),
        policy=deps.policy,
    )
    rules.require_not_aided(
        await store.student_has_live_application(conn, student_hash, window.academic_year),
        window.academic_year,
    )
    application_id = uuid.uuid4()
    await store.insert_application(
        conn,
        NewApplication(
            application_id, window.window_id, window.academic_year, member_id, member.base_union_id,
            student_name, student_hash, school_name, form.school_type, form.admission_year, amount,
            eligible_by, form.household.size if form.household else None,
            form.household.monthly_income_fen if form.household else None, evidence.file_id, caller.actor,
            now,
        ),
    )  # fmt: skip
    await audit.record(
        conn, Trace.of(caller), "student_aid.applied", application_subject(application_id),
        record_id=application_id, window_id=str(window.window_id), member_id=str(member_id),
        school_type=form.school_type.value, amount_fen=amount, eligible_by=eligible_by.value,
        evidence_file_id=str(evidence.file_id), by_member=caller.principal.is_member(member_id),
    )  # fmt: skip
    saved = await store.get_application(conn, application_id)
    assert saved is not None
    return saved


# Reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationView:
    application: ApplicationRow
    objections: list[ObjectionRow]
    evidence: EvidenceRow | None


async def _views(conn: Conn, rows: list[ApplicationRow]) -> list[ApplicationView]:
    objections = await store.objections_of(conn, [a.application_id for a in rows])
    views = []
    for a in rows:
        views.append(
            ApplicationView(
                a, objections[a.application_id], await store.get_evidence(conn, a.evidence_file_id)
            )
        )
    return views


def may_view(principal: Principal, a: ApplicationRow) -> bool:
    return principal.is_member(a.member_id) or principal.covers_union(a.union_path)


async def view_application(conn: Conn, caller: Caller, application_id: uuid.UUID) -> ApplicationView:
    a = await store.get_application(conn, application_id)
    if a is None or not may_view(caller.principal, a):
        raise NotFound("申请不存在")
    return (await _views(conn, [a]))[0]


async def get_application(deps: Deps, caller: Caller, application_id: uuid.UUID) -> ApplicationView:
    async with deps.pool.acquire() as conn:
        return await view_application(conn, caller, application_id)


async def list_applications(
    deps: Deps,
    caller: Caller,
    window_id: uuid.UUID | None,
    union_id: uuid.UUID | None,
    status: ApplicationStatus | None,
    after: int,
    limit: int,
) -> list[ApplicationView]:
    require_staff(caller)
    async with deps.pool.acquire() as conn:
        chosen = await _default_union(conn, caller, union_id)
        return await _views(conn, await store.applications_in(conn, chosen, window_id, status, after, limit))


async def my_applications(deps: Deps, caller: Caller, after: int, limit: int) -> list[ApplicationView]:
    p = caller.principal
    if p.role is not Role.MEMBER or p.member_id is None:
        raise Forbidden("只有会员本人可以查看自己的申请")
    async with deps.pool.acquire() as conn:
        return await _views(conn, await store.applications_of_member(conn, p.member_id, after, limit))


async def disclosure(
    deps: Deps,
    caller: Caller,
    union_id: uuid.UUID | None,
    window_id: uuid.UUID | None,
    after: int,
    limit: int,
) -> list[ApplicationRow]:
    """The public list (公示): masked names and amounts, for the members of the subtree and its cadres."""
    async with deps.pool.acquire() as conn:
        chosen = await _default_union(conn, caller, union_id)
        return await store.in_disclosure(conn, chosen, window_id, after, limit)
