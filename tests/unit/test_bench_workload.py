"""The benchmark's synthetic city: the same seed gives the same bytes, and the day has its mix."""

from itertools import islice

from bench.workload import City, member_ids
from shared.contracts import decode_event


def test_the_same_seed_gives_the_same_events_byte_for_byte() -> None:
    first = [(e.topic, e.key, e.value()) for e in City(500, seed=7).events()]
    again = [(e.topic, e.key, e.value()) for e in City(500, seed=7).events()]
    assert first == again
    other = [(e.topic, e.key, e.value()) for e in City(500, seed=8).events()]
    assert first != other


def test_the_day_has_the_intended_mix() -> None:
    city = City(5_000, seed=11)
    events = list(city.events())
    counts = city.counts
    assert counts["enrollment.MemberEnrolled"] == 5_000
    # Every member applied; about 3 % more applicants were rejected.
    rejected = counts["enrollment.ApplicationRejected"]
    assert counts["enrollment.ApplicationSubmitted"] == 5_000 + rejected
    assert 0.015 < rejected / 5_000 < 0.045
    assert 0.06 < counts["enrollment.MemberTransferred"] / 5_000 < 0.10
    assert 0.01 < counts["enrollment.MemberLeft"] / 5_000 < 0.03
    assert 0.02 < counts["relief.CaseOpened"] / 5_000 < 0.04
    assert counts["relief.AidDisbursed"] >= counts["relief.CaseApproved"] > 0
    assert 0.005 < counts["legal.CaseFiled"] / 5_000 < 0.016
    assert 0.035 < counts["competitions.ResultFinalized"] / 5_000 < 0.065
    assert counts["partners.MerchantListed"] == 5_000 // 70
    assert counts["partners.OfferPublished"] == 5_000 // 10
    assert sum(counts.values()) == len(events)
    # The union tree: a city, its 8 districts, streets, and ~1 base union per 100 members.
    assert len(city.base_unions) == 50
    assert len({u.union_id for u in city.unions}) == len(city.unions)


def test_events_decode_with_the_real_contracts_and_are_keyed_by_subject() -> None:
    city = City(300, seed=3)
    versions: dict[str, int] = {}
    for event in city.events():
        envelope, payload = decode_event(event.value())
        assert envelope.event_type == payload.event_type
        assert event.key == envelope.subject
        assert event.topic.startswith(envelope.event_type.split(".")[0])
        if event.topic != "partners.events.v1":
            # Each subject's events come in order, one version after the other.
            key = f"{event.topic}:{event.key}"
            assert envelope.subject_version == versions.get(key, 0) + 1
            versions[key] = envelope.subject_version


def test_partner_slices_extend_each_other() -> None:
    city = City(1_000, seed=5)
    whole = [e.value() for e in city.partner_events(0, 20, 0, 50, 20)]
    parts = [e.value() for e in city.partner_events(0, 10, 0, 25, 20)] + [
        e.value() for e in city.partner_events(10, 20, 25, 50, 20)
    ]
    assert sorted(whole) == sorted(parts)


def test_member_ids_are_the_enrolled_members_in_order() -> None:
    city = City(200, seed=9)
    ids = member_ids(city)
    assert len(ids) == len(set(ids)) == 200
    assert member_ids(city, limit=10) == ids[:10]
    assert list(islice(ids, 3)) == ids[:3]
