"""List a consumer's dead letters and replay chosen ones after a fix.

    python -m scripts.deadletters list   --consumer projector [--json] [--show-payload]
    python -m scripts.deadletters replay --consumer projector --offsets 0:12,0:13 | --all [--dry-run]
                                         [--force]

Both take --bootstrap HOST:PORT (else KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092) and
--topic-prefix P (else TOPIC_PREFIX); the dead-letter topic is `{prefix}{consumer}.deadletter.v1`.

`list` reads the dead-letter topic from its beginning to its current end by manual assignment: no
consumer group, no committed offsets, no topic created, so reading changes nothing. Each letter is
shown by its position `partition:offset` with when it was dead-lettered, where it came from, its
event type (header), the reason and whether it has been replayed. Payload bytes may hold personal
data: they are never printed in full, only their first 60 bytes and only with --show-payload.

`replay` republishes each chosen letter's ORIGINAL key and value to its ORIGINAL topic and
partition (the deadletter_topic / deadletter_partition headers), with the original headers minus
the deadletter_* ones plus `replayed_from = {dead-letter topic}:{partition}:{offset}`, through an
idempotent producer (acks=all), waiting for each acknowledgement.

Why replaying works: the consumer dead-letters an event instead of applying it, so the event's id
is never recorded as processed. Once the consumer is fixed, the replayed copy is applied like any
new event. An event that is still broken is simply dead-lettered again, with its reason, as a new
letter (carrying the `replayed_from` header, so `list` shows which replay it came from); nothing
is lost and the consumer keeps going either way.

Running replay twice is safe: after each acknowledged republish a marker (key = the letter's
`partition:offset`) is written to the companion topic `{dead-letter topic}.replayed` (compacted,
created on first replay), and replay skips letters that have a marker unless --force. Should the
command stop between a republish and its marker, replaying that letter again only delivers a copy
with the same event id, which the idempotent consumer ignores.
"""

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.contracts.topics import dead_letter_topic
from shared.kafka import make_producer

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEADLETTER_HEADER_PREFIX = "deadletter_"
REPLAYED_FROM = "replayed_from"
MARKER_SUFFIX = ".replayed"
PREVIEW_BYTES = 60
READ_TIMEOUT_S = 60.0

Position = tuple[int, int]  # (partition, offset) in the dead-letter topic
Headers = tuple[tuple[str, bytes], ...]

_POSITION = re.compile(r"^(\d+):(\d+)$")


class DeadLetterError(Exception):
    """A problem the operator must see; the command exits non-zero with this message."""


# ---------------------------------------------------------------- pure functions (unit-tested)


