"""microcred.privacy: pseudonyms, data-key wrapping, sealing, and the in-memory data-key store."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from microcred.crypto.keystore import MissingKekError
from microcred.privacy.datakeys import InMemoryDataKeys, new_data_key
from microcred.privacy.pseudonym import Pseudonymizer, canonical_identifier, is_pseudonym
from microcred.privacy.sealing import SealError, open_sealed, seal
from microcred.privacy.wrapping import AesGcmKeyWrapper, UnwrapError, privacy_kek, pseudonymizer_for

KEK = bytes(range(32))


def test_pseudonym_is_keyed_stable_and_shaped() -> None:
    one, other = pseudonymizer_for(KEK), pseudonymizer_for(bytes(32))
    p = one.of(email="  Ada.Lovelace@Example.ORG ")
    assert p == one.of(email="ada.lovelace@example.org") and is_pseudonym(p)
    assert p != other.of(email="ada.lovelace@example.org")  # another secret, another pseudonym
    assert "ada" not in p and "example" not in p
    assert one.of(did="did:key:z6Mkabc", email="a@b.c") == one.of_identifier("did:key:z6Mkabc")  # the DID wins
    assert repr(one) == "Pseudonymizer()"


def test_a_learner_without_identifier_has_no_pseudonym() -> None:
    with pytest.raises(ValueError, match="DID or an e-mail"):
        canonical_identifier("", "  ")
    with pytest.raises(ValueError):
        Pseudonymizer(b"short")
    assert not is_pseudonym("lp_" + "g" * 64) and not is_pseudonym("ada@example.org")


def test_wrapped_key_opens_only_under_its_kek_and_pseudonym() -> None:
    wrapper = AesGcmKeyWrapper(KEK)
    key = secrets.token_bytes(32)
    wrapped = wrapper.wrap(key, "lp_a")
    assert key not in wrapped and wrapper.unwrap(wrapped, "lp_a") == key
    with pytest.raises(UnwrapError):
        wrapper.unwrap(wrapped, "lp_b")
    with pytest.raises(UnwrapError):
        AesGcmKeyWrapper(bytes(32)).unwrap(wrapped, "lp_a")
    with pytest.raises(UnwrapError):
        wrapper.unwrap(wrapped[:-1], "lp_a")
    assert "KEK" not in repr(wrapper) and str(KEK) not in repr(wrapper)


def test_sealed_data_opens_only_for_its_learner_and_context() -> None:
    key = new_data_key("lp_a")
    sealed = seal(key, b"Ada Lovelace", "event-1")
    assert b"Ada" not in sealed and open_sealed(key, sealed, "event-1") == b"Ada Lovelace"
    assert seal(key, b"Ada Lovelace", "event-1") == sealed  # a republished event is the very same record
    assert seal(key, b"Ada Lovelace", "event-2")[1:13] != sealed[1:13]  # elsewhere, another nonce
    assert seal(key, b"Ada Lovelacf", "event-1")[1:13] != sealed[1:13]
    with pytest.raises(SealError):
        open_sealed(key, sealed, "event-2")  # copied into another event
    with pytest.raises(SealError):
        open_sealed(new_data_key("lp_a"), sealed, "event-1")  # the key was destroyed and a new one made
    with pytest.raises(SealError):
        open_sealed(key, b"\x02" + sealed[1:], "event-1")
    assert "key=" not in repr(key)


async def test_in_memory_keys_are_created_once_and_destroyed_for_good() -> None:
    keys = InMemoryDataKeys()
    first = await keys.ensure(["lp_a", "lp_b", "lp_a"])
    assert set(first) == {"lp_a", "lp_b"} and (await keys.ensure(["lp_a"]))["lp_a"] == first["lp_a"]
    assert await keys.destroy("lp_a") and not await keys.destroy("lp_a")
    assert await keys.get(["lp_a", "lp_b"]) == {"lp_b": first["lp_b"]}
    again = await keys.ensure(["lp_a"])
    assert again["lp_a"].key != first["lp_a"].key  # a new key, which never opens what the old one sealed


def test_privacy_kek_from_env_file_or_dev_default(tmp_path: Path) -> None:
    kek = secrets.token_bytes(32)
    assert privacy_kek(tmp_path, "prod", {"MICROCRED_PRIVACY_KEK": base64.b64encode(kek).decode()}) == kek
    (tmp_path / "k").write_bytes(base64.b64encode(kek))
    assert privacy_kek(tmp_path, "prod", {"MICROCRED_PRIVACY_KEK_FILE": str(tmp_path / "k")}) == kek
    with pytest.raises(MissingKekError):
        privacy_kek(tmp_path, "prod", {})
    generated = privacy_kek(tmp_path / "run" / "issuer", "dev", {})
    assert len(generated) == 32 and privacy_kek(tmp_path / "run" / "wallet", "test", {}) == generated  # shared
    assert (tmp_path / "run" / "privacy-kek").stat().st_mode & 0o777 == 0o600
