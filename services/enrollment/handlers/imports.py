"""Roster import (批量导入) and the member list export.

The dry run reads the file, checks every line and writes the job with its line report in one
transaction; nothing else changes. The commit marks the job committing; `ImportCommits`, a
background chore of the service, files each ok line as an application by channel `import` and
approves it at once, through the same code as a cadre's own filing and approval (so the usual
events go out), ~200 lines per transaction. A job left committing by a crash is picked up again
on the next round. A line whose person became a member (or applied) meanwhile is skipped.
"""

import asyncio
import hashlib
import json
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta

from services.enrollment.domain import imports as rules
from services.enrollment.domain.applications import ApplicationForm
from services.enrollment.handlers.applications import approve, file_application
from services.enrollment.handlers.common import Deps, existing_union, require_scope
from services.enrollment.store import applications, members, persons
from services.enrollment.store import imports as store
from shared import audit
from shared.auth import Caller
from shared.contracts.enrollment import ApplicationChannel, EmploymentType, MembershipStatus, UnionKind
from shared.db import TRANSIENT_ERRORS, Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import Trace, china_date
from shared.logging import get_logger
from shared.periodic import Periodic
from shared.pii import mask_name, mask_national_id, mask_phone
from shared.tabular import TableFormat, UnreadableTable, read_table, write_table

log = get_logger(__name__)

BATCH = 200  # lines per commit transaction
KEEP_CHECKED_ROWS = timedelta(days=7)  # then the dry run's personal data is deleted
POLL_SECONDS = 1.0


def _require_staff(caller: Caller) -> None:
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden("只有工会干部可以批量导入和导出会员")


def _row_bytes(row: rules.Row) -> bytes:
    return json.dumps({**asdict(row), "base_union_id": str(row.base_union_id)}, ensure_ascii=False).encode()


def _row_of(text: str) -> rules.Row:
    d = json.loads(text)
    return rules.Row(
        name=d["name"], national_id=d["national_id"], phone=d["phone"], employer=d["employer"],
        employment_type=EmploymentType(d["employment_type"]), base_union_id=uuid.UUID(d["base_union_id"]),
    )  # fmt: skip


def _named_ids(cells: list[str]) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    for cell in cells:
        try:
            found.append(uuid.UUID(cell))
        except ValueError:
            continue
    return found


async def dry_run(
    deps: Deps, caller: Caller, union_id: uuid.UUID, file_name: str, fmt: TableFormat, data: bytes
) -> store.ImportJob:
    """Check the file against the caller's scope (`union_id`); write the job and its lines only."""
    _require_staff(caller)
    try:
        # Off the event loop: parsing 10,000 lines of XLSX takes a while.
        table = await asyncio.to_thread(read_table, fmt, data)
    except UnreadableTable as exc:
        raise InvalidInput(str(exc)) from exc
    columns = rules.columns_of(table.header)
    union_column = columns[rules.Field.BASE_UNION]
    cells = [row[union_column] for _, row in table.rows if union_column < len(row)]
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        scope = await existing_union(conn, union_id)
        require_scope(caller, scope)
        facts = await store.unions_for_check(conn, union_id, _named_ids(cells))
        unions = rules.Unions.of(
            [rules.UnionEntry(f.union_id, f.name, UnionKind(f.kind), union_id in f.path) for f in facts]
        )
        lines = rules.check_lines(table, unions, china_date(now))
        hashes = {
            line.row.national_id: deps.pii.lookup_hash(line.row.national_id) for line in lines if line.row
        }
        by_hash = {k.national_id_hash: k for k in await store.known_persons(conn, list(hashes.values()))}
        known: dict[str, rules.Known] = {}
        for national_id, digest in hashes.items():
            if (k := by_hash.get(digest)) is not None:
                path = k.active_union_path or k.pending_union_path or []
                known[national_id] = rules.Known(
                    active_member=k.active_union_path is not None,
                    pending=k.pending_union_path is not None,
                    in_scope=caller.principal.covers_union(path),
                )
        lines = rules.judge_known(lines, known)
        n = rules.counts(lines)
        job = store.ImportJob(
            import_id=uuid.uuid4(), union_id=union_id, actor=caller.actor,
            correlation_id=caller.correlation_id, file_name=file_name, sha256=hashlib.sha256(data).digest(),
            format=fmt.value, status="checked", total=n.total, ok=n.ok, refused=n.refused, done=0,
            committed_by=None, created_at=now, committed_at=None,
        )  # fmt: skip
        await store.insert_job(
            conn,
            job,
            [
                (line.line, line.outcome.value, line.reason,
                 deps.pii.encrypt(_row_bytes(line.row).decode()) if line.row else None)
                for line in lines
            ],
        )  # fmt: skip
        await audit.record(
            conn, trace, "import.checked", str(job.import_id), union_id=union_id, total=n.total, ok=n.ok
        )
        return job


