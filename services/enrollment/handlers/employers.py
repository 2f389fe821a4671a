"""Employer register commands and its list: one transaction each, the change, its trail entry and
its event (EmployerRegistered / EmployerUpdated, keyed by the employer id) written together."""

import uuid
from dataclasses import dataclass, field, replace

from services.enrollment.domain import employers as rules
from services.enrollment.handlers.common import Deps
from services.enrollment.store import employers, unions
from shared import audit
from shared.auth import Caller, Role
from shared.contracts.enrollment import EmployerRegistered, EmployerUpdated, UnionKind
from shared.db import Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import Trace


async def union_in_scope(conn: Conn, caller: Caller, union_id: uuid.UUID) -> unions.UnionRow:
    """The union, when it exists and the caller's scope covers it (refusals in Chinese)."""
    union = await unions.get_union(conn, union_id)
    if union is None:
        raise NotFound("该工会不存在")
    if not caller.principal.covers_union(union.path):
        raise Forbidden(f"「{union.name}」不在您的管辖范围内")
    return union


# A responsible union organises employers in its area: a township, street or park union or above.
_RESPONSIBLE_KINDS = frozenset(
    (UnionKind.NATIONAL, UnionKind.PROVINCE, UnionKind.CITY, UnionKind.COUNTY, UnionKind.TOWNSHIP)
)


@dataclass(frozen=True)
class EmployerForm:
    name: str
    region: str
    workforce: int
    responsible_union_id: uuid.UUID
    base_union_id: uuid.UUID | None


@dataclass(frozen=True)
class RegisterEmployer:
    form: EmployerForm
    credit_code: str
    employer_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def _placed(
    conn: Conn, caller: Caller, employer_id: uuid.UUID, credit_code: str, form: EmployerForm, version: int
) -> employers.EmployerRow:
    """The employer as the form states it, after checking the caller may place it there."""
    name = rules.employer_name(form.name)
    region = rules.employer_region(form.region)
    workers = rules.workforce(form.workforce)
    responsible = await union_in_scope(conn, caller, form.responsible_union_id)
    if responsible.kind not in _RESPONSIBLE_KINDS:
        raise InvalidInput("负责工会应为乡镇(街道、园区)及以上工会,不能是基层工会、分工会或工会小组")
    if form.base_union_id is not None:
        base = await unions.get_union(conn, form.base_union_id)
        if base is None or base.kind is not UnionKind.BASE or responsible.union_id not in base.path:
            raise InvalidInput(f"所选基层工会不在「{responsible.name}」的下级基层工会之中")
    return employers.EmployerRow(
        employer_id=employer_id,
        name=name,
        credit_code=credit_code,
        region=region,
        workforce=workers,
        responsible_union_id=responsible.union_id,
        responsible_path=responsible.path,
        base_union_id=form.base_union_id,
        should_have_union=rules.should_have_union(workers),
        version=version,
    )


async def register_employer(deps: Deps, caller: Caller, cmd: RegisterEmployer) -> employers.EmployerRow:
    code = rules.credit_code(cmd.credit_code)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        employer = await _placed(conn, caller, cmd.employer_id, code, cmd.form, version=1)
        if not await employers.insert_employer(conn, employer):
            existing = await employers.with_code(conn, code)
            raise Conflict(
                "该统一社会信用代码已登记", existing_employer_id=str(existing) if existing else None
            )
        version = await audit.record_and_next_version(
            conn, trace, employer.employer_id, "employer.registered", str(employer.employer_id),
            name=employer.name, credit_code=code, responsible_union_id=employer.responsible_union_id,
            base_union_id=employer.base_union_id, workforce=employer.workforce,
        )  # fmt: skip
        if version != employer.version:
            # Only if events were announced under this id before (a fresh uuid has none).
            employer = await _with_version(conn, employer, version)
        payload = EmployerRegistered(employer=employers.snapshot(employer))
        await deps.events.emit(conn, trace, employer.employer_id, payload, version=version)
        return employer


async def update_employer(
    deps: Deps, caller: Caller, employer_id: uuid.UUID, form: EmployerForm
) -> employers.EmployerRow:
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        current = await employers.get_employer(conn, employer_id, for_update=True)
        if current is None:
            raise NotFound("该单位不存在")
        # Who may change it: a cadre over its responsible union now, and over the one it moves to.
        await union_in_scope(conn, caller, current.responsible_union_id)
        changed = await _placed(conn, caller, employer_id, current.credit_code, form, current.version)
        if changed == current:
            return current  # a retry, or nothing to change: no entry, no event
        version = await audit.record_and_next_version(
            conn, trace, employer_id, "employer.updated", str(employer_id),
            changes=_diff(current, changed),
        )  # fmt: skip
        employer = await _with_version(conn, changed, version)
        payload = EmployerUpdated(employer=employers.snapshot(employer))
        await deps.events.emit(conn, trace, employer_id, payload, version=version)
        return employer


async def _with_version(conn: Conn, employer: employers.EmployerRow, version: int) -> employers.EmployerRow:
    saved = replace(employer, version=version)
    await employers.update_employer(conn, saved)
    return saved


def _diff(before: employers.EmployerRow, after: employers.EmployerRow) -> dict[str, object]:
    """What changed, as the trail records it: each field's new value."""
    return {
        k: v
        for k, v in after.__dict__.items()
        if k not in ("version", "responsible_path") and getattr(before, k) != v
    }


async def list_employers(
    deps: Deps,
    caller: Caller,
    union_id: uuid.UUID | None,
    words: str | None,
    covered: bool | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[employers.EmployerRow]:
    """Employers organised by `union_id` or a union below it (default: the cadre's own union;
    an admin without one sees them all)."""
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden("只有工会干部可以查看单位名录")
    scope = union_id or caller.principal.union_id
    async with deps.pool.acquire() as conn:
        if scope is not None:
            await union_in_scope(conn, caller, scope)
        elif caller.principal.role is not Role.ADMIN:
            raise InvalidInput("请指定 union_id")
        return await employers.in_subtree(conn, scope, words, covered, after, limit)
