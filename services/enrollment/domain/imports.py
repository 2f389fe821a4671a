"""Roster import (批量导入): from a table a cadre uploads to the lines that may become members.

Pure rules, in two steps the handler runs around its reads: `check_lines` reads each row on its
own (columns, ID checksum, phone, employment type, base union in scope, duplicates in the file);
`judge_known` then refuses the persons the registry already knows. What a refusal says never
sets apart a person known outside the caller's scope: they get NEUTRAL, the same words as any
refusal that would otherwise reveal something.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from services.enrollment.domain.applications import MINIMUM_AGE, ApplicationForm, validate_form
from services.enrollment.domain.national_id import InvalidNationalId, age_on, normalize_national_id
from shared.contracts.enrollment import EmploymentType, UnionKind
from shared.errors import InvalidInput
from shared.tabular import Table

NEUTRAL = "此行无法导入,请核对后单独办理"
ALREADY_MEMBER = "已是本会会员"
PENDING_HERE = "已有待审核的入会申请,请在审核列表中办理"
OUTSIDE_SCOPE = "基层工会不在您的管辖范围内"
OK = "可导入"
IMPORTED = "已导入"


class Field(StrEnum):
    NAME = "name"
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    EMPLOYER = "employer"
    EMPLOYMENT_TYPE = "employment_type"
    BASE_UNION = "base_union"


# The Chinese header a template carries first; the other names are accepted too.
HEADERS: dict[Field, tuple[str, ...]] = {
    Field.NAME: ("姓名", "name"),
    Field.NATIONAL_ID: ("身份证号", "身份证号码", "national_id"),
    Field.PHONE: ("手机号", "手机号码", "phone"),
    Field.EMPLOYER: ("工作单位", "employer"),
    Field.EMPLOYMENT_TYPE: ("用工形式", "employment_type"),
    Field.BASE_UNION: ("基层工会", "base_union", "base_union_id"),
}

# The template's header (each column's first name) and its example line: a made-up person
# (the ID is the standard's own example, GB 11643), to be overwritten.
TEMPLATE_HEADER = tuple(names[0] for names in HEADERS.values())
TEMPLATE_EXAMPLE = (
    "张三(示例,请删除)",
    "11010519491231002X",
    "13800138000",
    "某物流有限公司",
    "职工",
    "某物流有限公司工会",
)

EMPLOYMENT_TYPES: dict[str, EmploymentType] = {
    "职工": EmploymentType.EMPLOYEE,
    "临时工": EmploymentType.TEMPORARY,
    "外来务工": EmploymentType.MIGRANT,
    "外来务工人员": EmploymentType.MIGRANT,
    "灵活就业": EmploymentType.FLEXIBLE,
    "灵活就业人员": EmploymentType.FLEXIBLE,
    **{t.value: t for t in EmploymentType},
}


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"


@dataclass(frozen=True)
class UnionEntry:
    """A union a row may name: public directory facts, and whether the caller's scope covers it."""

    union_id: uuid.UUID
    name: str
    kind: UnionKind
    in_scope: bool


@dataclass(frozen=True)
class Unions:
    """The unions the file's cells can name: by id (any union), and by exact name (in scope only)."""

    by_id: Mapping[uuid.UUID, UnionEntry]
    by_name: Mapping[str, Sequence[UnionEntry]]

    @classmethod
    def of(cls, entries: Sequence[UnionEntry]) -> "Unions":
        by_name: dict[str, list[UnionEntry]] = {}
        for e in entries:
            if e.in_scope:
                by_name.setdefault(e.name, []).append(e)
        return cls({e.union_id: e for e in entries}, by_name)


@dataclass(frozen=True)
class Row:
    """A checked row, canonical: what the commit files as an application."""

    name: str
    national_id: str
    phone: str
    employer: str
    employment_type: EmploymentType
    base_union_id: uuid.UUID


@dataclass(frozen=True)
class Line:
    line: int
    outcome: Outcome
    reason: str
    row: Row | None = None  # set when the line may be imported


@dataclass(frozen=True)
class Known:
    """What the registry holds on a row's person: an active membership or a pending
    application, and whether its union is in the caller's scope."""

    active_member: bool
    pending: bool
    in_scope: bool


def columns_of(header: Sequence[str]) -> dict[Field, int]:
    """Each field's column; a missing one refuses the whole file (InvalidInput, in Chinese)."""
    names = [h.strip().lower() for h in header]
    found: dict[Field, int] = {}
    missing: list[str] = []
    for field, accepted in HEADERS.items():
        index = next((names.index(a.lower()) for a in accepted if a.lower() in names), None)
        if index is None:
            missing.append(accepted[0])
        else:
            found[field] = index
    if missing:
        raise InvalidInput(f"文件缺少列:{'、'.join(missing)}(第一行应为表头)")
    return found