async def _job_in_scope(conn: Conn, caller: Caller, import_id: uuid.UUID, *, lock: bool) -> store.ImportJob:
    """The job, if the caller's scope covers its union; else NotFound (as if there were none)."""
    _require_staff(caller)
    job = await store.get_job(conn, import_id, for_update=lock)
    if job is None or not caller.principal.covers_union((await existing_union(conn, job.union_id)).path):
        raise NotFound("没有找到该导入任务")
    return job


async def get_import(deps: Deps, caller: Caller, import_id: uuid.UUID) -> store.ImportJob:
    async with deps.pool.acquire() as conn:
        return await _job_in_scope(conn, caller, import_id, lock=False)


async def import_lines(
    deps: Deps,
    caller: Caller,
    import_id: uuid.UUID,
    outcome: rules.Outcome | None,
    after: int | None,
    limit: int,
) -> list[store.LineRow]:
    async with deps.pool.acquire() as conn:
        await _job_in_scope(conn, caller, import_id, lock=False)
        return await store.lines(conn, import_id, outcome.value if outcome else None, after, limit)


async def commit(deps: Deps, caller: Caller, import_id: uuid.UUID) -> store.ImportJob:
    """Start (or resume) committing; a job committing or committed already is answered as it is."""
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        # Unlocked first: the chore holds a committing job's row for a whole batch.
        job = await _job_in_scope(conn, caller, import_id, lock=False)
        if job.status in ("committing", "committed"):
            return job
        job = await _job_in_scope(conn, caller, import_id, lock=True)
        if job.status in ("committing", "committed"):
            return job
        if await store.is_purged(conn, import_id):
            raise Conflict("该导入结果已超过7天,请重新上传文件")
        started = await store.start_commit(conn, import_id, caller.actor)
        await audit.record(conn, trace, "import.committed", str(import_id), union_id=job.union_id)
        return started


