"""HTTP routes of 金秋助学 (autumn student aid): windows, admission evidence, applications,
review, public disclosure with objections, payment. Lists are {"items": [...], "next": cursor}."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.relief.domain import student_aid as rules
from services.relief.domain.intake import Household
from services.relief.domain.student_aid import (
    APPLICATION_STATUS_LABELS,
    ELIGIBLE_BY_LABELS,
    EVIDENCE_TYPES,
    MAX_EVIDENCE_BYTES,
    WINDOW_STATUS_LABELS,
    ApplicationStatus,
    EligibleBy,
    WindowStatus,
)
from services.relief.handlers import student_aid, student_aid_decisions
from services.relief.handlers.common import Deps
from services.relief.handlers.student_aid import ApplicationView
from services.relief.store.student_aid import ApplicationRow, EvidenceRow, ObjectionRow, WindowRow
from shared.contracts.relief_programmes import SCHOOL_TYPE_LABELS, SchoolType
from shared.http import AppDeps, CallerDep
from shared.inputs import After, Limit, StrictRoute
from shared.money import Fen, PositiveFen
from shared.openapi import problems
from shared.tabular import attachment

router = APIRouter(prefix="/student-aid", tags=["student aid"], route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Windows ----------------------------------------------------------------------------------------


class WindowIn(_In):
    union_id: uuid.UUID
    academic_year: int = Field(ge=2000, le=2100, examples=[2027])
    opens_at: datetime = Field(examples=["2027-07-01T00:00:00+08:00"])
    closes_at: datetime = Field(examples=["2027-09-30T00:00:00+08:00"])
    amounts_fen: dict[SchoolType, PositiveFen] = Field(
        min_length=1,
        max_length=4,
        description="fen per student by school type",
        examples=[{"undergraduate": 300_000}],
    )
    disclosure_days: int | None = Field(default=None, ge=1, le=30, description="公示期, default 5 days")


class SchoolAmountOut(BaseModel):
    school_type: SchoolType
    label: str
    amount_fen: int


class WindowOut(BaseModel):
    window_id: uuid.UUID
    title: str
    union_id: uuid.UUID
    union_name: str | None
    academic_year: int
    opens_at: datetime
    closes_at: datetime
    status: WindowStatus
    status_label: str
    amounts: list[SchoolAmountOut]
    disclosure_days: int

    @classmethod
    def of(cls, w: WindowRow, state: WindowStatus) -> "WindowOut":
        return cls(
            window_id=w.window_id, title=w.title, union_id=w.union_id, union_name=w.union_name,
            academic_year=w.academic_year, opens_at=w.opens_at, closes_at=w.closes_at, status=state,
            status_label=WINDOW_STATUS_LABELS[state],
            amounts=[SchoolAmountOut(school_type=t, label=SCHOOL_TYPE_LABELS[t], amount_fen=f)
                     for t, f in w.amounts_fen.items()],
            disclosure_days=w.disclosure_days,
        )  # fmt: skip


class WindowsOut(BaseModel):
    items: list[WindowOut]
    next: int | None


def _next(after: int, limit: int, got: int) -> int | None:
    return after + got if got == limit else None


@router.post("/windows", status_code=status.HTTP_201_CREATED, responses=problems(403, 404, 409))
async def open_window(body: WindowIn, deps: DepsDep, caller: CallerDep) -> WindowOut:
    """A union's 金秋助学 for one academic year; a durable timer closes it at closes_at."""
    form = student_aid.WindowForm(
        body.union_id,
        body.academic_year,
        body.opens_at,
        body.closes_at,
        dict(body.amounts_fen),
        body.disclosure_days,
    )
    w = await student_aid.open_window(deps, caller, form)
    return WindowOut.of(w, student_aid.status_of(deps, w))


