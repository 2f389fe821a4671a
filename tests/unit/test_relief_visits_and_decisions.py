"""The rules that used to sit inside relief's handlers: visit and contact dates, aid lists, the
budget a payment may come from, deciding the waiting step, the eligibility a verification
needs, answering an objection once, active membership, resuming and transfers."""

import uuid
from datetime import UTC, date, datetime

import pytest

from services.relief.domain.aid import aid_list, require_budget_in_path
from services.relief.domain.approvals import require_pending
from services.relief.domain.disclosure import require_unanswered
from services.relief.domain.eligibility import Check, Eligibility, require_eligible
from services.relief.domain.exit import ExitReview, Guarantee, validate_exit_review
from services.relief.domain.intake import Cause, Household, require_active_member
from services.relief.domain.lifecycle import require_member_back, transfer_target
from services.relief.domain.tiers import ReliefPolicy
from services.relief.domain.visits import VisitForm, check_contact_date, check_visit_date, validate_visit
from shared.contracts.enrollment import MembershipStatus
from shared.contracts.relief import AidType, ApprovalStep, Tier
from shared.errors import Conflict, InvalidInput
from shared.events import china_date

TODAY = date(2025, 6, 15)


def test_a_visit_is_dated_today_or_within_the_last_year_never_in_the_future() -> None:
    assert check_visit_date(TODAY, TODAY) == TODAY
    assert check_visit_date(date(2024, 6, 14), TODAY) == date(2024, 6, 14)  # 366 days back
    with pytest.raises(InvalidInput, match="future"):
        check_visit_date(date(2025, 6, 16), TODAY)
    with pytest.raises(InvalidInput, match="more than a year old"):
        check_visit_date(date(2024, 6, 13), TODAY)


def test_a_follow_up_contact_cannot_be_dated_in_the_future_but_may_be_old() -> None:
    assert check_contact_date(date(2020, 1, 1), TODAY) == date(2020, 1, 1)
    with pytest.raises(InvalidInput, match="future"):
        check_contact_date(date(2025, 6, 16), TODAY)


def test_a_visit_is_validated_whole_causes_deduplicated_and_findings_required() -> None:
    form = VisitForm(TODAY, 3, 180_000, (Cause.ILLNESS, Cause.DISABILITY, Cause.ILLNESS), "  透析, 每周三次 ")
    visit = validate_visit(form, TODAY)
    assert visit.household == Household(3, 180_000)
    assert visit.causes == (Cause.ILLNESS, Cause.DISABILITY) and visit.findings == "透析, 每周三次"
    with pytest.raises(InvalidInput, match="findings is required"):
        validate_visit(VisitForm(TODAY, 3, 180_000, (), "   "), TODAY)
    with pytest.raises(InvalidInput, match="household size"):
        validate_visit(VisitForm(TODAY, 0, 180_000, (), "x"), TODAY)


def test_an_exit_review_is_dated_like_a_visit_and_needs_findings() -> None:
    guarantees = dict.fromkeys(Guarantee, True)
    visit = validate_exit_review(ExitReview(TODAY, 2, 400_000, guarantees, " 已就业 "), TODAY)
    assert (visit.household, visit.findings) == (Household(2, 400_000), "已就业")
    with pytest.raises(InvalidInput, match="future"):
        validate_exit_review(ExitReview(date(2025, 7, 1), 2, 400_000, guarantees, "x"), TODAY)
    with pytest.raises(InvalidInput, match="findings is required"):
        validate_exit_review(ExitReview(TODAY, 2, 400_000, guarantees, ""), TODAY)


def test_an_aid_list_names_each_type_once_in_a_stable_order_and_is_never_empty() -> None:
    named = aid_list([AidType.TUITION, AidType.MEDICAL, AidType.TUITION], "a plan")
    assert len(named) == 2 and named == tuple(a for a in AidType if a in named)
    with pytest.raises(InvalidInput, match="a disclosure names at least one aid type"):
        aid_list([], "a disclosure")


def test_aid_is_paid_from_the_budget_of_the_cases_union_or_one_above_it() -> None:
    city, district, company = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    require_budget_in_path(city, [city, district, company])
    require_budget_in_path(company, [city, district, company])
    with pytest.raises(InvalidInput, match="union above it"):
        require_budget_in_path(uuid.uuid4(), [city, district, company])


def test_only_the_step_that_waits_can_be_decided() -> None:
    require_pending(ApprovalStep.PLAN, ApprovalStep.PLAN)
    with pytest.raises(Conflict, match="no exit step"):
        require_pending(ApprovalStep.PLAN, ApprovalStep.EXIT)
    with pytest.raises(Conflict, match="no verification step"):
        require_pending(None, ApprovalStep.VERIFICATION)


def test_verification_is_approved_only_for_an_eligible_case_and_gives_its_tier() -> None:
    passing = Check("income_band", True, "below the line")
    assert require_eligible(Eligibility(checks=(passing,), tier=Tier.DEEP)) is Tier.DEEP
    failing = Check("cause_present", False, "no cause of hardship recorded")
    with pytest.raises(Conflict, match="cause_present failing") as refused:
        require_eligible(Eligibility(checks=(passing, failing), tier=Tier.DEEP))
    assert refused.value.context == {"failing": ["cause_present"]}
    with pytest.raises(Conflict, match="no tier failing"):
        require_eligible(Eligibility(checks=(passing,), tier=None))


def test_an_objection_is_answered_once() -> None:
    require_unanswered(None)
    with pytest.raises(Conflict, match="already answered by cadre:grid-li"):
        require_unanswered("cadre:grid-li")


def test_only_active_members_may_have_a_case_and_a_suspended_one_resumes_when_they_return() -> None:
    require_active_member(MembershipStatus.ACTIVE)
    with pytest.raises(Conflict, match="this member has left"):
        require_active_member(MembershipStatus.LEFT)
    require_member_back(True)
    with pytest.raises(Conflict, match="has not returned"):
        require_member_back(False)


def test_a_case_waits_for_the_union_its_member_moved_to_and_stops_waiting_when_they_move_back() -> None:
    old, new = uuid.uuid4(), uuid.uuid4()
    assert transfer_target(old, new) == new
    assert transfer_target(old, old) is None


def test_the_next_review_is_due_one_interval_after_the_day_in_china() -> None:
    policy = ReliefPolicy(review_interval_days=365)
    assert policy.review_due(TODAY) == date(2026, 6, 15)
    # Handlers pass China's day: 17:00 UTC on 31 December is already 1 January in Beijing.
    new_year = china_date(datetime(2024, 12, 31, 17, 0, tzinfo=UTC))
    assert ReliefPolicy(review_interval_days=30).review_due(new_year) == date(2025, 1, 31)
