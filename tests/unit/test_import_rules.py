"""The roster import's line rules (services/enrollment/domain/imports.py): each outcome a line
can have, and that a person known outside the scope gets the same words as any such refusal."""

import uuid
from datetime import date

import pytest

from scripts.fake_people import with_bad_checksum
from scripts.rosters import HEADER, make_roster, roster_rows
from services.enrollment.domain import imports as rules
from services.enrollment.domain.national_id import check_char
from shared.contracts.enrollment import EmploymentType, UnionKind
from shared.errors import InvalidInput
from shared.tabular import Table, TableFormat, read_table, write_table

TODAY = date(2026, 12, 3)
BASE = rules.UnionEntry(uuid.uuid4(), "某物流公司工会", UnionKind.BASE, in_scope=True)
COUNTY = rules.UnionEntry(uuid.uuid4(), "西湖区总工会", UnionKind.COUNTY, in_scope=True)
FAR = rules.UnionEntry(uuid.uuid4(), "宁波某制造厂工会", UnionKind.BASE, in_scope=False)
TWIN_A = rules.UnionEntry(uuid.uuid4(), "同名工会", UnionKind.BASE, in_scope=True)
TWIN_B = rules.UnionEntry(uuid.uuid4(), "同名工会", UnionKind.BASE, in_scope=True)
UNIONS = rules.Unions.of([BASE, COUNTY, FAR, TWIN_A, TWIN_B])
ID = "33010619900307123" + check_char("33010619900307123")
OTHER_ID = "33010619851111456" + check_char("33010619851111456")


def row(**changes: str) -> tuple[str, ...]:
    cells = {"姓名": "张三", "身份证号": ID, "手机号": "13800138000", "工作单位": "某物流公司",
             "用工形式": "职工", "基层工会": str(BASE.union_id), **changes}  # fmt: skip
    return tuple(cells[h] for h in HEADER)


def lines(*rows: tuple[str, ...], header: tuple[str, ...] = HEADER) -> list[rules.Line]:
    table = Table(header=header, rows=tuple((n, r) for n, r in enumerate(rows, start=2)))
    return rules.check_lines(table, UNIONS, TODAY)


def test_a_valid_line_is_ok_in_canonical_form() -> None:
    [line] = lines(row(身份证号=" " + ID[:-1] + ID[-1].lower() + " ", 手机号="+86 138 0013 8000"))
    assert (line.line, line.outcome, line.reason) == (2, rules.Outcome.OK, rules.OK)
    assert line.row == rules.Row(
        "张三", ID, "13800138000", "某物流公司", EmploymentType.EMPLOYEE, BASE.union_id
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"姓名": ""}, "姓名应为1至50个字"),
        ({"身份证号": with_bad_checksum(ID)}, "身份证号校验位不符"),
        ({"身份证号": ID[:17]}, "身份证号应为18位"),
        ({"身份证号": "3301061990130712" + "3X"}, "身份证号中的出生日期无效"),
        ({"身份证号": "33010620150101123" + check_char("33010620150101123")}, "未满16周岁,不能入会"),
        ({"手机号": "1234"}, "手机号应为11位大陆手机号码"),
        ({"用工形式": "合同工"}, "用工形式应为职工、临时工、外来务工或灵活就业"),
        ({"工作单位": ""}, "工作单位必填(灵活就业人员除外)"),
        ({"基层工会": str(uuid.uuid4())}, "找不到该基层工会"),
        ({"基层工会": "没有这个工会"}, "找不到该基层工会"),
        ({"基层工会": str(FAR.union_id)}, rules.OUTSIDE_SCOPE),
        ({"基层工会": FAR.name}, "找不到该基层工会"),  # names resolve within the scope only
        ({"基层工会": str(COUNTY.union_id)}, "该工会不是基层工会,会员只能加入基层工会"),
        ({"基层工会": "同名工会"}, "基层工会名称不唯一,请填写工会编号"),
    ],
)
def test_each_refusal_names_its_reason(changes: dict[str, str], reason: str) -> None:
    [line] = lines(row(**changes))
    assert (line.outcome, line.reason, line.row) == (rules.Outcome.REFUSED, reason, None)


