"""Setting a competition up: its weighted criteria and its stages, each with a panel of judges.
Pure: no I/O."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from services.competitions.domain.scoring import Criterion, Sources
from shared.contracts.competitions import CompetitionKind
from shared.errors import InvalidInput


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    name: str
    weight: int
    max_points: Decimal


@dataclass(frozen=True)
class StageSpec:
    name: str
    judges: tuple[str, ...]
    chief_judge: str
    blind: bool
    expert_weight: int
    public_weight: int
    spread_gap: Decimal
    objection_days: int


@dataclass(frozen=True)
class NewCompetition:
    name: str
    kind: CompetitionKind
    union_id: uuid.UUID
    criteria: tuple[CriterionSpec, ...]
    stages: tuple[StageSpec, ...]


def validate_setup(c: NewCompetition) -> None:
    """Criterion keys are unique, weights and maxima positive; each stage's panel names a judge
    once, its chief judge among them, and its source weights are not both zero."""
    keys = [x.key for x in c.criteria]
    if len(set(keys)) != len(keys):
        raise InvalidInput("criterion keys must be unique")
    for x in c.criteria:
        Criterion(x.key, x.weight, x.max_points)  # validates weight and maximum
    for s in c.stages:
        Sources(s.expert_weight, s.public_weight)
        if len(set(s.judges)) != len(s.judges):
            raise InvalidInput(f"stage {s.name!r}: a judge sits on the panel once")
        if s.chief_judge not in s.judges:
            raise InvalidInput(f"stage {s.name!r}: the chief judge is one of the panel")
