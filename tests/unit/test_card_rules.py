from datetime import UTC, datetime

from services.projector.domain.card import Gap, gaps, needs_action


def test_gaps_come_from_periods_ended_by_leaving() -> None:
    jan, jun, next_jan, mar = "2024-01-01", "2024-06-01", "2025-01-01", "2025-03-01"
    periods: list[dict[str, str | None]] = [
        {
            "started_at": f"{jan}T00:00:00+00:00",
            "ended_at": f"{jun}T00:00:00+00:00",
            "end_reason": "transferred",
        },
        {
            "started_at": f"{jun}T00:00:00+00:00",
            "ended_at": f"{next_jan}T00:00:00+00:00",
            "end_reason": "left",
        },
        {"started_at": f"{mar}T00:00:00+00:00", "ended_at": None, "end_reason": None},
    ]
    assert gaps(periods) == [
        Gap(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)),
    ]


def test_a_rejected_applicant_is_told_why_and_what_to_do() -> None:
    actions = needs_action(None, "rejected", "照片不清晰")
    assert len(actions) == 1 and "照片不清晰" in actions[0]


def test_an_active_member_has_nothing_to_do() -> None:
    assert needs_action("active", "approved", None) == []