def test_english_values_and_headers_and_union_names_are_accepted() -> None:
    english = ("name", "national_id", "phone", "employer", "employment_type", "base_union")
    [line] = lines(row(用工形式="flexible", 工作单位="", 基层工会=BASE.name), header=english)
    assert line.row is not None
    assert (line.row.employment_type, line.row.employer, line.row.base_union_id) == (
        EmploymentType.FLEXIBLE, "", BASE.union_id,
    )  # fmt: skip


def test_a_missing_column_refuses_the_whole_file() -> None:
    with pytest.raises(InvalidInput, match="文件缺少列:手机号、基层工会"):
        rules.columns_of(("姓名", "身份证号", "工作单位", "用工形式"))


def test_the_second_line_of_an_id_is_a_duplicate_of_the_first() -> None:
    found = lines(row(), row(身份证号=OTHER_ID), row(姓名="张三丰"))
    assert [(f.outcome, f.reason) for f in found] == [
        (rules.Outcome.OK, rules.OK), (rules.Outcome.OK, rules.OK), (rules.Outcome.REFUSED, "与第2行重复"),
    ]  # fmt: skip


def test_known_persons_in_scope_are_named_and_outside_it_get_the_neutral_line() -> None:
    checked = lines(row(), row(身份证号=OTHER_ID))
    member_here = rules.Known(active_member=True, pending=False, in_scope=True)
    assert rules.known_refusal(member_here) == rules.ALREADY_MEMBER
    assert rules.known_refusal(rules.Known(False, True, True)) == rules.PENDING_HERE
    assert rules.known_refusal(rules.Known(True, False, False)) == rules.NEUTRAL
    assert rules.known_refusal(rules.Known(False, True, False)) == rules.NEUTRAL
    assert rules.known_refusal(rules.Known(False, False, False)) is None  # left: approving reinstates
    judged = rules.judge_known(checked, {OTHER_ID: rules.Known(True, False, False)})
    assert [(j.outcome, j.reason) for j in judged] == [
        (rules.Outcome.OK, rules.OK), (rules.Outcome.REFUSED, rules.NEUTRAL),
    ]  # fmt: skip
    assert judged[1].row is None
    assert rules.counts(judged) == rules.Counts(total=2, ok=1, refused=1)


def test_the_neutral_line_is_the_same_for_a_member_and_a_pending_application_elsewhere() -> None:
    elsewhere = {rules.known_refusal(rules.Known(a, p, False)) for a, p in [(True, False), (False, True)]}
    assert elsewhere == {rules.NEUTRAL}


@pytest.mark.parametrize("fmt", list(TableFormat))
def test_a_generated_roster_reads_back_with_the_errors_chosen(fmt: TableFormat) -> None:
    errors = {"checksum": 1, "phone": 1, "employment_type": 1, "union": 1, "young": 1, "duplicate": 1}
    table = read_table(fmt, make_roster(12, BASE.union_id, errors, fmt=fmt))
    found = rules.check_lines(table, UNIONS, date.today())
    assert rules.counts(found) == rules.Counts(total=12, ok=6, refused=6)
    assert [f.reason for f in found[6:]] == [
        "与第2行重复", f"未满{16}周岁,不能入会", "找不到该基层工会",
        "用工形式应为职工、临时工、外来务工或灵活就业", "手机号应为11位大陆手机号码", "身份证号校验位不符",
    ]  # fmt: skip


def test_a_roster_has_distinct_valid_ids() -> None:
    ids = [r[1] for r in roster_rows(2000, BASE.union_id)]
    assert len(set(ids)) == 2000


def test_the_template_reads_back_as_a_roster_whose_example_line_is_refused() -> None:
    """The template (GET /imports/template) is what the import reads: every column found, and
    its made-up example person never imported by a cadre who forgot to delete it."""
    for fmt in TableFormat:
        table = read_table(fmt, write_table(fmt, rules.TEMPLATE_HEADER, [rules.TEMPLATE_EXAMPLE]))
        assert set(rules.columns_of(table.header)) == set(rules.Field)
        [line] = rules.check_lines(table, UNIONS, TODAY)
        assert (line.outcome, line.reason) == (rules.Outcome.REFUSED, "这是模板的示例行,请删除后再导入")