@dataclass(frozen=True)
class Letter:
    """One record of a dead-letter topic."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    @property
    def position(self) -> Position:
        return (self.partition, self.offset)

    def header(self, name: str) -> str | None:
        """The last value of a header (the consumer appends its deadletter_* headers last)."""
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode(errors="replace") if found else None

    @property
    def origin_topic(self) -> str | None:
        return self.header("deadletter_topic")

    @property
    def origin_partition(self) -> int | None:
        return _int_or_none(self.header("deadletter_partition"))

    @property
    def origin_offset(self) -> int | None:
        return _int_or_none(self.header("deadletter_offset"))


@dataclass(frozen=True)
class Marker:
    """A replay recorded in the companion topic."""

    position: Position
    replayed_at: str | None


@dataclass(frozen=True)
class Selection:
    replay: list[Letter]  # to republish, in dead-letter order
    skipped: list[Letter]  # already replayed (and no --force)
    missing: list[Position]  # named but not in the topic


@dataclass(frozen=True)
class ReplayRecord:
    topic: str
    partition: int | None
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def format_position(position: Position) -> str:
    return f"{position[0]}:{position[1]}"


def parse_position(text: str) -> Position | None:
    match = _POSITION.match(text.strip())
    return (int(match[1]), int(match[2])) if match else None


def parse_offsets(text: str) -> list[Position]:
    """`0:12,0:13` -> [(0, 12), (0, 13)]; duplicates dropped, order kept; ValueError when malformed."""
    positions: list[Position] = []
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise ValueError("no offsets given: expected PARTITION:OFFSET[,PARTITION:OFFSET...]")
    for item in items:
        if not item:
            continue
        position = parse_position(item)
        if position is None:
            raise ValueError(f"bad offset {item!r}: expected PARTITION:OFFSET, e.g. 0:12")
        if position not in positions:
            positions.append(position)
    return positions


def marker_topic(dlq_topic: str) -> str:
    return f"{dlq_topic}{MARKER_SUFFIX}"


def resolve_connection(
    bootstrap: str | None, topic_prefix: str | None, env: Mapping[str, str]
) -> tuple[str, str]:
    """(bootstrap, topic prefix): the option, else the environment, else the default."""
    return (
        bootstrap or env.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP,
        topic_prefix if topic_prefix is not None else env.get("TOPIC_PREFIX", ""),
    )


def replayed_positions(markers: Iterable[Marker]) -> dict[Position, Marker]:
    """The latest marker per letter."""
    return {m.position: m for m in markers}


def select_letters(
    letters: Sequence[Letter],
    wanted: Sequence[Position] | None,
    replayed: Collection[Position],
    *,
    force: bool = False,
) -> Selection:
    """The letters to replay: those named (or all when wanted is None), minus replayed ones unless force."""
    by_position = {letter.position: letter for letter in letters}
    missing = [p for p in wanted if p not in by_position] if wanted is not None else []
    chosen = (
        sorted(letters, key=lambda letter: letter.position)
        if wanted is None
        else sorted((by_position[p] for p in wanted if p in by_position), key=lambda letter: letter.position)
    )
    skip = set() if force else {letter.position for letter in chosen if letter.position in replayed}
    return Selection(
        replay=[letter for letter in chosen if letter.position not in skip],
        skipped=[letter for letter in chosen if letter.position in skip],
        missing=missing,
    )


def replay_headers(headers: Iterable[tuple[str, bytes]], replayed_from: str) -> list[tuple[str, bytes]]:
    """The original headers without deadletter_* (and any earlier replayed_from), plus replayed_from."""
    kept = [(k, v) for k, v in headers if not k.startswith(DEADLETTER_HEADER_PREFIX) and k != REPLAYED_FROM]
    return [*kept, (REPLAYED_FROM, replayed_from.encode())]


def build_replay(letter: Letter, dlq_topic: str) -> ReplayRecord:
    topic = letter.origin_topic
    if not topic:
        raise DeadLetterError(
            f"letter {format_position(letter.position)} has no deadletter_topic header: "
            "its original topic is unknown, it cannot be replayed"
        )
    partition = letter.origin_partition
    return ReplayRecord(
        topic=topic,
        # A letter that never was on its topic (refused at the partners' HTTP ingress: partition
        # -1) goes where its key sends it.
        partition=partition if partition is not None and partition >= 0 else None,
        key=letter.key,
        value=letter.value,
        headers=replay_headers(letter.headers, f"{dlq_topic}:{letter.partition}:{letter.offset}"),
    )


def marker_value(record: ReplayRecord, partition: int, offset: int, replayed_at: datetime, by: str) -> bytes:
    """What the marker holds: when, by whom and where the copy went; never payload data."""
    return json.dumps(
        {
            "replayed_at": replayed_at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "by": by,
            "topic": record.topic,
            "partition": partition,
            "offset": offset,
        }
    ).encode()


def parse_marker(key: bytes | None, value: bytes | None) -> Marker | None:
    position = parse_position(key.decode(errors="replace")) if key else None
    if position is None:
        return None
    replayed_at: str | None = None
    with contextlib.suppress(ValueError, KeyError, TypeError):  # an unreadable marker still marks
        replayed_at = str(json.loads(value or b"{}")["replayed_at"])
    return Marker(position, replayed_at)


def iso_utc(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")


def payload_preview(value: bytes | None) -> str:
    if value is None:
        return "None"
    shown = repr(value[:PREVIEW_BYTES])
    return shown if len(value) <= PREVIEW_BYTES else f"{shown}… ({len(value)} bytes)"


def describe(letter: Letter, marker: Marker | None, *, show_payload: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "position": format_position(letter.position),
        "partition": letter.partition,
        "offset": letter.offset,
        "timestamp": iso_utc(letter.timestamp_ms),
        "original_topic": letter.origin_topic,
        "original_partition": letter.origin_partition,
        "original_offset": letter.origin_offset,
        "event_type": letter.header("event_type"),
        "reason": letter.header("deadletter_reason"),
        "consumer": letter.header("deadletter_consumer"),
        "replayed": marker is not None,
        "replayed_at": marker.replayed_at if marker else None,
        "replayed_from": letter.header(REPLAYED_FROM),  # this letter is a failed replay of that one
        "payload_bytes": len(letter.value) if letter.value is not None else 0,
    }
    if show_payload:
        row["payload_preview"] = payload_preview(letter.value)
    return row


def format_line(row: Mapping[str, Any]) -> str:
    origin = (
        f"{row['original_topic']}[{row['original_partition']}]@{row['original_offset']}"
        if row["original_topic"]
        else "?"
    )
    state = f"replayed {row['replayed_at'] or ''}".rstrip() if row["replayed"] else "not replayed"
    parts = [row["position"], row["timestamp"], origin, row["event_type"] or "-", state]
    if row["replayed_from"]:
        parts.append(f"(failed again after replay of {row['replayed_from']})")
    parts.append(f"reason: {row['reason'] or '?'}")
    if "payload_preview" in row:
        parts.append(f"payload: {row['payload_preview']}")
    return "  ".join(parts)


# ---------------------------------------------------------------- Kafka I/O


def _letter(record: Any) -> Letter:
    return Letter(
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp,
        key=record.key,
        value=record.value,
        headers=tuple((k, bytes(v)) for k, v in (record.headers or ())),
    )


async def _topic_info(admin: Any, topic: str) -> tuple[list[int], int] | None:
    """(partitions, replication factor) of a topic, None when it does not exist (nothing created)."""
    if topic not in set(await admin.list_topics()):
        return None
    [described] = await admin.describe_topics([topic])
    partitions = sorted(p["partition"] for p in described["partitions"])
    replicas = max((len(p["replicas"]) for p in described["partitions"]), default=1)
    return partitions, replicas


async def _read_all(bootstrap: str, topic: str, partitions: Sequence[int]) -> list[Any]:
    """Every record from the beginning to the end offsets seen at the start: no group, no commits."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, client_id="deadletters"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READ_TIMEOUT_S
        records: list[Any] = []
        pending = [tp for tp in tps if await consumer.position(tp) < end[tp]]
        while pending:
            if loop.time() > deadline:
                raise DeadLetterError(f"could not read {topic} to its end within {READ_TIMEOUT_S:.0f}s")
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for tp, recs in batch.items():
                records.extend(r for r in recs if r.offset < end[tp])
            pending = [tp for tp in pending if await consumer.position(tp) < end[tp]]
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


