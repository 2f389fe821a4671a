"""金秋助学's pure rules: eligibility (register, or the relief rules), amounts by school type,
once per student per year, windows by time, the student's ID check digit, evidence sniffing."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.relief.domain import student_aid as rules
from services.relief.domain.aid import check_idempotency_key
from services.relief.domain.intake import Household
from services.relief.domain.student_aid import (
    AfterDisclosure,
    ApplicationStatus,
    EligibleBy,
    Step,
    WindowStatus,
)
from services.relief.domain.tiers import ReliefPolicy
from shared.contracts.relief_programmes import SchoolType
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.national_id import check_char
from shared.pii import PiiProtector

POLICY = ReliefPolicy()
LINE = 100_000  # 1,000 yuan per head and month
T0 = datetime(2027, 7, 1, tzinfo=UTC)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def student_number(first17: str = "11010520090101123") -> str:
    return first17 + check_char(first17)


# Eligibility ----------------------------------------------------------------------------------


def eligible(in_register: bool, household: Household | None, active: bool = True) -> EligibleBy:
    return rules.eligible_by(
        member_active=active, in_register=in_register, household=household, line_fen=LINE, policy=POLICY
    )


def test_a_household_in_the_register_is_eligible_without_figures() -> None:
    assert eligible(True, None) is EligibleBy.REGISTER


def test_outside_the_register_the_relief_rules_decide_with_schooling_as_the_cause() -> None:
    # 3 people, 3,600 yuan: 1,200 a head, within 1.5x the line with schooling (a relative band cause).
    assert eligible(False, Household(3, 360_000)) is EligibleBy.ASSESSMENT
    # Below the line: deep hardship, whatever the cause.
    assert eligible(False, Household(4, 300_000)) is EligibleBy.ASSESSMENT


def test_outside_the_register_a_household_above_the_bands_is_refused_with_the_failing_rule() -> None:
    with pytest.raises(Conflict) as refused:
        eligible(False, Household(3, 600_000))  # 2,000 a head: above 1.5x
    assert "不符合金秋助学条件" in refused.value.reason
    assert refused.value.context["failing"] == ["income_band"]


def test_outside_the_register_without_figures_the_applicant_is_asked_for_them() -> None:
    with pytest.raises(Conflict, match="家庭月收入"):
        eligible(False, None)


def test_a_member_who_is_not_active_is_refused_even_in_the_register() -> None:
    with pytest.raises(Conflict, match="在册会员"):
        eligible(True, None, active=False)


def test_an_implausible_household_is_refused_as_input() -> None:
    with pytest.raises(InvalidInput):
        eligible(False, Household(0, 100))


# Amounts, once per student --------------------------------------------------------------------


def test_amounts_by_school_type_in_a_stable_order_and_unfunded_types_refused() -> None:
    amounts = rules.check_amounts(
        {SchoolType.SECONDARY_VOCATIONAL: 100_000, SchoolType.UNDERGRADUATE: 300_000}
    )
    assert list(amounts) == [SchoolType.UNDERGRADUATE, SchoolType.SECONDARY_VOCATIONAL]
    assert rules.amount_for(amounts, SchoolType.UNDERGRADUATE) == 300_000
    assert rules.amount_for(amounts, SchoolType.SECONDARY_VOCATIONAL) == 100_000
    with pytest.raises(Conflict, match="不资助研究生"):
        rules.amount_for(amounts, SchoolType.POSTGRADUATE)


@pytest.mark.parametrize("amounts", [{}, {SchoolType.UNDERGRADUATE: 0}, {SchoolType.UNDERGRADUATE: 10**9}])
def test_amounts_are_positive_and_bounded(amounts: dict[SchoolType, int]) -> None:
    with pytest.raises(InvalidInput):
        rules.check_amounts(amounts)


def test_once_per_student_per_academic_year() -> None:
    rules.require_not_aided(False, 2027)
    with pytest.raises(Conflict, match="2027 学年已申请或已获"):
        rules.require_not_aided(True, 2027)
    assert ApplicationStatus.DECLINED not in rules.LIVE  # a declined application does not count
    assert ApplicationStatus.PAID in rules.LIVE


def test_the_student_key_is_the_same_for_both_spellings_of_x_and_apart_from_other_values() -> None:
    pii = PiiProtector("k" * 40)
    number = student_number("11010519491231002")  # ends in X
    assert number.endswith("X")
    today = date(2027, 7, 1)
    lower = rules.student_id(number[:-1] + "x", today)
    assert pii.lookup_hash(rules.student_key(lower)) == pii.lookup_hash(rules.student_key(number))
    assert rules.student_key(number) != number


# The student's ID number ----------------------------------------------------------------------


def test_the_student_id_number_needs_18_characters_and_its_check_digit() -> None:
    today = date(2027, 7, 1)
    good = student_number()
    assert rules.student_id(f" {good} ", today) == good
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidInput, match="学生身份证号无效") as refused:
        rules.student_id(wrong, today)
    assert good not in refused.value.reason and wrong not in refused.value.reason
    with pytest.raises(InvalidInput, match="学生身份证号无效"):
        rules.student_id(good[:17], today)


# Windows --------------------------------------------------------------------------------------


def test_a_window_is_scheduled_then_open_then_closed_by_time_or_by_the_timer() -> None:
    opens, closes = T0, T0 + timedelta(days=60)
    assert rules.window_status(T0 - timedelta(seconds=1), opens, closes, None) is WindowStatus.SCHEDULED
    assert rules.window_status(T0, opens, closes, None) is WindowStatus.OPEN
    assert rules.window_status(closes - timedelta(seconds=1), opens, closes, None) is WindowStatus.OPEN
    assert rules.window_status(closes, opens, closes, None) is WindowStatus.CLOSED
    assert rules.window_status(T0 + timedelta(days=1), opens, closes, T0) is WindowStatus.CLOSED


def test_applications_are_taken_only_while_open() -> None:
    opens, closes = T0, T0 + timedelta(days=1)
    rules.require_window_open(WindowStatus.OPEN, opens, closes)
    with pytest.raises(Conflict, match="尚未开始"):
        rules.require_window_open(WindowStatus.SCHEDULED, opens, closes)
    with pytest.raises(Conflict, match="已截止"):
        rules.require_window_open(WindowStatus.CLOSED, opens, closes)


@pytest.mark.parametrize(
    ("opens", "closes"),
    [
        (T0, T0),
        (T0, T0 - timedelta(days=1)),
        (T0, T0 + timedelta(days=400)),
        (T0.replace(tzinfo=None), T0.replace(tzinfo=None) + timedelta(days=1)),
    ],
)
def test_window_times_are_refused_when_backwards_too_long_or_without_a_zone(
    opens: datetime, closes: datetime
) -> None:
    with pytest.raises(InvalidInput):
        rules.check_window_times(opens, closes)


def test_the_title_and_the_admission_year() -> None:
    assert rules.window_title(2027) == "2027年金秋助学"
    assert rules.check_admission_year(2027, 2027) == 2027
    with pytest.raises(InvalidInput):
        rules.check_admission_year(2028, 2027)
    with pytest.raises(InvalidInput):
        rules.check_admission_year(2010, 2027)


# Applications: review, disclosure ------------------------------------------------------------


def test_the_application_moves_through_review_disclosure_and_payment() -> None:
    s = rules.next_status(ApplicationStatus.SUBMITTED, Step.APPROVE_REVIEW)
    assert s is ApplicationStatus.IN_DISCLOSURE
    assert rules.next_status(s, Step.END_DISCLOSURE) is ApplicationStatus.APPROVED
    assert rules.next_status(ApplicationStatus.APPROVED, Step.PAY) is ApplicationStatus.PAID
    assert rules.next_status(s, Step.UPHOLD_OBJECTION) is ApplicationStatus.DECLINED
    with pytest.raises(Conflict, match="只有已批准的申请可以发放"):
        rules.next_status(ApplicationStatus.IN_DISCLOSURE, Step.PAY)
    with pytest.raises(Conflict):
        rules.next_status(ApplicationStatus.PAID, Step.PAY)


def test_the_cadre_who_filed_does_not_review_and_a_decline_needs_a_reason() -> None:
    rules.require_other_reviewer("cadre:wang", "cadre:li")
    with pytest.raises(Forbidden, match="四眼原则"):
        rules.require_other_reviewer("cadre:wang", "cadre:wang")
    assert rules.review_reason(True, "") == ""
    with pytest.raises(InvalidInput):
        rules.review_reason(False, "  ")


def test_the_end_of_disclosure_approves_unless_an_objection_waits() -> None:
    ends = T0 + timedelta(days=5)
    during = rules.after_disclosure(ApplicationStatus.IN_DISCLOSURE, ends - timedelta(seconds=1), ends, 0)
    assert during is AfterDisclosure.WAIT
    assert rules.after_disclosure(ApplicationStatus.IN_DISCLOSURE, ends, ends, 0) is AfterDisclosure.APPROVE
    assert rules.after_disclosure(ApplicationStatus.IN_DISCLOSURE, ends, ends, 1) is AfterDisclosure.WAIT
    assert rules.after_disclosure(ApplicationStatus.DECLINED, ends, ends, 0) is AfterDisclosure.NOTHING
    rules.require_disclosure_running(ends - timedelta(seconds=1), ends)
    with pytest.raises(Conflict, match="公示期已结束"):
        rules.require_disclosure_running(ends, ends)


def test_names_are_masked_as_relief_discloses_them() -> None:
    assert rules.masked("张小明") == "张*明"
    assert rules.masked("李四") == "李*"
    assert rules.masked("") == ""


# Evidence -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "data"),
    [("application/pdf", PDF), ("image/png", PNG), ("image/jpeg", JPEG), ("image/jpg", JPEG),
     ("application/pdf; charset=binary", PDF)],
)  # fmt: skip
def test_evidence_of_the_allowed_types_whose_bytes_agree(content_type: str, data: bytes) -> None:
    e = rules.check_evidence("录取通知书", content_type, data)
    assert e.size == len(data) and len(e.sha256) == 32
    assert e.content_type in rules.EVIDENCE_TYPES


@pytest.mark.parametrize(
    ("content_type", "data", "reason"),
    [
        ("image/png", PDF, "内容与类型不符"),
        ("application/pdf", b"<html><script>", "无法识别"),
        ("image/gif", b"GIF89a", "JPEG、PNG"),
        (None, PDF, "JPEG、PNG"),
        ("application/pdf", b"", "空的"),
    ],
)
def test_evidence_refused_by_type_or_by_its_bytes(content_type: str | None, data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        rules.check_evidence("a.pdf", content_type, data)


def test_evidence_at_most_5_mib_and_a_plain_file_name() -> None:
    big = PDF + b"0" * (rules.MAX_EVIDENCE_BYTES - len(PDF))
    assert rules.check_evidence("a.pdf", "application/pdf", big).size == rules.MAX_EVIDENCE_BYTES
    with pytest.raises(InvalidInput, match="5 MiB"):
        rules.check_evidence("a.pdf", "application/pdf", big + b"0")
    with pytest.raises(InvalidInput, match="路径"):
        rules.check_evidence("../a.pdf", "application/pdf", PDF)


# Payment --------------------------------------------------------------------------------------


def test_a_payment_fingerprint_tells_another_request_apart_and_keys_are_checked() -> None:
    a, u = uuid.uuid4(), uuid.uuid4()
    assert rules.payment_fingerprint(a, u) == rules.payment_fingerprint(a, u)
    assert rules.payment_fingerprint(a, u) != rules.payment_fingerprint(a, None)
    rules.same_request(b"x", b"x")
    with pytest.raises(Conflict, match="另一笔发放"):
        rules.same_request(b"x", b"y")
    assert check_idempotency_key("pay-12345678") == "pay-12345678"
    with pytest.raises(InvalidInput, match="Idempotency-Key"):
        check_idempotency_key(None)
    with pytest.raises(InvalidInput, match="上级工会"):
        rules.require_budget_union(u, [uuid.uuid4(), a])
