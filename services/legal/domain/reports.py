"""Figures of the legal report computed from its counts."""


def mediation_success_rate(finished: int, settled: int) -> float | None:
    """Mediations that ended in a settlement, over the mediated cases closed in the period."""
    return None if finished == 0 else round(settled / finished, 4)
