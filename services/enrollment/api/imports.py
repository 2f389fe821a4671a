"""HTTP routes of the roster import (批量导入) and the member list export (会员名单导出).

The member list is `member_lists` in the handlers' words, apart from `exports` (a person's copy
of their own data, handlers/exports.py)."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from services.enrollment.domain.imports import TEMPLATE_EXAMPLE, TEMPLATE_HEADER, Outcome
from services.enrollment.handlers import imports
from services.enrollment.handlers.common import Deps
from services.enrollment.store.imports import ImportJob
from shared.errors import InvalidInput
from shared.http import AppDeps, CallerDep
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems
from shared.tabular import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, TableFormat, attachment, format_of, write_table

router = APIRouter(route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]

MAX_FILE = 5 * 1024 * 1024  # a 10,000-line roster is well under 2 MiB as CSV or XLSX
JobStatus = Literal["checked", "committing", "committed", "failed"]


class ImportCheckedOut(BaseModel):
    import_id: uuid.UUID
    status: JobStatus
    file_name: str
    total: int
    ok: int
    refused: int
    done: int
    lines_url: str


class ImportOut(BaseModel):
    import_id: uuid.UUID
    status: JobStatus
    file_name: str
    total: int
    ok: int
    refused: int
    done: int
    created_at: datetime
    committed_at: datetime | None


class ImportCommitOut(BaseModel):
    import_id: uuid.UUID
    status: JobStatus


class ImportLineOut(BaseModel):
    line: int
    outcome: Outcome
    reason: str


class ImportLinesOut(BaseModel):
    items: list[ImportLineOut]
    next: int | None


def _out(job: ImportJob) -> ImportOut:
    return ImportOut.model_validate(job, from_attributes=True)


@router.post(
    "/imports",
    status_code=status.HTTP_201_CREATED,
    tags=["imports"],
    responses=problems(403, 404),
    max_body_size=MAX_FILE,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def check_roster(
    request: Request,
    deps: DepsDep,
    caller: CallerDep,
    union_id: Annotated[uuid.UUID, Query(description="the union whose subtree the rows join")],
    file_name: Annotated[str, Query(min_length=1, max_length=200, description="the file's name")],
) -> ImportCheckedOut:
    """The dry run: every line checked (姓名, 身份证号, 手机号, 工作单位, 用工形式, 基层工会), the
    job and its line report written, nothing else. The file is the raw body (CSV or XLSX, at
    most 5 MiB), its format by Content-Type or else by the file name's extension."""
    fmt = format_of(request.headers.get("content-type"), file_name)
    if fmt is None:
        raise InvalidInput("请上传 CSV 或 XLSX 文件")
    data = await request.body()
    if not data:
        raise InvalidInput("文件是空的")
    job = await imports.dry_run(deps, caller, union_id, file_name.strip(), fmt, data)
    return ImportCheckedOut(
        **_out(job).model_dump(exclude={"created_at", "committed_at"}),
        lines_url=f"/imports/{job.import_id}/lines",
    )


@router.get(
    "/imports/template",
    tags=["imports"],
    responses={200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}, "description": "the template"}},
    response_class=Response,
)
async def roster_template(format: TableFormat = TableFormat.XLSX) -> Response:
    """An empty roster (会员名单模板): the header the import reads first and one example line to
    overwrite; public, it holds no data. Declared before /imports/{import_id} (not an id)."""
    data = write_table(format, TEMPLATE_HEADER, [TEMPLATE_EXAMPLE], "会员名单")
    disposition = attachment(f"会员名单模板.{format.value}", f"roster-template.{format.value}")
    return Response(data, media_type=format.media_type, headers={"Content-Disposition": disposition})


@router.get("/imports/{import_id}", tags=["imports"], responses=problems(403, 404))
async def get_import(import_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ImportOut:
    """The job and its progress: `done` counts the ok lines the commit has handled."""
    return _out(await imports.get_import(deps, caller, import_id))


@router.get("/imports/{import_id}/lines", tags=["imports"], responses=problems(403, 404))
async def import_lines(
    import_id: uuid.UUID,
    deps: DepsDep,
    caller: CallerDep,
    outcome: Outcome | None = None,
    after: Annotated[
        int | None, Query(ge=0, le=1_000_000, description="the last line of the page before")
    ] = None,
    limit: Limit = 100,
) -> ImportLinesOut:
    found = await imports.import_lines(deps, caller, import_id, outcome, after, limit)
    items = [ImportLineOut(line=f.line, outcome=Outcome(f.outcome), reason=f.reason) for f in found]
    return ImportLinesOut(items=items, next=items[-1].line if len(items) == limit else None)


@router.post(
    "/imports/{import_id}/commit",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["imports"],
    responses={**problems(403, 404), 409: {"description": "the checked rows are older than 7 days"}},
)
async def commit_import(import_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ImportCommitOut:
    """Commit the ok lines in the background (follow `done` on GET /imports/{id}); committing
    again answers the job's state and creates nothing."""
    job = await imports.commit(deps, caller, import_id)
    return ImportCommitOut.model_validate({"import_id": job.import_id, "status": job.status})


@router.get(
    "/members/export",
    tags=["imports"],
    responses={
        **problems(403, 404),
        200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}, "description": "the member list"},
    },
    response_class=Response,
)
async def export_member_list(
    deps: DepsDep,
    caller: CallerDep,
    union_id: Annotated[uuid.UUID | None, Query(description="default: the cadre's union")] = None,
    format: TableFormat = TableFormat.CSV,
) -> Response:
    """The members of a union's subtree as a file, masked (张*, masked ID and phone)."""
    data = await imports.member_list(deps, caller, union_id, format)
    disposition = attachment(f"会员名单.{format.value}", f"members.{format.value}")
    return Response(data, media_type=format.media_type, headers={"Content-Disposition": disposition})
