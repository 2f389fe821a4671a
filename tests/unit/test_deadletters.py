"""The pure parts of scripts/deadletters.py: offsets, selection, the replayed record, markers."""

import json
from datetime import UTC, datetime

import pytest

from scripts.deadletters import (
    DeadLetterError,
    Letter,
    Marker,
    ReplayRecord,
    build_replay,
    describe,
    format_line,
    marker_value,
    parse_marker,
    parse_offsets,
    payload_preview,
    replay_headers,
    replayed_positions,
    resolve_connection,
    select_letters,
)

DLQ = "t1.projector.deadletter.v1"


def letter(partition: int, offset: int, *, origin: str | None = "t1.enrollment.events.v1") -> Letter:
    headers: list[tuple[str, bytes]] = [
        ("event_type", b"enrollment.UnionRegistered"),
        ("correlation_id", b"c-1"),
    ]
    if origin is not None:
        headers += [
            ("deadletter_reason", b"invalid envelope: boom"),
            ("deadletter_consumer", b"t1.projector"),
            ("deadletter_topic", origin.encode()),
            ("deadletter_partition", b"2"),
            ("deadletter_offset", b"41"),
        ]
    return Letter(partition, offset, 1_700_000_000_000, b"key-1", b'{"x": 1}', tuple(headers))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:12", [(0, 12)]),
        ("0:12,0:13", [(0, 12), (0, 13)]),
        (" 1:5 , 0:7 ,", [(1, 5), (0, 7)]),
        ("0:12,0:12,2:0", [(0, 12), (2, 0)]),
    ],
)
def test_offsets_are_parsed_in_order_without_duplicates(text: str, expected: list[tuple[int, int]]) -> None:
    assert parse_offsets(text) == expected


@pytest.mark.parametrize("text", ["", " , ", "12", "0:", ":3", "0:-1", "a:1", "0:1:2", "0:12;0:13", "0:1.5"])
def test_malformed_offsets_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="PARTITION:OFFSET"):
        parse_offsets(text)


def test_options_win_over_the_environment_which_wins_over_the_defaults() -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "TOPIC_PREFIX": "envp."}
    assert resolve_connection("h:1", "opt.", env) == ("h:1", "opt.")
    assert resolve_connection(None, None, env) == ("kafka:9092", "envp.")
    assert resolve_connection(None, "", env) == ("kafka:9092", "")  # an explicit empty prefix
    assert resolve_connection(None, None, {}) == ("127.0.0.1:9092", "")


def test_replay_headers_drop_deadletter_ones_and_add_replayed_from() -> None:
    headers = [
        ("event_type", b"e"),
        ("deadletter_reason", b"r"),
        ("replayed_from", b"older:0:1"),  # a letter that failed again after an earlier replay
        ("correlation_id", b"c"),
        ("deadletter_topic", b"t"),
    ]
    assert replay_headers(headers, f"{DLQ}:0:7") == [
        ("event_type", b"e"),
        ("correlation_id", b"c"),
        ("replayed_from", f"{DLQ}:0:7".encode()),
    ]


def test_the_replayed_record_is_the_original_key_value_and_destination() -> None:
    record = build_replay(letter(1, 7), DLQ)
    assert record == ReplayRecord(
        topic="t1.enrollment.events.v1",
        partition=2,
        key=b"key-1",
        value=b'{"x": 1}',
        headers=[
            ("event_type", b"enrollment.UnionRegistered"),
            ("correlation_id", b"c-1"),
            ("replayed_from", f"{DLQ}:1:7".encode()),
        ],
    )


def test_a_letter_refused_before_it_reached_its_topic_goes_where_its_key_sends_it() -> None:
    refused = letter(1, 7, origin="t1.partners.acme.offers.v1")
    headers = tuple((k, b"-1" if k == "deadletter_partition" else v) for k, v in refused.headers)
    record = build_replay(Letter(1, 7, refused.timestamp_ms, refused.key, refused.value, headers), DLQ)
    assert record.topic == "t1.partners.acme.offers.v1" and record.partition is None


def test_a_letter_without_its_origin_cannot_be_replayed() -> None:
    with pytest.raises(DeadLetterError, match="1:7 has no deadletter_topic header"):
        build_replay(letter(1, 7, origin=None), DLQ)


def test_selection_skips_replayed_letters_unless_forced_and_reports_missing_ones() -> None:
    letters = [letter(1, 0), letter(0, 3), letter(0, 2)]
    replayed = {(0, 2)}

    everything = select_letters(letters, None, replayed)
    assert [x.position for x in everything.replay] == [(0, 3), (1, 0)]  # dead-letter order
    assert [x.position for x in everything.skipped] == [(0, 2)]
    assert everything.missing == []

    named = select_letters(letters, [(1, 0), (0, 2), (5, 5)], replayed)
    assert [x.position for x in named.replay] == [(1, 0)]
    assert [x.position for x in named.skipped] == [(0, 2)]
    assert named.missing == [(5, 5)]

    forced = select_letters(letters, [(0, 2)], replayed, force=True)
    assert [x.position for x in forced.replay] == [(0, 2)] and forced.skipped == []


def test_markers_round_trip_and_the_latest_one_counts() -> None:
    record = build_replay(letter(0, 4), DLQ)
    at = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    value = marker_value(record, 2, 99, at, "ops")
    assert json.loads(value) == {
        "replayed_at": "2025-03-01T08:00:00.000+00:00",
        "by": "ops",
        "topic": "t1.enrollment.events.v1",
        "partition": 2,
        "offset": 99,
    }
    assert b"x" not in value  # nothing of the payload
    first = parse_marker(b"0:4", value)
    assert first == Marker((0, 4), "2025-03-01T08:00:00.000+00:00")
    assert parse_marker(b"0:4", b"not json") == Marker((0, 4), None)
    assert parse_marker(b"junk", value) is None and parse_marker(None, value) is None
    later = Marker((0, 4), "2025-03-02T08:00:00.000+00:00")
    assert replayed_positions([first, later]) == {(0, 4): later}


def test_a_listed_letter_shows_its_origin_and_state_but_not_its_payload() -> None:
    row = describe(letter(0, 4), Marker((0, 4), "2025-03-01T08:00:00.000+00:00"))
    assert row["position"] == "0:4" and row["timestamp"] == "2023-11-14T22:13:20.000+00:00"
    assert (row["original_topic"], row["original_partition"], row["original_offset"]) == (
        "t1.enrollment.events.v1",
        2,
        41,
    )
    assert row["event_type"] == "enrollment.UnionRegistered" and row["reason"] == "invalid envelope: boom"
    assert row["replayed"] is True and "payload_preview" not in row
    line = format_line(row)
    assert line.startswith("0:4  2023-11-14T22:13:20.000+00:00  t1.enrollment.events.v1[2]@41")
    assert "replayed 2025-03-01" in line and '"x"' not in line

    shown = describe(letter(0, 4), None, show_payload=True)
    assert shown["replayed"] is False and shown["payload_preview"] == repr(b'{"x": 1}')
    assert "not replayed" in format_line(shown)


def test_a_payload_preview_never_holds_more_than_60_bytes() -> None:
    secret = b"A" * 60 + b"330102199001011234"
    preview = payload_preview(secret)
    assert "330102" not in preview and preview.endswith("(78 bytes)")
    assert payload_preview(b"short") == "b'short'" and payload_preview(None) == "None"
