import uuid
from datetime import date

import pytest

from services.enrollment.domain.applications import (
    ApplicationForm,
    ApplicationStatus,
    SubmissionOutcome,
    classify_submission,
    may_see_submission,
    own_person_of,
    require_base_union,
    require_own_person,
    require_pending,
    require_reason,
    validate_form,
)
from services.enrollment.domain.national_id import check_char
from services.enrollment.domain.unions import check_child_kind, union_name, union_region
from shared.auth import Role
from shared.contracts.enrollment import EmploymentType, MembershipStatus, UnionKind
from shared.errors import Conflict, Forbidden, InvalidInput

TODAY = date(2026, 11, 23)
UNION = uuid.uuid4()
VALID_ID = "44030419900307123" + check_char("44030419900307123")


def form(**changes: object) -> ApplicationForm:
    values: dict[str, object] = {
        "name": " 张三 ", "national_id": VALID_ID.lower(), "phone": "+86 138 0013 8000",
        "employer": "深圳某物流公司", "employment_type": EmploymentType.EMPLOYEE, "base_union_id": UNION,
    }  # fmt: skip
    values.update(changes)
    return ApplicationForm(**values)  # type: ignore[arg-type]


def test_a_valid_form_is_normalised() -> None:
    clean = validate_form(form(), TODAY)
    assert clean.name == "张三"
    assert clean.phone == "13800138000"
    assert clean.national_id == VALID_ID


def test_flexible_workers_may_apply_without_an_employer() -> None:
    assert validate_form(form(employer="", employment_type=EmploymentType.FLEXIBLE), TODAY).employer == ""
    with pytest.raises(InvalidInput, match="employer is required"):
        validate_form(form(employer=""), TODAY)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"name": ""}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "12800138000"}, "phone"),
        ({"national_id": "123"}, "18 characters"),
    ],
)
def test_bad_fields_are_refused_with_a_reason(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        validate_form(form(**changes), TODAY)


def test_applicants_under_sixteen_are_refused() -> None:
    young = "44030420120101123"
    with pytest.raises(InvalidInput, match="at least 16"):
        validate_form(form(national_id=young + check_char(young)), TODAY)


def test_an_active_member_applying_again_gets_the_existing_membership() -> None:
    assert classify_submission(MembershipStatus.ACTIVE, None, UNION) is SubmissionOutcome.EXISTING_MEMBER


def test_a_retry_of_the_pending_application_is_answered_with_it() -> None:
    assert classify_submission(None, UNION, UNION) is SubmissionOutcome.SAME_PENDING


def test_a_second_pending_application_elsewhere_is_told_apart() -> None:
    assert classify_submission(None, uuid.uuid4(), UNION) is SubmissionOutcome.PENDING_ELSEWHERE


@pytest.mark.parametrize(
    "outcome",
    [SubmissionOutcome.EXISTING_MEMBER, SubmissionOutcome.SAME_PENDING, SubmissionOutcome.PENDING_ELSEWHERE],
)
def test_a_known_person_is_shown_only_to_a_caller_covering_their_union(outcome: SubmissionOutcome) -> None:
    assert may_see_submission(outcome, covers_found_union=True, covers_every_union=False)
    assert may_see_submission(outcome, covers_found_union=True, covers_every_union=True)
    assert not may_see_submission(outcome, covers_found_union=False, covers_every_union=False)


def test_a_new_application_is_shown_only_to_who_could_read_any_union() -> None:
    # A cadre told "new" would learn, from the neutral answer to others, who is known elsewhere.
    assert may_see_submission(SubmissionOutcome.NEW, covers_found_union=True, covers_every_union=True)
    assert not may_see_submission(SubmissionOutcome.NEW, covers_found_union=True, covers_every_union=False)
    assert not may_see_submission(SubmissionOutcome.NEW, covers_found_union=False, covers_every_union=False)


@pytest.mark.parametrize("outcome", list(SubmissionOutcome))
def test_a_member_filing_for_themself_is_told_everything(outcome: SubmissionOutcome) -> None:
    assert may_see_submission(outcome, covers_found_union=False, covers_every_union=False, own=True)


def test_a_member_files_only_once_verified_and_only_for_their_own_person() -> None:
    me = uuid.uuid4()
    with pytest.raises(Forbidden, match="请先完成实名认证"):
        own_person_of(Role.MEMBER, None)
    assert own_person_of(Role.MEMBER, me) == me
    assert own_person_of(Role.CADRE, None) is None and own_person_of(Role.ADMIN, me) is None
    with pytest.raises(Forbidden, match="只能为本人申请入会"):
        require_own_person(None)
    assert require_own_person(me) == me


def test_a_former_member_may_apply_again() -> None:
    assert classify_submission(MembershipStatus.LEFT, None, UNION) is SubmissionOutcome.NEW


def test_only_pending_applications_can_be_decided() -> None:
    require_pending(ApplicationStatus.PENDING)
    for decided in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
        with pytest.raises(Conflict):
            require_pending(decided)


def test_rejection_needs_a_reason() -> None:
    with pytest.raises(InvalidInput):
        require_reason("  ")
    assert require_reason(" 材料不全 ") == "材料不全"


def test_members_join_base_unions_only() -> None:
    require_base_union(UnionKind.BASE)
    with pytest.raises(InvalidInput, match="base union"):
        require_base_union(UnionKind.CITY)


@pytest.mark.parametrize(
    ("parent", "child", "ok"),
    [
        (None, UnionKind.NATIONAL, True),
        (UnionKind.CITY, UnionKind.COUNTY, True),
        (UnionKind.CITY, UnionKind.BASE, True),  # levels may be skipped
        (UnionKind.BASE, UnionKind.BRANCH, True),
        (UnionKind.COUNTY, UnionKind.CITY, False),
        (UnionKind.CITY, UnionKind.CITY, False),
        (UnionKind.TOWNSHIP, UnionKind.GROUP, False),  # groups sit under a base union
    ],
)
def test_union_hierarchy(parent: UnionKind | None, child: UnionKind, ok: bool) -> None:
    if ok:
        check_child_kind(parent, child)
    else:
        with pytest.raises(InvalidInput):
            check_child_kind(parent, child)


def test_a_union_name_is_trimmed_and_1_to_200_characters() -> None:
    assert union_name("  某物流公司工会 ") == "某物流公司工会"
    assert union_name("工" * 200) == "工" * 200
    for bad in ("", "   ", "工" * 201):
        with pytest.raises(InvalidInput, match="1 to 200"):
            union_name(bad)


def test_a_child_union_inherits_its_parents_region_unless_it_states_one() -> None:
    assert union_region(None, "330100") == "330100"
    assert union_region("  ", "330100") == "330100"
    assert union_region("330106", "330100") == "330106"
    assert union_region("110000", None) == "110000"
    with pytest.raises(InvalidInput, match="needs a region"):
        union_region(None, None)
