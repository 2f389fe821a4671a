"""Every (status, action) pair of the relief case lifecycle: allowed ones lead where the table
below says, every other one is refused with a 409 naming the status and the allowed next steps.

The expected table is written out here on its own, so a change to the lifecycle has to be made
twice, on purpose."""

import itertools

import pytest

from services.relief.domain import lifecycle
from services.relief.domain.lifecycle import Action, IllegalTransition, allowed_actions, next_status
from shared.contracts.relief import CaseStatus

OPEN_BEFORE_REGISTER_EXIT = [
    "reported",
    "verification_requested",
    "verified",
    "in_disclosure",
    "plan_requested",
    "in_register",
    "exit_requested",
]

EXPECTED: dict[tuple[str, str], str] = {
    ("reported", "record_visit"): "reported",
    ("reported", "override_criterion"): "reported",
    ("reported", "request_verification"): "verification_requested",
    ("verification_requested", "override_criterion"): "verification_requested",
    ("verification_requested", "approve_verification"): "verified",
    ("verification_requested", "reject_verification"): "declined",
    ("verified", "start_disclosure"): "in_disclosure",
    ("in_disclosure", "record_objection"): "in_disclosure",
    ("in_disclosure", "answer_objection"): "in_disclosure",
    ("in_disclosure", "decline"): "declined",
    ("in_disclosure", "request_plan"): "plan_requested",
    ("plan_requested", "approve_plan"): "in_register",
    ("plan_requested", "reject_plan"): "in_disclosure",
    ("in_register", "disburse"): "in_register",
    ("in_register", "reverify"): "in_register",
    ("in_register", "request_exit"): "exit_requested",
    ("exit_requested", "approve_exit"): "exited",
    ("exit_requested", "reject_exit"): "in_register",
    ("exited", "follow_up"): "exited",
    ("suspended", "withdraw"): "withdrawn",
    **{(s, "suspend"): "suspended" for s in OPEN_BEFORE_REGISTER_EXIT},
    **{(s, "withdraw"): "withdrawn" for s in OPEN_BEFORE_REGISTER_EXIT},
}

ALL_PAIRS = list(itertools.product(CaseStatus, Action))
ALLOWED = [
    (s, a) for s, a in ALL_PAIRS if (s.value, a.value) in EXPECTED or (s, a) == ("suspended", "resume")
]
REFUSED = [(s, a) for s, a in ALL_PAIRS if (s, a) not in ALLOWED]


def test_the_table_is_exactly_the_expected_one() -> None:
    actual = {(s.value, a.value): t.value for (s, a), t in lifecycle.TRANSITIONS.items()}
    resume = actual.pop(("suspended", "resume"))
    assert resume == lifecycle.BACK.value
    assert actual == EXPECTED


@pytest.mark.parametrize(("status", "action"), [p for p in ALLOWED if p != ("suspended", "resume")])
def test_an_allowed_transition_leads_to_its_target(status: CaseStatus, action: Action) -> None:
    assert next_status(status, action) == CaseStatus(EXPECTED[(status.value, action.value)])


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_a_refused_transition_is_a_409_naming_the_status_and_the_allowed_steps(
    status: CaseStatus, action: Action
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(status, action, suspended_from=CaseStatus.REPORTED)
    error = refused.value
    assert error.status_code == 409
    assert f"cannot {action} a case that is {status}" in error.reason
    assert error.context["current_status"] == status.value
    assert error.context["allowed_next_steps"] == [a.value for a in allowed_actions(status)]


@pytest.mark.parametrize("before", [CaseStatus(s) for s in OPEN_BEFORE_REGISTER_EXIT])
def test_a_suspended_case_resumes_where_it_stood(before: CaseStatus) -> None:
    suspended = next_status(before, Action.SUSPEND)
    assert suspended is CaseStatus.SUSPENDED
    assert next_status(suspended, Action.RESUME, suspended_from=before) is before


@pytest.mark.parametrize("bad", [None, CaseStatus.SUSPENDED, CaseStatus.EXITED, CaseStatus.DECLINED])
def test_resuming_needs_the_status_it_was_suspended_from(bad: CaseStatus | None) -> None:
    with pytest.raises(ValueError, match="suspendable"):
        next_status(CaseStatus.SUSPENDED, Action.RESUME, suspended_from=bad)


def test_closed_cases_allow_nothing_but_follow_up_after_exit() -> None:
    assert allowed_actions(CaseStatus.DECLINED) == []
    assert allowed_actions(CaseStatus.WITHDRAWN) == []
    assert allowed_actions(CaseStatus.EXITED) == [Action.FOLLOW_UP]
    with pytest.raises(IllegalTransition, match=r"allowed next steps: none \(the case is closed\)"):
        next_status(CaseStatus.WITHDRAWN, Action.RESUME)


def test_open_and_closed_statuses_partition_all_statuses() -> None:
    assert {CaseStatus.DECLINED, CaseStatus.EXITED, CaseStatus.WITHDRAWN} == lifecycle.CLOSED
    assert set(CaseStatus) == lifecycle.OPEN | lifecycle.CLOSED
    assert not lifecycle.OPEN & lifecycle.CLOSED
    assert CaseStatus.SUSPENDED in lifecycle.OPEN  # a suspended file still blocks a second one


def test_every_status_is_reachable_from_reported() -> None:
    seen = {CaseStatus.REPORTED}
    frontier = [CaseStatus.REPORTED]
    while frontier:
        status = frontier.pop()
        for action in allowed_actions(status):
            if action is Action.RESUME:
                continue
            target = next_status(status, action)
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(CaseStatus)


def test_the_refusal_message_lists_the_next_steps() -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(CaseStatus.REPORTED, Action.DISBURSE)
    assert refused.value.reason == (
        "cannot disburse a case that is reported; allowed next steps: "
        "record_visit, override_criterion, request_verification, suspend, withdraw"
    )


@pytest.mark.parametrize(
    ("status", "transfer_pending", "member_active", "flag"),
    [
        (CaseStatus.SUSPENDED, False, False, "the member left the union: the case is suspended"),
        (CaseStatus.SUSPENDED, True, True, "the member is back in the union: resume or withdraw the case"),
        (
            CaseStatus.IN_REGISTER,
            True,
            True,
            "the member moved to another union: the case waits for that union",
        ),
        (CaseStatus.IN_REGISTER, False, True, None),
        (CaseStatus.EXITED, True, True, None),
    ],
)
def test_the_flag_is_derived_from_the_state(
    status: CaseStatus, transfer_pending: bool, member_active: bool, flag: str | None
) -> None:
    got = lifecycle.flag_reason(status, transfer_pending=transfer_pending, member_active=member_active)
    assert (got is None) if flag is None else (got is not None and got.startswith(flag))
