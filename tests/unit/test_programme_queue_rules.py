"""The programmes' work queue (帮扶项目): what a 送温暖 list, a 金秋助学 application and an
objection to one offer, the four-eyes flag taken from the commands' own rules, masked names, and
the due times that order them."""

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from services.relief.domain import queues as relief
from services.relief.domain.campaigns import closes_at, require_four_eyes
from services.relief.domain.student_aid import require_other_reviewer
from shared.contracts.relief_programmes import SchoolType
from shared.errors import Forbidden
from shared.events import CHINA
from shared.queues import QueueItem, by_urgency

NOW = datetime(2027, 8, 20, 10, 0, tzinfo=CHINA)
UNION = uuid.uuid4()


def list_item(submitted_by: str | None, actor: str, ends_on: date = date(2027, 2, 10)) -> QueueItem:
    return relief.campaign_list_item(
        list_id=uuid.uuid4(), union_id=UNION, union_name="某物流公司工会", campaign_title="2027年春节送温暖",
        campaign_ends_on=ends_on, included_count=4, total_fen=860_000, submitted_by=submitted_by,
        actor=actor,
    )  # fmt: skip


def application_item(filed_by: str, actor: str, filed_at: datetime = NOW) -> QueueItem:
    return relief.student_aid_item(
        application_id=uuid.uuid4(), union_id=UNION, union_name="某物流公司工会", window_title="2027年金秋助学",
        member_name="张建国", student_name="张小明", school_type=SchoolType.UNDERGRADUATE, amount_fen=300_000,
        filed_at=filed_at, filed_by=filed_by, actor=actor,
    )  # fmt: skip


def objection_item(ends_at: datetime | None) -> QueueItem:
    return relief.student_aid_objection_item(
        objection_id=uuid.uuid4(), application_id=uuid.uuid4(), union_id=UNION, window_title="2027年金秋助学",
        student_name="李华强", disclosure_ends_at=ends_at, raised_at=NOW - timedelta(days=1),
    )  # fmt: skip


def test_the_submitter_sees_their_list_but_may_not_approve_it() -> None:
    mine = list_item("cadre-wang", "cadre-wang")
    assert mine.can_act is False and mine.blocked_reason == "同一人不能既提交又审批(四眼原则)"
    theirs = list_item("cadre-wang", "cadre-li")
    assert theirs.can_act is True and theirs.blocked_reason is None
    assert theirs.kind == "relief.campaign_list"
    assert theirs.title == "送温暖名单待审批:2027年春节送温暖 · 某物流公司工会"
    assert "8600.00元" in theirs.state_label


def test_a_list_offers_approve_and_return_on_the_lists_own_paths() -> None:
    item = list_item("cadre-wang", "cadre-li")
    approve, send_back = item.actions
    assert (approve.action, approve.method, approve.path) == (
        "approve",
        "POST",
        f"/campaign-lists/{item.subject_id}/approve",
    )
    assert approve.body_hint == {}
    assert send_back.action == "return" and send_back.path == f"/campaign-lists/{item.subject_id}/return"
    assert send_back.body_hint["reason"].startswith("text")


def test_a_list_is_due_when_its_campaign_closes() -> None:
    item = list_item("a", "b", ends_on=date(2027, 2, 10))
    assert item.due_at == closes_at(date(2027, 2, 10))
    sooner = list_item("a", "b", ends_on=date(2027, 1, 31))
    assert [i.id for i in by_urgency([item, sooner])] == [sooner.id, item.id]


def test_the_cadre_who_filed_an_application_sees_it_but_may_not_review_it() -> None:
    mine = application_item("cadre-wang", "cadre-wang")
    assert mine.can_act is False and mine.blocked_reason == "同一人不能既代为申请又审核(四眼原则)"
    # A member who filed for themself: any cadre may review.
    theirs = application_item("member-1", "cadre-wang")
    assert theirs.can_act is True and theirs.blocked_reason is None
    (review,) = theirs.actions
    assert review.action == "review"
    assert review.path == f"/student-aid/applications/{theirs.subject_id}/review"
    assert review.body_hint["approve"] == "boolean" and review.body_hint["reason"].startswith("text")


def test_an_application_item_shows_masked_names_only() -> None:
    item = application_item("member-1", "cadre-wang")
    assert "张建国" not in item.title and "张小明" not in item.title
    assert item.title == "2027年金秋助学申请待审核:学生张*明(本科) · 会员张*国 · 某物流公司工会"
    assert item.kind == "relief.student_aid" and item.due_at == NOW


def test_the_oldest_application_comes_first_and_the_blocked_ones_last() -> None:
    old = application_item("member-1", "cadre-wang", NOW - timedelta(days=3))
    new = application_item("member-2", "cadre-wang", NOW)
    own = application_item("cadre-wang", "cadre-wang", NOW - timedelta(days=9))
    assert [i.id for i in by_urgency([new, own, old])] == [old.id, new.id, own.id]


def test_an_objection_is_due_with_the_disclosures_end_and_answered_on_its_own_path() -> None:
    ends = NOW + timedelta(days=2)
    item = objection_item(ends)
    assert item.due_at == ends and item.kind == "relief.student_aid_objection"
    assert "李华强" not in item.title and "李*强" in item.title
    (answer,) = item.actions
    assert answer.path == f"/student-aid/objections/{item.id.split(':', 1)[1]}/answer"
    assert answer.body_hint["upheld"] == "boolean" and answer.body_hint["answer"].startswith("text")
    assert objection_item(None).due_at == NOW - timedelta(days=1)  # no end known: since raised


@pytest.mark.parametrize(
    ("rule", "same"),
    [
        (require_four_eyes, "同一人不能既提交又审批(四眼原则)"),
        (require_other_reviewer, "同一人不能既代为申请又审核(四眼原则)"),
    ],
)
def test_the_queue_says_what_the_command_would_refuse_with(
    rule: Callable[[str, str], None], same: str
) -> None:
    with pytest.raises(Forbidden) as refused:
        rule("x", "x")
    assert refused.value.reason == same
    assert relief.may_act(lambda: rule("x", "x")) == (False, same)
    assert relief.may_act(lambda: rule("x", "y")) == (True, None)


def test_what_due_at_means_is_said_a_deadline_or_when_it_was_asked() -> None:
    assert list_item("a", "b").due_label == "截止"  # the campaign closes then
    assert objection_item(NOW).due_label == "截止"  # the disclosure ends then
    filed = application_item("a", "b")
    assert (filed.due_at, filed.due_label) == (NOW, "申请于")  # no deadline: the oldest first
