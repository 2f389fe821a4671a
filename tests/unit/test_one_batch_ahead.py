"""The projector decodes a batch while the one before it is written: still in order, one in
flight at most, and a batch that was not applied sends the consumer back to its positions."""

import asyncio
from typing import Any

from services.projector.ahead import OneBatchAhead
from services.projector.live import GenerationChanged
from shared.consumer import BatchResult


class FakeConsumer:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.fail: dict[str, Exception] = {}

    async def decode_batch(self, records: list[str]) -> tuple[list[str], BatchResult]:
        self.log.append(f"decode {records[0]}")
        return list(records), BatchResult()

    async def apply_decoded(self, decoded: list[str], records: list[str], result: BatchResult) -> BatchResult:
        name = records[0]
        self.log.append(f"apply {name} begins")
        await self.release.setdefault(name, asyncio.Event()).wait()
        if name in self.fail:
            raise self.fail[name]
        self.log.append(f"apply {name} committed")
        return result


class FakeLive:
    def __init__(self) -> None:
        self.resync_due = False
        self.resyncs: list[str] = []

    async def resync(self, kafka: Any, reason: str) -> None:
        self.resync_due = False
        self.resyncs.append(reason)


def pipeline() -> tuple[OneBatchAhead, FakeConsumer, FakeLive]:
    consumer, live = FakeConsumer(), FakeLive()
    return OneBatchAhead(consumer, live), consumer, live  # type: ignore[arg-type]


async def test_the_next_batch_is_decoded_while_the_previous_one_is_written_and_applied_after_it() -> None:
    ahead, consumer, _ = pipeline()
    await ahead.handle(None, ["b1"])
    await asyncio.sleep(0)  # b1's transaction is under way
    second = asyncio.create_task(ahead.handle(None, ["b2"]))
    await asyncio.sleep(0)
    assert consumer.log == ["decode b1", "apply b1 begins", "decode b2"]  # b2 decoded, b1 not done
    consumer.release["b1"].set()
    await second
    await asyncio.sleep(0)
    consumer.release.setdefault("b2", asyncio.Event()).set()
    assert await ahead.drain()
    assert consumer.log == [
        "decode b1", "apply b1 begins", "decode b2", "apply b1 committed", "apply b2 begins", "apply b2 committed",
    ]  # fmt: skip


async def test_a_batch_that_fails_repositions_the_consumer_and_the_next_one_is_dropped() -> None:
    ahead, consumer, live = pipeline()
    consumer.fail["b1"] = RuntimeError("database gone")
    await ahead.handle(None, ["b1"])
    consumer.release.setdefault("b1", asyncio.Event()).set()
    await ahead.handle(None, ["b2"])
    # Positioned again once b2 is dropped: b2 may have been fetched from the positions the first
    # resync set (it ran in b1's task, beside the fetch), and would be skipped otherwise.
    assert live.resyncs == ["batch failed", "batch dropped"]
    assert not any(line.startswith("apply b2") for line in consumer.log)  # read again from the positions
    assert await ahead.drain()  # nothing in flight


async def test_a_generation_change_repositions_the_consumer() -> None:
    ahead, consumer, live = pipeline()
    consumer.fail["b1"] = GenerationChanged("live generation is 2")
    await ahead.handle(None, ["b1"])
    consumer.release.setdefault("b1", asyncio.Event()).set()
    assert not await ahead.drain()
    assert live.resyncs == ["generation changed"]


async def test_the_batch_fetched_while_a_swap_was_noticed_is_read_again_not_skipped() -> None:
    ahead, consumer, live = pipeline()
    consumer.fail["b1"] = GenerationChanged("live generation is 2")
    await ahead.handle(None, ["b1"])
    second = asyncio.create_task(ahead.handle(None, ["b2"]))  # fetched while b1 is written
    await asyncio.sleep(0)
    consumer.release.setdefault("b1", asyncio.Event()).set()
    await second
    assert live.resyncs == ["generation changed", "batch dropped"]  # the second seek comes after b2
    assert not any(line.startswith("apply b2") for line in consumer.log)


async def test_a_resync_that_became_due_meanwhile_comes_before_anything_else_is_applied() -> None:
    ahead, consumer, live = pipeline()
    consumer.release.setdefault("b1", asyncio.Event()).set()
    await ahead.handle(None, ["b1"])
    live.resync_due = True  # e.g. partitions assigned anew while b1 was written
    await ahead.handle(None, ["b2"])
    assert "apply b1 committed" in consumer.log
    assert live.resyncs == ["not positioned yet"]
    assert not any(line.startswith("apply b2") for line in consumer.log)