@dataclass
class Snapshot:
    dlq_topic: str
    replication: int
    letters: list[Letter]
    markers: dict[Position, Marker]


async def _snapshot(bootstrap: str, dlq_topic: str) -> Snapshot:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="deadletters")
    await admin.start()
    try:
        info = await _topic_info(admin, dlq_topic)
        marker_info = await _topic_info(admin, marker_topic(dlq_topic))
    finally:
        await admin.close()
    if info is None:
        raise DeadLetterError(
            f"dead-letter topic {dlq_topic!r} does not exist (check --consumer and --topic-prefix)"
        )
    letters = [_letter(r) for r in await _read_all(bootstrap, dlq_topic, info[0])]
    markers: list[Marker] = []
    if marker_info is not None:
        for r in await _read_all(bootstrap, marker_topic(dlq_topic), marker_info[0]):
            marker = parse_marker(r.key, r.value)
            if marker is not None:
                markers.append(marker)
    return Snapshot(dlq_topic, info[1], letters, replayed_positions(markers))


async def _ensure_marker_topic(bootstrap: str, topic: str, replication: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="deadletters")
    await admin.start()
    try:
        if topic in set(await admin.list_topics()):
            return
        new = NewTopic(topic, 1, replication, topic_configs={"cleanup.policy": "compact"})
        with contextlib.suppress(TopicAlreadyExistsError):  # another operator created it meanwhile
            await admin.create_topics([new])
    finally:
        await admin.close()


async def list_letters(bootstrap: str, dlq_topic: str, *, as_json: bool, show_payload: bool) -> int:
    snap = await _snapshot(bootstrap, dlq_topic)
    rows = [describe(x, snap.markers.get(x.position), show_payload=show_payload) for x in snap.letters]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(format_line(row))
    replayed = sum(1 for row in rows if row["replayed"])
    print(f"{len(rows)} dead letter(s) in {dlq_topic}, {replayed} replayed", file=sys.stderr)
    return 0


