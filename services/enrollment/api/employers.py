"""HTTP routes of the employer register (用人单位名录)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.enrollment.domain.employers import NAME_MAX, WORKFORCE_MAX
from services.enrollment.handlers import employers
from services.enrollment.handlers.common import Deps
from shared.http import AppDeps, CallerDep
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute, tags=["employers"])

DepsDep = Annotated[Deps, AppDeps]


class EmployerChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["杭州某某物流有限公司"])
    region: str = Field(
        min_length=1, max_length=12, examples=["330106"], description="GB/T 2260 code (行政区划代码)"
    )
    workforce: int = Field(ge=0, le=WORKFORCE_MAX, description="职工人数")
    responsible_union_id: uuid.UUID = Field(
        description="the township, street or park union (or above) that organises it"
    )
    base_union_id: uuid.UUID | None = Field(
        default=None, description="the base union covering it (its own or a 联合工会), if any"
    )

    def form(self) -> employers.EmployerForm:
        return employers.EmployerForm(
            name=self.name, region=self.region, workforce=self.workforce,
            responsible_union_id=self.responsible_union_id, base_union_id=self.base_union_id,
        )  # fmt: skip


class EmployerIn(EmployerChangeIn):
    # The check character is verified by the handler (a reason in Chinese), not by a pattern here.
    credit_code: str = Field(
        min_length=1, max_length=32, examples=["91440300708461136T"], description="统一社会信用代码"
    )


class EmployerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    employer_id: uuid.UUID
    name: str
    credit_code: str
    region: str
    workforce: int
    responsible_union_id: uuid.UUID
    base_union_id: uuid.UUID | None
    should_have_union: bool = Field(description="counts in 建会率: it has workers to organise")
    version: int


class EmployersOut(BaseModel):
    items: list[EmployerOut]
    next: uuid.UUID | None = Field(description="pass as `after` for the next page; null on the last")


@router.post(
    "/employers",
    status_code=status.HTTP_201_CREATED,
    responses={
        **problems(403, 404),
        409: {"description": "the code is registered already; `existing_employer_id` names it"},
    },
)
async def register_employer(body: EmployerIn, deps: DepsDep, caller: CallerDep) -> EmployerOut:
    """Register an employer; the code's check character is verified (GB 32100-2015)."""
    cmd = employers.RegisterEmployer(form=body.form(), credit_code=body.credit_code)
    return EmployerOut.model_validate(await employers.register_employer(deps, caller, cmd))


@router.put("/employers/{employer_id}", responses=problems(403, 404))
async def update_employer(
    employer_id: uuid.UUID, body: EmployerChangeIn, deps: DepsDep, caller: CallerDep
) -> EmployerOut:
    """Change an employer (the code stays); an unchanged body changes nothing, version included."""
    return EmployerOut.model_validate(await employers.update_employer(deps, caller, employer_id, body.form()))


@router.get("/employers", responses=problems(403, 404))
async def list_employers(
    deps: DepsDep,
    caller: CallerDep,
    union_id: Annotated[
        uuid.UUID | None, Query(description="whose subtree; default: the cadre's own union")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=50, description="words of the name, or the code's start")
    ] = None,
    covered: Annotated[
        bool | None, Query(description="covered by a base union (true) or not (false)")
    ] = None,
    after: Annotated[uuid.UUID | None, Query(description="`next` of the previous page")] = None,
    limit: Limit = 50,
) -> EmployersOut:
    """Employers organised by the union or a union below it, by name."""
    words = q.strip() if q else None
    rows = await employers.list_employers(deps, caller, union_id, words or None, covered, after, limit)
    items = [EmployerOut.model_validate(r) for r in rows]
    return EmployersOut(items=items, next=rows[-1].employer_id if len(rows) == limit else None)