@router.get("/windows", responses=problems(403, 404))
async def list_windows(
    deps: DepsDep,
    caller: CallerDep,
    union_id: Annotated[
        uuid.UUID | None, Query(description="default: a member's base union, a cadre's own")
    ] = None,
    only_open: Annotated[bool, Query(alias="open", description="only those taking applications now")] = False,
    after: After = 0,
    limit: Limit = 100,
) -> WindowsOut:
    """Windows that concern the union: its own, those of unions above it and inside its subtree."""
    rows = await student_aid.list_windows(deps, caller, union_id, only_open, after, limit)
    items = [WindowOut.of(w, student_aid.status_of(deps, w)) for w in rows]
    return WindowsOut(items=items, next=_next(after, limit, len(rows)))


@router.get("/windows/{window_id}", responses=problems(404))
async def get_window(window_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> WindowOut:
    w = await student_aid.get_window(deps, caller, window_id)
    return WindowOut.of(w, student_aid.status_of(deps, w))


# Evidence ---------------------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    file_id: uuid.UUID
    file_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime

    @classmethod
    def of(cls, e: EvidenceRow) -> "EvidenceOut":
        return cls(
            file_id=e.file_id, file_name=e.file_name, content_type=e.content_type, size=e.size,
            sha256=e.sha256_hex, uploaded_at=e.uploaded_at,
        )  # fmt: skip


@router.post(
    "/evidence",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 413),
    max_body_size=MAX_EVIDENCE_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in EVIDENCE_TYPES},
        }
    },
)
async def upload_evidence(
    request: Request,
    deps: DepsDep,
    caller: CallerDep,
    file_name: Annotated[str, Query(min_length=1, max_length=200, description="the file's name")],
) -> EvidenceOut:
    """The admission evidence (录取通知书) as the raw body: JPEG, PNG or PDF, at most 5 MiB, its
    bytes what its Content-Type says."""
    data = await request.body()
    row = await student_aid.upload_evidence(
        deps, caller, file_name, request.headers.get("content-type"), data
    )
    return EvidenceOut.of(row)


