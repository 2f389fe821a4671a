"""What puts a competition entry in a work queue: pure rules.

Nothing stores a spread flag: the ranking derives it from the sheets (domain/scoring.py,
`rank_stage`: the judges' highest total minus their lowest, above the stage's gap). An entry so
flagged and not yet reviewed by the chief judge waits in the queue of the stage's chief judge
(who alone may review it) and of the organisers (who see it, and that publication waits for it)."""

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shared.queues import QueueAction, QueueItem

CHIEF_JUDGE_ONLY = "只有本阶段的裁判长可以复核评分差距"


def awaits_review(result: Mapping[str, Any]) -> bool:
    return bool(result["flagged"]) and not result["reviewed_by_chief_judge"]


def spread_item(
    *,
    competition_name: str,
    stage_id: uuid.UUID,
    stage_name: str,
    union_id: uuid.UUID,
    result: Mapping[str, Any],
    spread_gap: Decimal,
    is_chief_judge: bool,
) -> QueueItem:
    """`result` is one line of the standings (handlers/scoring.py `rank`); only its encrypted code
    and figures are shown, never the entrant."""
    entry_id = uuid.UUID(str(result["entry_id"]))
    return QueueItem(
        id=f"spread:{stage_id}:{entry_id}",
        kind="competitions.spread",
        title=(
            f"{competition_name}·{stage_name}:作品{result['code']}评委打分差距{result['spread']}分,"
            f"超过{spread_gap}分,待裁判长复核"
        ),
        subject_id=entry_id,
        union_id=union_id,
        due_at=None,  # no clock: publication of the stage waits until it is reviewed
        state_label="评分差距过大,待复核",
        can_act=is_chief_judge,
        blocked_reason=None if is_chief_judge else CHIEF_JUDGE_ONLY,
        actions=[
            QueueAction(
                action="review_spread",
                label="复核评分差距",
                path=f"/stages/{stage_id}/reviews",
                body_hint={"entry_id": str(entry_id), "note": "text"},
            )
        ],
    )
