"""Crypto-shredding primitives: a sealed value opens with its person's key only, and not at all
once the key is gone."""

import uuid

import pytest

from shared.shredding import KeyWrapper, Sealed, Unreadable, new_data_key, seal, unseal

MASTER = "unit-tests-person-key-master-" + "z" * 8


def test_a_sealed_name_opens_with_its_persons_key_and_hides_the_name() -> None:
    person, key = uuid.uuid4(), new_data_key()
    sealed = seal(key, person, "欧阳翀翊")
    assert "欧阳" not in sealed.model_dump_json() and sealed.key_id == person
    assert unseal(key, Sealed.model_validate_json(sealed.model_dump_json())) == "欧阳翀翊"
    assert seal(key, person, "欧阳翀翊").ciphertext != sealed.ciphertext  # a fresh nonce each time


def test_without_the_key_or_with_another_persons_nothing_opens() -> None:
    person, key = uuid.uuid4(), new_data_key()
    sealed = seal(key, person, "13912345678")
    with pytest.raises(Unreadable):
        unseal(None, sealed)  # erased
    with pytest.raises(Unreadable):
        unseal(new_data_key(), sealed)
    # The same ciphertext relabelled as someone else's, with their key id: refused.
    with pytest.raises(Unreadable):
        unseal(key, sealed.model_copy(update={"key_id": uuid.uuid4()}))
    tampered = sealed.ciphertext[:-4] + ("AAAA" if sealed.ciphertext[-4:] != "AAAA" else "BBBB")
    with pytest.raises(Unreadable):
        unseal(key, sealed.model_copy(update={"ciphertext": tampered}))


def test_a_wrapped_key_unwraps_for_its_person_under_its_master_only() -> None:
    person, key = uuid.uuid4(), new_data_key()
    wrapped = KeyWrapper(MASTER).wrap(person, key)
    assert key not in wrapped
    assert KeyWrapper(MASTER).unwrap(person, wrapped) == key
    with pytest.raises(Unreadable):
        KeyWrapper(MASTER).unwrap(uuid.uuid4(), wrapped)
    with pytest.raises(Unreadable):
        KeyWrapper(MASTER + "x").unwrap(person, wrapped)
    with pytest.raises(ValueError, match="at least 32"):
        KeyWrapper("short")