@router.get(
    "/evidence/{file_id}",
    responses={**problems(404), 200: {"content": {t: {} for t in EVIDENCE_TYPES}, "description": "the file"}},
    response_class=Response,
)
async def download_evidence(file_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> Response:
    """The uploader, the member whose application it supports and the cadres of their union."""
    evidence, data = await student_aid.read_evidence(deps, caller, file_id)
    extension = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[evidence.content_type]
    return Response(
        data,
        media_type=evidence.content_type,
        headers={
            "Content-Disposition": attachment(evidence.file_name, f"evidence.{extension}"),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# Applications -----------------------------------------------------------------------------------


class HouseholdIn(_In):
    monthly_income_fen: Fen = Field(description="the whole household's monthly income, in fen")
    household_size: int = Field(strict=True, ge=1, le=50)


class ApplicationIn(_In):
    window_id: uuid.UUID
    member_id: uuid.UUID | None = Field(
        default=None, description="a cadre filing for a member; a member: themself"
    )
    student_name: str = Field(min_length=1, max_length=50)
    student_id_number: str = Field(
        min_length=1, max_length=30, description="never stored nor returned: a keyed hash only"
    )
    school_name: str = Field(min_length=1, max_length=100)
    school_type: SchoolType
    admission_year: int = Field(ge=1990, le=2100)
    evidence_file_id: uuid.UUID
    household: HouseholdIn | None = Field(
        default=None, description="needed when the household is not in the relief register"
    )


class ObjectionOut(BaseModel):
    objection_id: uuid.UUID
    text: str
    answer: str | None
    upheld: bool | None
    raised_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, o: ObjectionRow) -> "ObjectionOut":
        return cls(
            objection_id=o.objection_id, text=o.text, answer=o.answer, upheld=o.upheld, raised_at=o.raised_at,
            answered_at=o.answered_at,
        )  # fmt: skip


class EvidenceRefOut(BaseModel):
    file_id: uuid.UUID
    file_name: str
    content_type: str
    size: int


class ApplicationOut(BaseModel):
    application_id: uuid.UUID
    window_id: uuid.UUID
    window_title: str
    member_id: uuid.UUID
    member_name_masked: str
    student_name_masked: str
    school_name: str
    school_type: SchoolType
    school_type_label: str
    admission_year: int
    amount_fen: int
    eligible_by: EligibleBy
    eligible_by_label: str
    status: ApplicationStatus
    status_label: str
    decision_reason: str | None
    disclosure_ends_at: datetime | None
    objections: list[ObjectionOut]
    paid_at: datetime | None
    evidence: EvidenceRefOut | None

    @classmethod
    def of(cls, v: ApplicationView) -> "ApplicationOut":
        a, e = v.application, v.evidence
        return cls(
            application_id=a.application_id, window_id=a.window_id, window_title=a.window_title,
            member_id=a.member_id, member_name_masked=rules.masked(a.member_name),
            student_name_masked=rules.masked(a.student_name), school_name=a.school_name,
            school_type=a.school_type, school_type_label=SCHOOL_TYPE_LABELS[a.school_type],
            admission_year=a.admission_year, amount_fen=a.amount_fen, eligible_by=a.eligible_by,
            eligible_by_label=ELIGIBLE_BY_LABELS[a.eligible_by], status=a.status,
            status_label=APPLICATION_STATUS_LABELS[a.status], decision_reason=a.decision_reason,
            disclosure_ends_at=a.disclosure_ends_at, objections=[ObjectionOut.of(o) for o in v.objections],
            paid_at=a.paid_at,
            evidence=EvidenceRefOut(file_id=e.file_id, file_name=e.file_name, content_type=e.content_type,
                                    size=e.size) if e else None,
        )  # fmt: skip


class ApplicationsOut(BaseModel):
    items: list[ApplicationOut]
    next: int | None


@router.post("/applications", status_code=status.HTTP_201_CREATED, responses=problems(403, 404, 409))
async def apply(body: ApplicationIn, deps: DepsDep, caller: CallerDep) -> ApplicationOut:
    """Refused (409) when the window is not open, the member not active, the household neither in
    the register nor eligible by the relief rules, or the student already applied this year."""
    household = (
        Household(body.household.household_size, body.household.monthly_income_fen)
        if body.household
        else None
    )
    form = student_aid.ApplicationForm(
        body.window_id, body.member_id, body.student_name, body.student_id_number, body.school_name,
        body.school_type, body.admission_year, body.evidence_file_id, household,
    )  # fmt: skip
    application = await student_aid.apply(deps, caller, form)
    return ApplicationOut.of(await student_aid.get_application(deps, caller, application.application_id))


@router.get("/applications", responses=problems(403, 404))
async def list_applications(
    deps: DepsDep,
    caller: CallerDep,
    window_id: uuid.UUID | None = None,
    union_id: Annotated[uuid.UUID | None, Query(description="default: the cadre's own union")] = None,
    status_filter: Annotated[ApplicationStatus | None, Query(alias="status")] = None,
    after: After = 0,
    limit: Limit = 100,
) -> ApplicationsOut:
    """Applications of the members of the union's subtree (cadres)."""
    views = await student_aid.list_applications(
        deps, caller, window_id, union_id, status_filter, after, limit
    )
    return ApplicationsOut(items=[ApplicationOut.of(v) for v in views], next=_next(after, limit, len(views)))


@router.get("/applications/mine", responses=problems(403))
async def my_applications(
    deps: DepsDep, caller: CallerDep, after: After = 0, limit: Limit = 100
) -> ApplicationsOut:
    views = await student_aid.my_applications(deps, caller, after, limit)
    return ApplicationsOut(items=[ApplicationOut.of(v) for v in views], next=_next(after, limit, len(views)))


@router.get("/applications/{application_id}", responses=problems(404))
async def get_application(application_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ApplicationOut:
    return ApplicationOut.of(await student_aid.get_application(deps, caller, application_id))


class ReviewIn(_In):
    approve: bool
    reason: str = Field(default="", max_length=1000, description="required to decline")


@router.post("/applications/{application_id}/review", responses=problems(403, 404, 409))
async def review(
    application_id: uuid.UUID, body: ReviewIn, deps: DepsDep, caller: CallerDep
) -> ApplicationOut:
    """Approve: the public disclosure starts; decline: with a reason. Not by the cadre who filed it."""
    view = await student_aid_decisions.review(deps, caller, application_id, body.approve, body.reason)
    return ApplicationOut.of(view)


class DisclosedOut(BaseModel):
    application_id: uuid.UUID
    member_name_masked: str
    student_name_masked: str
    school_type_label: str
    amount_fen: int
    union_name: str | None
    disclosure_ends_at: datetime | None

    @classmethod
    def of(cls, a: ApplicationRow) -> "DisclosedOut":
        return cls(
            application_id=a.application_id, member_name_masked=rules.masked(a.member_name),
            student_name_masked=rules.masked(a.student_name),
            school_type_label=SCHOOL_TYPE_LABELS[a.school_type], amount_fen=a.amount_fen,
            union_name=a.union_name, disclosure_ends_at=a.disclosure_ends_at,
        )  # fmt: skip


class DisclosureOut(BaseModel):
    items: list[DisclosedOut]
    next: int | None


@router.get("/disclosure", responses=problems(403, 404))
async def disclosure(
    deps: DepsDep,
    caller: CallerDep,
    union_id: Annotated[
        uuid.UUID | None, Query(description="default: a member's base union, a cadre's own")
    ] = None,
    window_id: uuid.UUID | None = None,
    after: After = 0,
    limit: Limit = 100,
) -> DisclosureOut:
    """The public list (公示): masked names, the school type and the amount."""
    rows = await student_aid.disclosure(deps, caller, union_id, window_id, after, limit)
    return DisclosureOut(items=[DisclosedOut.of(a) for a in rows], next=_next(after, limit, len(rows)))


class ObjectionIn(_In):
    text: str = Field(min_length=1, max_length=2000)


class AnswerIn(_In):
    upheld: bool
    answer: str = Field(min_length=1, max_length=2000)


@router.post(
    "/applications/{application_id}/objections",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def raise_objection(
    application_id: uuid.UUID, body: ObjectionIn, deps: DepsDep, caller: CallerDep
) -> ObjectionOut:
    return ObjectionOut.of(
        await student_aid_decisions.raise_objection(deps, caller, application_id, body.text)
    )


@router.post("/objections/{objection_id}/answer", responses=problems(403, 404, 409))
async def answer_objection(
    objection_id: uuid.UUID, body: AnswerIn, deps: DepsDep, caller: CallerDep
) -> ObjectionOut:
    """Upheld: the application is declined."""
    answered = await student_aid_decisions.answer_objection(
        deps, caller, objection_id, body.upheld, body.answer
    )
    return ObjectionOut.of(answered)


class PayIn(_In):
    budget_union_id: uuid.UUID | None = Field(
        default=None, description="the member's union (default) or one above it: its tuition budget pays"
    )


@router.post(
    "/applications/{application_id}/pay",
    responses={
        **problems(403, 404, 409),
        409: {"description": "over budget (with remaining_fen), not approved, or the key reused"},
    },
)
async def pay(
    application_id: uuid.UUID,
    body: PayIn,
    deps: DepsDep,
    caller: CallerDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> ApplicationOut:
    """Paid from the yearly tuition budget, never over it, once however often retried."""
    paid = await student_aid_decisions.pay(
        deps, caller, application_id, idempotency_key, body.budget_union_id
    )
    if paid.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return ApplicationOut.of(paid.application)