async def replay_letters(
    bootstrap: str, dlq_topic: str, wanted: Sequence[Position] | None, *, dry_run: bool, force: bool
) -> int:
    snap = await _snapshot(bootstrap, dlq_topic)
    chosen = select_letters(snap.letters, wanted, snap.markers.keys(), force=force)
    if chosen.missing:
        held = sorted({x.partition for x in snap.letters})
        raise DeadLetterError(
            f"no dead letter at {', '.join(format_position(p) for p in chosen.missing)} in {dlq_topic} "
            f"({len(snap.letters)} letter(s) on partition(s) {held or 'none'}; run `list` to see them); "
            "nothing was replayed"
        )
    records = [(letter, build_replay(letter, dlq_topic)) for letter in chosen.replay]  # all checked first
    for letter in chosen.skipped:
        when = snap.markers[letter.position].replayed_at or "earlier"
        print(f"skip {format_position(letter.position)}: already replayed at {when} (use --force to repeat)")
    if not records:
        print("nothing to replay")
        return 0
    if dry_run:
        for letter, record in records:
            print(
                f"would replay {format_position(letter.position)} -> {record.topic}[{record.partition}]"
                f" ({letter.header('event_type') or 'no event type'}, {len(record.value or b'')} bytes)"
            )
        print(f"dry run: {len(records)} letter(s) would be replayed, nothing published")
        return 0

    await _ensure_marker_topic(bootstrap, marker_topic(dlq_topic), snap.replication)
    producer = make_producer(bootstrap, client_id="deadletters-replay")
    await producer.start()
    try:
        by = getpass.getuser()
        for letter, record in records:
            sent = await producer.send_and_wait(
                record.topic, record.value, key=record.key, partition=record.partition, headers=record.headers
            )
            await producer.send_and_wait(
                marker_topic(dlq_topic),
                marker_value(record, sent.partition, sent.offset, datetime.now(UTC), by),
                key=format_position(letter.position).encode(),
            )
            print(
                f"replayed {format_position(letter.position)} -> {sent.topic}[{sent.partition}]@{sent.offset}"
            )
    finally:
        await producer.stop()
    print(f"{len(records)} letter(s) replayed, {len(chosen.skipped)} skipped")
    return 0


# ---------------------------------------------------------------- command line


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--consumer", required=True, help="consumer name, e.g. projector")
    common.add_argument("--topic-prefix", help="topic prefix (default: TOPIC_PREFIX or none)")
    common.add_argument(
        "--bootstrap", help=f"Kafka HOST:PORT (default: KAFKA_BOOTSTRAP_SERVERS or {DEFAULT_BOOTSTRAP})"
    )
    p = argparse.ArgumentParser(
        prog="python -m scripts.deadletters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", parents=[common], help="list the dead letters (reads only)")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.add_argument(
        "--show-payload", action="store_true", help=f"show the first {PREVIEW_BYTES} payload bytes"
    )
    rp = sub.add_parser("replay", parents=[common], help="republish letters to their original topic")
    which = rp.add_mutually_exclusive_group(required=True)
    which.add_argument("--offsets", type=_offsets_arg, help="PARTITION:OFFSET[,...] as `list` shows them")
    which.add_argument("--all", action="store_true", help="every letter not replayed yet")
    rp.add_argument("--dry-run", action="store_true", help="show what would be replayed, publish nothing")
    rp.add_argument("--force", action="store_true", help="replay letters already replayed, again")
    return p


def _offsets_arg(text: str) -> list[Position]:
    try:
        return parse_offsets(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


async def run(args: argparse.Namespace) -> int:
    bootstrap, prefix = resolve_connection(args.bootstrap, args.topic_prefix, os.environ)
    dlq_topic = f"{prefix}{dead_letter_topic(args.consumer)}"
    if args.command == "list":
        return await list_letters(bootstrap, dlq_topic, as_json=args.json, show_payload=args.show_payload)
    wanted = None if args.all else args.offsets
    return await replay_letters(bootstrap, dlq_topic, wanted, dry_run=args.dry_run, force=args.force)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except DeadLetterError as exc:
        print(f"deadletters: error: {exc}", file=sys.stderr)
        return 1
    except KafkaError as exc:
        print(f"deadletters: Kafka error: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
