"""The source topics' partitions and how far behind the read model is in each."""

from shared.replay import source_partitions

__all__ = ["lag", "source_partitions"]  # source_partitions moved to shared/replay.py


def lag(position: int | None, end_offset: int) -> int:
    """Records not applied yet: position is the last applied offset (None: nothing applied yet),
    end_offset the partition's high watermark (the offset the next record will get)."""
    applied_through = -1 if position is None else position
    return max(0, end_offset - applied_through - 1)
