"""Percentiles of a run's measurements (nearest rank), the same way in every measure."""


def percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    xs = sorted(values)

    def q(p: float) -> float:
        return xs[min(len(xs) - 1, max(0, round(p * (len(xs) - 1))))]

    return {"p50": q(0.5), "p90": q(0.9), "p95": q(0.95), "p99": q(0.99), "max": xs[-1], "n": len(xs)}