def _id_reason(exc: InvalidNationalId) -> str:
    text = str(exc)
    if "checksum" in text:
        return "身份证号校验位不符"
    if "birth date" in text:
        return "身份证号中的出生日期无效"
    if "region" in text:
        return "身份证号的地区码无效"
    if "18 characters" in text:
        return "身份证号应为18位"
    return "身份证号格式有误"


def _form_reason(exc: InvalidInput) -> str:
    text = str(exc)
    if "phone" in text:
        return "手机号应为11位大陆手机号码"
    if "employer" in text and "required" in text:
        return "工作单位必填(灵活就业人员除外)"
    if "employer" in text:
        return "工作单位最多200个字"
    return "此行信息有误,请核对"


def _union(cell: str, unions: Unions) -> UnionEntry | str:
    """The union the cell names, or why it names none."""
    try:
        entry = unions.by_id.get(uuid.UUID(cell))
    except ValueError:
        named = unions.by_name.get(cell, ())
        if len(named) > 1:
            return "基层工会名称不唯一,请填写工会编号"
        entry = named[0] if named else None
    if entry is None:
        return "找不到该基层工会"
    if not entry.in_scope:
        return OUTSIDE_SCOPE
    if entry.kind is not UnionKind.BASE:
        return "该工会不是基层工会,会员只能加入基层工会"
    return entry


def check_row(cells: Sequence[str], columns: Mapping[Field, int], unions: Unions, today: date) -> Row | str:
    """The row in canonical form, or the first reason it cannot be imported (in Chinese)."""

    def cell(field: Field) -> str:
        index = columns[field]
        return cells[index].strip() if index < len(cells) else ""

    name = cell(Field.NAME)
    if not 1 <= len(name) <= 50:
        return "姓名应为1至50个字"
    if cell(Field.NATIONAL_ID).upper() == TEMPLATE_EXAMPLE[1]:
        return "这是模板的示例行,请删除后再导入"
    try:
        national_id = normalize_national_id(cell(Field.NATIONAL_ID), today)
    except InvalidNationalId as exc:
        return _id_reason(exc)
    if age_on(national_id, today) < MINIMUM_AGE:
        return f"未满{MINIMUM_AGE}周岁,不能入会"
    kind = EMPLOYMENT_TYPES.get(cell(Field.EMPLOYMENT_TYPE))
    if kind is None:
        return "用工形式应为职工、临时工、外来务工或灵活就业"
    union = _union(cell(Field.BASE_UNION), unions)
    if isinstance(union, str):
        return union
    # The online form's own rules (phone, employer): one definition for both ways in.
    form = ApplicationForm(name, national_id, cell(Field.PHONE), cell(Field.EMPLOYER), kind, union.union_id)
    try:
        valid = validate_form(form, today)
    except InvalidInput as exc:
        return _form_reason(exc)
    return Row(valid.name, valid.national_id, valid.phone, valid.employer, kind, union.union_id)


def check_lines(table: Table, unions: Unions, today: date) -> list[Line]:
    """Every row's line; a second row of the same ID is refused, naming the first."""
    columns = columns_of(table.header)
    first_line: dict[str, int] = {}
    lines: list[Line] = []
    for number, cells in table.rows:
        checked = check_row(cells, columns, unions, today)
        if isinstance(checked, str):
            lines.append(Line(number, Outcome.REFUSED, checked))
        elif (first := first_line.get(checked.national_id)) is not None:
            lines.append(Line(number, Outcome.REFUSED, f"与第{first}行重复"))
        else:
            first_line[checked.national_id] = number
            lines.append(Line(number, Outcome.OK, OK, checked))
    return lines


def known_refusal(known: Known | None) -> str | None:
    """Why a person the registry knows cannot be imported, or None (unknown, or left: approving
    reinstates them). Outside the scope every answer is NEUTRAL: it reveals nothing."""
    if known is None or not (known.active_member or known.pending):
        return None
    if not known.in_scope:
        return NEUTRAL
    return ALREADY_MEMBER if known.active_member else PENDING_HERE


def judge_known(lines: Sequence[Line], known: Mapping[str, Known]) -> list[Line]:
    """The lines with the known persons refused (`known` by national ID)."""
    judged: list[Line] = []
    for line in lines:
        reason = known_refusal(known.get(line.row.national_id)) if line.row else None
        judged.append(replace(line, outcome=Outcome.REFUSED, reason=reason, row=None) if reason else line)
    return judged


@dataclass(frozen=True)
class Counts:
    total: int
    ok: int
    refused: int


def counts(lines: Sequence[Line]) -> Counts:
    ok = sum(1 for line in lines if line.outcome is Outcome.OK)
    return Counts(total=len(lines), ok=ok, refused=len(lines) - ok)
