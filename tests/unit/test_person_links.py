import uuid
from datetime import UTC, datetime

import pytest

from services.enrollment.domain.links import (
    IDENTITY_SERVICE,
    MISMATCH_MESSAGE,
    AccountAlreadyLinked,
    Claimant,
    ClaimedByAnotherAccount,
    DetailsMismatch,
    Link,
    LinkHow,
    LinkOutcome,
    MemberRecord,
    clean_name,
    decide_link,
    decide_transfer,
    mobile_number,
    phone_digits,
    require_identity_service,
)
from shared.auth import Principal, Role
from shared.errors import Forbidden, InvalidInput, NotFound

PERSON, ACCOUNT, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 12, 3, tzinfo=UTC)
ROOT, BASE = uuid.uuid4(), uuid.uuid4()
RECORD = MemberRecord(name="张三", phone="138 0013 8000", union_path=(ROOT, BASE))
ME = Claimant(ACCOUNT, "张三", "13800138000")


def decide(
    claimant: Claimant = ME,
    *,
    erased: bool = False,
    link: Link | None = None,
    account_link: Link | None = None,
    member: MemberRecord | None = None,
) -> tuple[LinkOutcome, bool]:
    d = decide_link(
        claimant, person_id=PERSON, erased=erased, link=link, account_link=account_link, member=member
    )
    return d.outcome, d.new


def link(account: uuid.UUID = ACCOUNT, how: LinkHow = LinkHow.REAL_NAME, person: uuid.UUID = PERSON) -> Link:
    return Link(person, account, NOW, how)


def test_only_the_identity_service_may_link() -> None:
    require_identity_service(Principal(sub=IDENTITY_SERVICE, role=Role.SERVICE))
    for principal in (
        Principal(sub="relief", role=Role.SERVICE),
        Principal(sub=IDENTITY_SERVICE, role=Role.ADMIN),
        Principal(sub=IDENTITY_SERVICE, role=Role.MEMBER, member_id=PERSON),
        Principal(sub=IDENTITY_SERVICE, role=Role.CADRE, union_id=BASE),
    ):
        with pytest.raises(Forbidden):
            require_identity_service(principal)


def test_a_person_no_one_holds_is_linked_by_real_name() -> None:
    assert decide() == (LinkOutcome.LINKED, True)


def test_a_member_claims_with_the_name_and_phone_of_their_record() -> None:
    assert decide(member=RECORD) == (LinkOutcome.CLAIMED, True)
    # Written differently, the same: spaces in the name go, and +86, spaces and dashes in the phone.
    assert decide(
        Claimant(ACCOUNT, clean_name(" 张 三 "), mobile_number("+86 138-0013-8000")), member=RECORD
    )[0] is (LinkOutcome.CLAIMED)


@pytest.mark.parametrize(
    "claimant", [Claimant(ACCOUNT, "李四", "13800138000"), Claimant(ACCOUNT, "张三", "13900139000")]
)
def test_a_claim_with_another_name_or_phone_is_the_neutral_mismatch(claimant: Claimant) -> None:
    with pytest.raises(DetailsMismatch) as refused:
        decide(claimant, member=RECORD)
    assert refused.value.reason == MISMATCH_MESSAGE and refused.value.context == {}
    assert refused.value.code == "details_mismatch" and refused.value.status_code == 409


def test_an_erased_person_reads_like_a_mismatch() -> None:
    with pytest.raises(DetailsMismatch):
        decide(erased=True)


def test_a_retry_by_the_account_holding_the_link_changes_nothing() -> None:
    assert decide(link=link(), account_link=link()) == (LinkOutcome.LINKED, False)
    claimed = link(how=LinkHow.CLAIM)
    assert decide(link=claimed, account_link=claimed, member=RECORD) == (LinkOutcome.CLAIMED, False)


def test_a_person_held_by_another_account_names_the_person_and_the_members_unions() -> None:
    with pytest.raises(ClaimedByAnotherAccount) as member:
        decide(link=link(OTHER), member=RECORD)
    assert member.value.code == "claimed_by_another_account"
    assert member.value.context == {"person_id": str(PERSON), "union_path": [str(ROOT), str(BASE)]}
    assert str(OTHER) not in repr(member.value.context)
    with pytest.raises(ClaimedByAnotherAccount) as not_member:
        decide(link=link(OTHER))
    assert not_member.value.context == {"person_id": str(PERSON), "union_path": None}


def test_a_claim_on_a_held_member_with_wrong_details_says_only_mismatch() -> None:
    # Knowing an ID number alone never tells whether its holder has an account.
    with pytest.raises(DetailsMismatch):
        decide(Claimant(ACCOUNT, "李四", "13800138000"), link=link(OTHER), member=RECORD)


def test_an_account_linked_to_another_person_is_refused_first() -> None:
    elsewhere = link(person=uuid.uuid4())
    with pytest.raises(AccountAlreadyLinked) as refused:
        decide(account_link=elsewhere, erased=True)
    assert refused.value.code == "account_already_linked"


def test_phones_compare_as_eleven_digits() -> None:
    assert phone_digits("+86 138 0013 8000") == phone_digits("13800138000") == "13800138000"
    assert phone_digits("8613800138000") == "13800138000"
    assert phone_digits("1380013800") is None and phone_digits("１３８００１３８０００") is None
    with pytest.raises(InvalidInput):
        mobile_number("12800138000")  # not a mobile prefix
    with pytest.raises(InvalidInput):
        clean_name("   ")


def test_a_transfer_moves_the_link_from_the_holder_to_a_free_account() -> None:
    assert decide_transfer(link(ACCOUNT), ACCOUNT, OTHER, None) is True
    assert decide_transfer(link(OTHER), ACCOUNT, OTHER, link(OTHER)) is False  # a retry
    with pytest.raises(NotFound):
        decide_transfer(None, ACCOUNT, OTHER, None)
    with pytest.raises(NotFound):
        decide_transfer(link(uuid.uuid4()), ACCOUNT, OTHER, None)
    with pytest.raises(AccountAlreadyLinked):
        decide_transfer(link(ACCOUNT), ACCOUNT, OTHER, link(OTHER, person=uuid.uuid4()))
    with pytest.raises(InvalidInput):
        decide_transfer(link(ACCOUNT), ACCOUNT, ACCOUNT, None)
