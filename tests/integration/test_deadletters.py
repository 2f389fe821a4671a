"""`python -m scripts.deadletters` on the real broker, against the running projector."""

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.contracts import encode_event, new_envelope
from shared.contracts.enrollment import UnionKind, UnionRef, UnionRegistered
from shared.contracts.topics import ENROLLMENT_EVENTS, dead_letter_topic
from tests.integration.conftest import Stack, eventually, read_topic

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


async def deadletters(s: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "scripts.deadletters", args[0], "--consumer", "projector"]
    argv += ["--topic-prefix", s.topic_prefix, "--bootstrap", s.bootstrap, *args[1:]]
    return await asyncio.to_thread(
        subprocess.run, argv, cwd=ROOT, capture_output=True, text=True, timeout=120
    )  # fmt: skip


async def listed(s: Stack) -> list[dict[str, Any]]:
    done = await deadletters(s, "list", "--json")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


async def letters_from(s: Stack, topic: str, partition: int, offset: int) -> list[dict[str, Any]]:
    return [
        r
        for r in await listed(s)
        if (r["original_topic"], r["original_partition"], r["original_offset"]) == (topic, partition, offset)
    ]


async def test_list_shows_a_poison_event_with_its_origin_and_reason_but_not_its_payload(
    stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    topic = stack_env.topic(ENROLLMENT_EVENTS)
    poison = b"\x00not an event " + uuid.uuid4().hex.encode()
    sent = await kafka_producer.send_and_wait(topic, poison, key=uuid.uuid4().hex.encode())

    [row] = await eventually(lambda: letters_from(stack_env, topic, sent.partition, sent.offset), timeout=30)
    assert row["reason"].startswith("invalid envelope")
    assert row["event_type"] is None and row["replayed"] is False and row["replayed_from"] is None
    assert row["consumer"] == f"{stack_env.topic_prefix}projector"
    assert row["payload_bytes"] == len(poison) and "payload_preview" not in row
    assert poison.decode(errors="replace")[1:] not in json.dumps(row)

    text = await deadletters(stack_env, "list")
    assert text.returncode == 0, text.stderr
    [line] = [x for x in text.stdout.splitlines() if x.startswith(row["position"] + " ")]
    assert f"{topic}[{sent.partition}]@{sent.offset}" in line and "not replayed" in line
    assert "invalid envelope" in line and "not an event" not in line

    shown = await deadletters(stack_env, "list", "--show-payload")
    assert repr(poison[:60]) in shown.stdout


async def test_replay_after_a_fix_applies_the_event_once_and_is_recorded(
    stack_env: Stack, kafka_producer: AIOKafkaProducer, http: httpx.AsyncClient
) -> None:
    # A valid UnionRegistered that the projector "failed on before a fix": its letter is written
    # straight into the dead-letter topic, as the consumer would have, so the projector never saw it.
    source = stack_env.topic(ENROLLMENT_EVENTS)
    dlq = stack_env.topic(dead_letter_topic("projector"))
    union_id = uuid.uuid4()
    event = new_envelope(
        UnionRegistered(
            union_id=union_id,
            name=f"重放测试工会-{union_id.hex[:6]}",
            kind=UnionKind.CITY,
            parent_id=None,
            region="330100",
            path=[UnionRef(union_id=union_id, name=f"重放测试工会-{union_id.hex[:6]}")],
        ),
        source="enrollment",
        subject=str(union_id),
        subject_version=1,
        correlation_id="test-replay",
    )
    letter = await kafka_producer.send_and_wait(
        dlq,
        encode_event(event),
        key=str(union_id).encode(),
        headers=[
            ("event_type", event.event_type.encode()),
            ("correlation_id", b"test-replay"),
            ("deadletter_reason", b"simulated: projector bug, fixed since"),
            ("deadletter_consumer", f"{stack_env.topic_prefix}projector".encode()),
            ("deadletter_topic", source.encode()),
            ("deadletter_partition", b"1"),
            ("deadletter_offset", b"0"),
        ],
    )
    position = f"{letter.partition}:{letter.offset}"
    cards_url = f"{stack_env.services['projector'].url}/unions/{union_id}/cards"
    admin = stack_env.headers(Role.ADMIN)
    assert (await http.get(cards_url, headers=admin)).status_code == 404

    dry = await deadletters(stack_env, "replay", "--offsets", position, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would replay {position} -> {source}[1]" in dry.stdout and "nothing published" in dry.stdout

    first = await deadletters(stack_env, "replay", "--offsets", position)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"replayed {position} -> {source}[1]@" in first.stdout

    async def union_known() -> bool:
        return (await http.get(cards_url, headers=admin)).status_code == 200

    await eventually(union_known, timeout=30)

    replayed_from = f"{dlq}:{position}".encode()

    async def copies() -> list[Any]:
        records = await read_topic(stack_env.bootstrap, source)
        return [r for r in records if dict(r.headers).get("replayed_from") == replayed_from]

    [copy] = await copies()
    assert copy.partition == 1 and copy.key == str(union_id).encode() and copy.value == encode_event(event)
    assert dict(copy.headers)["event_type"] == b"enrollment.UnionRegistered"
    assert not any(k.startswith("deadletter_") for k, _ in copy.headers)

    markers = await read_topic(stack_env.bootstrap, f"{dlq}.replayed")
    [marker] = [m for m in markers if m.key == position.encode()]
    assert json.loads(marker.value)["offset"] == copy.offset

    second = await deadletters(stack_env, "replay", "--offsets", position)
    assert second.returncode == 0, second.stderr
    assert f"skip {position}: already replayed" in second.stdout and "nothing to replay" in second.stdout
    forced_dry = await deadletters(stack_env, "replay", "--offsets", position, "--force", "--dry-run")
    assert f"would replay {position}" in forced_dry.stdout
    assert len(await copies()) == 1  # neither the skipped replay nor the dry run published

    [row] = [r for r in await listed(stack_env) if r["position"] == position]
    assert row["replayed"] is True and row["replayed_at"]
    assert row["event_type"] == "enrollment.UnionRegistered"
    assert row["reason"] == "simulated: projector bug, fixed since"


async def test_a_still_broken_event_is_dead_lettered_again_when_replayed(
    stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    topic = stack_env.topic(ENROLLMENT_EVENTS)
    dlq = stack_env.topic(dead_letter_topic("projector"))
    sent = await kafka_producer.send_and_wait(topic, b'{"event_type": "still broken"}', key=b"k")
    [row] = await eventually(lambda: letters_from(stack_env, topic, sent.partition, sent.offset), timeout=30)

    done = await deadletters(stack_env, "replay", "--offsets", row["position"])
    assert done.returncode == 0, done.stdout + done.stderr

    async def again() -> list[dict[str, Any]]:
        return [r for r in await listed(stack_env) if r["replayed_from"] == f"{dlq}:{row['position']}"]

    [new] = await eventually(again, timeout=30)
    assert new["position"] != row["position"] and new["reason"] == row["reason"]
    assert new["replayed"] is False
    [old] = [r for r in await listed(stack_env) if r["position"] == row["position"]]
    assert old["replayed"] is True


async def test_replay_of_an_offset_that_does_not_exist_fails_and_publishes_nothing(stack_env: Stack) -> None:
    dlq = stack_env.topic(dead_letter_topic("projector"))
    before = len(await read_topic(stack_env.bootstrap, stack_env.topic(ENROLLMENT_EVENTS)))
    done = await deadletters(stack_env, "replay", "--offsets", "0:999999")
    assert done.returncode == 1
    assert f"no dead letter at 0:999999 in {dlq}" in done.stderr and "nothing was replayed" in done.stderr
    assert len(await read_topic(stack_env.bootstrap, stack_env.topic(ENROLLMENT_EVENTS))) == before

    bad = await deadletters(stack_env, "replay", "--offsets", "zero:1")
    assert bad.returncode == 2 and "expected PARTITION:OFFSET" in bad.stderr
    unknown = await deadletters(stack_env, "list", "--consumer", "nobody")
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr
