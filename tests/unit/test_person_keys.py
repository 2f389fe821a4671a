"""Opening sealed fields as a consumer does (shared/person_keys.py), without a broker: the key
book is fed the key topic's records directly."""

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest

from shared.consumer import ConsumerStopping
from shared.contracts.enrollment import (
    EmploymentType,
    MemberLeft,
    MembershipPeriod,
    MembershipStatus,
    MemberSnapshot,
)
from shared.person_keys import ERASED, KeyBook, transit_wrapper
from shared.shredding import new_data_key, seal

SECRET = "shared-auth-secret-for-this-test-" + "s" * 16


def left(person: uuid.UUID, key: bytes) -> MemberLeft:
    now = datetime.now(UTC)
    member = MemberSnapshot(
        member_id=person, name=seal(key, person, "欧阳翀翊"),
        national_id_masked=seal(key, person, "6501**********1234"), membership_number="ZJ1",
        card_number="6217000012345678", base_union_id=person, status=MembershipStatus.LEFT,
        member_since=date(2026, 1, 1), employer=seal(key, person, "某外卖配送站"),
        employment_type=EmploymentType.MIGRANT, periods=[MembershipPeriod(union_id=person, started_at=now)],
    )  # fmt: skip
    return MemberLeft(reason="离职", member=member)


def book_with(person: uuid.UUID, value: bytes) -> KeyBook:
    book = KeyBook("unused:9092", "unused", SECRET, 1)
    book._take(str(person).encode(), value)
    return book


async def test_a_held_key_opens_every_sealed_field_and_an_erased_one_opens_none() -> None:
    person, key = uuid.uuid4(), new_data_key()
    event = left(person, key)
    opened = await book_with(person, transit_wrapper(SECRET).wrap(person, key)).open_sealed(event)
    m = opened.member
    assert (m.name, m.national_id_masked, m.employer) == ("欧阳翀翊", "6501**********1234", "某外卖配送站")
    assert opened.reason == "离职" and m.card_number == "6217000012345678"
    erased = (await book_with(person, ERASED).open_sealed(event)).member
    assert (erased.name, erased.national_id_masked, erased.employer) == ("", "", "")


async def test_a_key_wrapped_with_another_secret_or_for_another_person_opens_nothing() -> None:
    person, other, key = uuid.uuid4(), uuid.uuid4(), new_data_key()
    foreign = book_with(person, transit_wrapper("another-services-secret-" + "x" * 16).wrap(person, key))
    assert person not in foreign._keys  # not taken: its events wait instead of opening to ""
    misplaced = book_with(person, transit_wrapper(SECRET).wrap(other, key))
    assert person not in misplaced._keys


async def test_a_key_not_read_yet_is_waited_for() -> None:
    person, key = uuid.uuid4(), new_data_key()
    book = KeyBook("unused:9092", "unused", SECRET, 1)
    opening = asyncio.create_task(book.open_sealed(left(person, key)))
    await asyncio.sleep(0.3)
    assert not opening.done()
    book._take(str(person).encode(), transit_wrapper(SECRET).wrap(person, key))
    assert (await asyncio.wait_for(opening, 2)).member.name == "欧阳翀翊"


async def test_a_batch_awaiting_a_key_is_given_back_when_the_service_stops() -> None:
    """The key may be held up with enrollment (killed before its relay published it): a stop
    must not wait for it (the batch is read again at the next start)."""
    stopping = asyncio.Event()
    book = KeyBook("unused:9092", "unused", SECRET, 1, stopping)
    opening = asyncio.create_task(book.open_sealed(left(uuid.uuid4(), new_data_key())))
    await asyncio.sleep(0.3)
    assert not opening.done()
    stopping.set()
    with pytest.raises(ConsumerStopping):
        await asyncio.wait_for(opening, 2)


async def test_a_payload_without_sealed_fields_comes_back_as_it_is() -> None:
    event = left(uuid.uuid4(), new_data_key())
    clear = event.model_copy(
        update={"member": event.member.model_copy(
            update={"name": "张三", "national_id_masked": "3301**********1234", "employer": "个体"}
        )}
    )  # fmt: skip
    assert await book_with(uuid.uuid4(), ERASED).open_sealed(clear) is clear
