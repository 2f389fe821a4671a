"""Which events go to a state topic (docs/retention.md): each declares the parts of its subject's
state it carries whole; an event that carries a part but does not say so would be lost to a
rebuild once retention deleted it."""

import uuid
from datetime import UTC, date, datetime
from types import ModuleType

import pytest

from shared.contracts import competitions, enrollment, legal, partners, relief
from shared.contracts.enrollment import (
    EmploymentType,
    MemberReinstated,
    MembershipPeriod,
    MembershipStatus,
    MemberSnapshot,
    TransferSnapshot,
)
from shared.contracts.envelope import EventPayload
from shared.contracts.relief import CaseSnapshot
from shared.contracts.topics import is_state_topic, state_topic


def contracts(module: ModuleType) -> list[type[EventPayload]]:
    return [
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, EventPayload) and c is not EventPayload
    ]


def field_types(contract: type[EventPayload]) -> set[object]:
    return {f.annotation for f in contract.model_fields.values()}


def test_the_state_topic_sits_next_to_the_events_topic_under_the_same_prefix() -> None:
    assert state_topic("t123.retention.enrollment.events.v1") == "t123.retention.enrollment.state.v1"
    assert is_state_topic(state_topic("relief.events.v1"))
    assert not is_state_topic("relief.events.v1") and not is_state_topic("projector.deadletter.v1")
    with pytest.raises(AssertionError):
        state_topic("projector.deadletter.v1")


@pytest.mark.parametrize(
    ("snapshot", "part"),
    [(MemberSnapshot, "member"), (TransferSnapshot, "transfer"), (CaseSnapshot, "case")],
)
def test_every_event_carrying_a_whole_snapshot_declares_its_part(snapshot: type, part: str) -> None:
    carriers = [c for m in (enrollment, relief) for c in contracts(m) if snapshot in field_types(c)]
    assert carriers
    assert [c.__name__ for c in carriers if part not in c.state_parts] == []


def test_unions_and_applications_are_state_too() -> None:
    assert enrollment.UnionRegistered.state_parts == ("union",)
    for c in (
        enrollment.ApplicationSubmitted,
        enrollment.ApplicationSubmittedV1,
        enrollment.ApplicationRejected,
    ):
        assert c.state_parts == ("application",)
    assert "application" in enrollment.MemberEnrolled.state_parts


def test_a_reinstatement_without_an_application_leaves_the_application_part_alone() -> None:
    now = datetime.now(UTC)
    member = MemberSnapshot(
        member_id=uuid.uuid4(), name="张三", national_id_masked="3301**********1234",
        membership_number="ZJ1", card_number="6217000012345678", base_union_id=uuid.uuid4(),
        status=MembershipStatus.ACTIVE, member_since=date(2026, 1, 1), employer="个体",
        employment_type=EmploymentType.FLEXIBLE,
        periods=[MembershipPeriod(union_id=uuid.uuid4(), started_at=now)],
    )  # fmt: skip
    back = {"left_at": now, "reinstated_at": now, "member": member}
    assert MemberReinstated(application_id=None, **back).carries_state_of() == ("member",)
    assert MemberReinstated(application_id=uuid.uuid4(), **back).carries_state_of() == (
        "member",
        "application",
    )


def test_a_legal_event_carries_its_case_as_a_part_of_its_own_and_a_letter_none() -> None:
    carriers = [
        c for c in contracts(legal) if {legal.CaseSnapshot, legal.CaseSnapshot | None} & field_types(c)
    ]
    assert carriers
    case = legal.CaseSnapshot(
        case_id=uuid.uuid4(), case_no="维权2026-000001", kind=legal.DisputeKind.WAGE_ARREARS,
        stage=legal.Stage.INTAKE, outcome=None, union_id=uuid.uuid4(), member_ids=[uuid.uuid4()],
        next_deadline=None,
    )  # fmt: skip
    missed = {"deadline_id": uuid.uuid4(), "name": legal.DeadlineName.ARBITRATION_LIMIT,
              "due_on": date(2026, 12, 1), "escalation": None}  # fmt: skip
    for_case = legal.DeadlineMissed(case=case, supervision_id=None, **missed)
    assert for_case.carries_state_of() == (f"case:{case.case_id}",)
    for_letter = legal.DeadlineMissed(case=None, supervision_id=uuid.uuid4(), **missed)
    assert for_letter.carries_state_of() == ()
    assert [c.__name__ for c in carriers if c.carries_state_of is EventPayload.carries_state_of] == []


def test_services_whose_card_parts_are_not_state_yet_declare_none() -> None:
    # docs/retention.md lists them as history-bound; a part added there must be read too.
    for module in (competitions, partners):
        assert [c.__name__ for c in contracts(module) if c.state_parts] == []


def test_an_erasure_takes_the_place_of_every_part_that_names_the_person() -> None:
    # A part added to a person's events but not to PersonErased would keep their last clear
    # record on the state topic for ever (docs/erasure.md).
    # A union's and an employer's events name no person (an employer's data is public).
    person_parts = {p for c in contracts(enrollment) for p in c.state_parts} - {"union", "employer"}
    assert person_parts == set(enrollment.PERSON_PARTS)
    assert enrollment.PersonErased.state_parts == enrollment.PERSON_PARTS