async def commit_batch(deps: Deps, import_id: uuid.UUID, size: int = BATCH) -> bool:
    """One transaction: the next `size` ok lines of a committing job; False once nothing is left
    (the job is committed then) or another replica holds the job."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        job = await store.claim_committing(conn, import_id)
        if job is None:
            return False
        pending = await store.next_lines(conn, import_id, size)
        if not pending:
            await store.complete(conn, import_id, now)
            log.info("import_committed", import_id=str(import_id), done=job.done)
            return False
        filed_by = Trace(job.actor, job.correlation_id)
        approved_by = Trace(job.committed_by or job.actor, job.correlation_id)
        rows = [(p.line, _row_of(deps.pii.decrypt(p.row_cipher))) for p in pending]
        hashed = sorted(
            ((deps.pii.lookup_hash(r.national_id), line, r) for line, r in rows), key=lambda t: t[0]
        )
        imported: list[int] = []
        skipped: list[int] = []
        # In the hashes' order: two batches sharing persons lock them in the same order.
        for digest, line, row in hashed:
            if await _import_row(deps, conn, filed_by, approved_by, digest, row, now):
                imported.append(line)
            else:
                skipped.append(line)
        await store.finish_lines(conn, import_id, imported, skipped, rules.IMPORTED, rules.NEUTRAL)
        return True


async def _import_row(
    deps: Deps, conn: Conn, filed_by: Trace, approved_by: Trace, digest: bytes, row: rules.Row, now: datetime
) -> bool:
    """File and approve one line; False (nothing written) when the person is a member or has a
    pending application by now."""
    person = await persons.lock_or_create_person(
        conn, digest, deps.pii.encrypt(row.national_id), mask_national_id(row.national_id)
    )
    member = await members.get_member(conn, person.person_id)
    if member is not None and member.membership.status is MembershipStatus.ACTIVE:
        return False
    if await applications.pending_application(conn, person.person_id) is not None:
        return False
    form = ApplicationForm(
        name=row.name, national_id=row.national_id, phone=row.phone, employer=row.employer,
        employment_type=row.employment_type, base_union_id=row.base_union_id,
    )  # fmt: skip
    application = await file_application(deps, conn, filed_by, person, form, ApplicationChannel.IMPORT, now)
    await approve(deps, conn, approved_by, application, now)
    return True


class ImportCommits:
    """The background chore: commits the jobs left committing (new ones, or ones a crash left
    half done), batch by batch, and deletes the checked rows of jobs older than 7 days."""

    def __init__(self, deps: Deps, interval_seconds: float = POLL_SECONDS) -> None:
        self.deps = deps
        self._stopping = False
        self._periodic = Periodic("import-commits", self.round, interval_seconds)

    async def round(self) -> None:
        now = self.deps.now()
        async with self.deps.pool.acquire() as conn:
            await store.purge_older_than(conn, now - KEEP_CHECKED_ROWS, now)
            jobs = await store.committing_jobs(conn)
        for import_id in jobs:
            await self.commit_job(import_id)

    async def commit_job(self, import_id: uuid.UUID) -> None:
        while not self._stopping:
            try:
                if not await commit_batch(self.deps, import_id):
                    return
            except TRANSIENT_ERRORS:
                raise  # deferred by the loop: the job stays committing and is resumed
            except Exception:
                log.exception("import_failed", import_id=str(import_id))
                async with self.deps.pool.acquire() as conn:
                    await store.fail(conn, import_id)
                return
            await asyncio.sleep(0)  # let requests in between batches

    async def run(self) -> None:
        await self._periodic.run()

    def stop(self) -> None:
        self._stopping = True
        self._periodic.stop()


# The member list export -----------------------------------------------------------------------

MEMBER_STATUS_LABELS = {MembershipStatus.ACTIVE.value: "在会", MembershipStatus.LEFT.value: "已离会"}
MEMBER_LIST_HEADER = (
    "姓名",
    "身份证号",
    "手机号",
    "会员卡号",
    "会员编号",
    "基层工会",
    "会籍状态",
    "入会日期",
)


async def member_list(deps: Deps, caller: Caller, union_id: uuid.UUID | None, fmt: TableFormat) -> bytes:
    """The members of a union's subtree, masked as any list shows them (张*, 1101**********123X,
    138****0000), as a file; the export is in the audit trail."""
    _require_staff(caller)
    scope_id = union_id or caller.principal.union_id
    if scope_id is None:
        raise InvalidInput("请指定工会(union_id)")
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        union = await existing_union(conn, scope_id)
        require_scope(caller, union)
        listed = await store.members_of_subtree(conn, scope_id)
        await audit.record(
            conn, trace, "members.exported", str(scope_id), format=fmt.value, count=len(listed)
        )
    rows = [
        [mask_name(m.name), m.national_id_masked, mask_phone(m.phone), m.card_number, m.membership_number,
         m.base_union_name, MEMBER_STATUS_LABELS.get(m.status, m.status), m.member_since.isoformat()]
        for m in listed
    ]  # fmt: skip
    return await asyncio.to_thread(write_table, fmt, MEMBER_LIST_HEADER, rows, "会员名单")
