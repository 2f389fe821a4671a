"""Intake validation, the household register number, public masking and the disclosure window,
approval rules, and the relief event contracts (which must carry no hardship details)."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.relief.domain.approvals import decision_note, require_other_decider
from services.relief.domain.disclosure import (
    disclosure_number,
    is_open,
    public_name,
    require_disclosure_done,
    require_window_open,
    window,
)
from services.relief.domain.intake import (
    Cause,
    HardshipReport,
    Household,
    intake_channel,
    mask_register_no,
    normalize_register_no,
    validate_report,
)
from shared.contracts import contract_for, decode_event, encode_event, new_envelope
from shared.contracts import relief as contracts
from shared.contracts.envelope import EventPayload
from shared.contracts.relief import CaseSnapshot, CaseStatus, IntakeChannel, Tier
from shared.errors import Conflict, InvalidInput

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def report(**change: object) -> HardshipReport:
    fields: dict[str, object] = {
        "member_id": uuid.uuid4(),
        "household_register_no": " 3301-0601 2345 ",
        "household": Household(3, 180_000),
        "causes": (Cause.ILLNESS, Cause.ILLNESS, Cause.ACCIDENT),
        "note": "  丈夫住院  ",
    }
    fields.update(change)
    return HardshipReport(**fields)  # type: ignore[arg-type]


def test_a_report_is_brought_into_canonical_form() -> None:
    r = validate_report(report())
    assert r.household_register_no == "330106012345"
    assert r.causes == (Cause.ILLNESS, Cause.ACCIDENT)  # deduplicated, stable order
    assert r.note == "丈夫住院"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"household": Household(0, 1)}, "household size"),
        ({"household": Household(51, 1)}, "household size"),
        ({"household": Household(2, -1)}, "income"),
        ({"household_register_no": "12"}, "household register number"),
        ({"household_register_no": "33010601234x!"}, "household register number"),
        ({"note": "x" * 2001}, "at most 2000"),
    ],
)
def test_a_bad_report_is_refused_with_the_reason(change: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        validate_report(report(**change))


def test_the_register_number_is_masked_but_for_its_last_four() -> None:
    assert mask_register_no(normalize_register_no("330106012345")) == "********2345"


def test_the_channel_says_who_reported() -> None:
    assert intake_channel(by_the_member=True) is IntakeChannel.SELF_APPLICATION
    assert intake_channel(by_the_member=False) is IntakeChannel.GRID_REPORT


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("王", "*")]
)
def test_disclosed_names_are_masked(name: str, masked: str) -> None:
    assert public_name(name) == masked


def test_the_disclosure_window_takes_objections_until_it_closes() -> None:
    starts, ends = window(T0, 5)
    assert ends - starts == timedelta(days=5)
    assert is_open(T0, starts, ends) and is_open(ends - timedelta(seconds=1), starts, ends)
    assert not is_open(ends, starts, ends)
    require_window_open(ends - timedelta(seconds=1), ends)
    with pytest.raises(Conflict, match="objections are no longer taken"):
        require_window_open(ends, ends)


def test_the_plan_waits_for_the_window_and_every_answer() -> None:
    _, ends = window(T0, 5)
    with pytest.raises(Conflict, match="runs until"):
        require_disclosure_done(ends - timedelta(seconds=1), ends, 0)
    with pytest.raises(Conflict, match="1 objection"):
        require_disclosure_done(ends, ends, 1)
    require_disclosure_done(ends, ends, 0)


def test_a_disclosure_number_carries_no_personal_data() -> None:
    assert disclosure_number(2026, 42) == "GS2026-000042"


def test_a_step_is_decided_by_someone_else_and_a_rejection_says_why() -> None:
    with pytest.raises(Conflict, match="four eyes"):
        require_other_decider("cadre:wang", "cadre:wang")
    require_other_decider("cadre:wang", "cadre:li")
    with pytest.raises(InvalidInput, match="needs a note"):
        decision_note("  ", approve=False)
    assert decision_note("", approve=True) == ""


def snapshot() -> CaseSnapshot:
    return CaseSnapshot(
        case_id=uuid.uuid4(),
        member_id=uuid.uuid4(),
        status=CaseStatus.IN_REGISTER,
        tier=Tier.DEEP,
        union_id=uuid.uuid4(),
        aid_year=2026,
        aid_paid_fen=30_000,
    )


def test_a_relief_event_round_trips_through_its_envelope() -> None:
    snap = snapshot()
    payload = contracts.AidDisbursed(
        case=snap,
        disbursement_id=uuid.uuid4(),
        aid_type=contracts.AidType.MEDICAL,
        amount_fen=30_000,
        year=2026,
        paid_at=T0,
    )
    env = new_envelope(
        payload, source="relief", subject=str(snap.member_id), subject_version=3, correlation_id="c"
    )
    decoded_env, decoded = decode_event(encode_event(env))
    assert decoded == payload and decoded_env.event_type == "relief.AidDisbursed"


RELIEF_EVENTS: list[type[EventPayload]] = [
    c
    for c in vars(contracts).values()
    if isinstance(c, type)
    and issubclass(c, EventPayload)
    and c is not EventPayload
    # the latest version of each case event (older ones keep a V suffix); budgets carry no case
    and not c.__name__[-2:].startswith("V")
    and c is not contracts.BudgetSet
]


def test_every_relief_event_is_registered_and_carries_the_case_snapshot() -> None:
    relief_types = sorted(c.event_type for c in RELIEF_EVENTS)
    assert relief_types == sorted(
        f"relief.{n}"
        for n in (
            "CaseOpened", "CaseReopened", "CaseStepRequested", "CaseStepRejected", "CaseVerified", "CaseDeclined",
            "DisclosureStarted", "CaseApproved", "AidDisbursed", "CaseSuspended", "CaseResumed", "CaseTransferred",
            "CaseExited", "CaseWithdrawn",
        )
    )  # fmt: skip
    for contract in RELIEF_EVENTS:
        assert contract_for(contract.event_type, contract.schema_version) is contract
        assert contract.model_fields["case"].annotation is CaseSnapshot


SENSITIVE = (
    "income",
    "household",
    "cause",
    "finding",
    "note",
    "reason_text",
    "name",
    "national",
    "objection",
)


def _field_names(model: type) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        names.add(name)
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            names |= _field_names(annotation)
    return names


def test_no_relief_event_carries_hardship_details() -> None:
    # Only the cause codes travel (v2, for the reports' statistics; never on the card): no
    # note, no specifics.
    published: list[type[EventPayload]] = [*RELIEF_EVENTS, contracts.BudgetSet]
    for contract in published:
        leaked = {n for n in _field_names(contract) if any(word in n for word in SENSITIVE)} - {"causes"}
        assert not leaked, f"{contract.event_type} carries {leaked}"


def test_a_v1_relief_event_lifts_to_v2_with_causes_unknown() -> None:
    v1 = contracts.CaseOpenedV1(case=contracts.CaseSnapshotV1(**snapshot().model_dump(exclude={"causes"})),
                                channel=IntakeChannel.SELF_APPLICATION, opened_at=datetime.now(UTC))  # fmt: skip
    _, lifted = decode_event(encode_event(new_envelope(v1, source="relief", subject="m", subject_version=1,
                                                       correlation_id="t")))  # fmt: skip
    assert isinstance(lifted, contracts.CaseOpened) and lifted.case.causes is None


def test_a_snapshot_refuses_negative_money() -> None:
    with pytest.raises(ValueError):
        CaseSnapshot.model_validate({**snapshot().model_dump(), "aid_paid_fen": -1})


def test_dates_are_plain() -> None:
    assert contracts.PlanSummary(aid_types=[contracts.AidType.TUITION], next_review_due=date(2027, 3, 2))
