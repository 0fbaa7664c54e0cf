"""Bitstring layout and ``encodedList`` encoding against the REC, 1EdTech and W3C test-suite fixtures."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.status.bitstring import MIN_LIST_BITS, Bitstring, decode_list, encode_list
from microcred.status.errors import MalformedValueError, RangeError, StatusErrorCode

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status"
SUITE_SET_BITS = {201, 57444, 94023}
SUITE_OK = "test-suite/status-credentials/single-purpose-ok.jsonld"


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
    return data


def encoded_list(relative: str) -> str:
    value: str = load(relative)["credentialSubject"]["encodedList"]
    return value


def set_bits(bits: Bitstring) -> set[int]:
    return {i for i in range(len(bits)) if bits.get(i)}


# --- fixtures -------------------------------------------------------------------------------------------


def test_rec_section_2_2_list_is_16384_zero_bytes() -> None:
    decoded = decode_list(encoded_list("rec/section-2.2-statuslist-unsecured.json"))
    assert decoded.bits.to_bytes() == bytes(16_384)
    assert len(decoded.bits) == MIN_LIST_BITS
    assert decoded.legacy_encoding is False


def test_1edtech_testlist_has_only_index_23_set() -> None:
    decoded = decode_list(encoded_list("1edtech/testlist"), lenient_legacy=False)
    assert len(decoded.bits) == 131_072
    assert decoded.bits.count() == 1
    assert decoded.bits.get(23)
    assert decoded.legacy_encoding is False


@pytest.mark.parametrize("name", ["single-purpose-ok", "multi-purpose-ok", "single-purpose-fail"])
def test_suite_lists_have_200000_bits_and_three_set_and_are_legacy(name: str) -> None:
    decoded = decode_list(encoded_list(f"test-suite/status-credentials/{name}.jsonld"))
    assert len(decoded.bits) == 200_000
    assert decoded.bits.count() == 3
    assert set_bits(decoded.bits) == SUITE_SET_BITS
    assert decoded.legacy_encoding is True


def test_suite_legacy_list_is_refused_in_strict_mode() -> None:
    with pytest.raises(MalformedValueError) as info:
        decode_list(encoded_list(SUITE_OK), lenient_legacy=False)
    assert info.value.code is StatusErrorCode.MALFORMED_VALUE_ERROR


def test_short_list_decodes_to_200_bits() -> None:
    decoded = decode_list(encoded_list("test-suite/status-credentials/short-encoded-list-fail.jsonld"))
    assert len(decoded.bits) == 200


def test_invalid_list_is_malformed() -> None:
    with pytest.raises(MalformedValueError):
        decode_list(encoded_list("vcalm/encoded-list-invalid-fail.jsonld"))


# --- bit layout -----------------------------------------------------------------------------------------


def test_msb_first_layout() -> None:
    bits = Bitstring()
    bits.set(0)
    bits.set(7)
    bits.set(9)
    raw = bits.to_bytes()
    assert raw[0] == 0b1000_0001
    assert raw[1] == 0b0100_0000
    assert set_bits(Bitstring.from_bytes(raw[:2])) == {0, 7, 9}


def test_default_size_and_minimum() -> None:
    assert len(Bitstring()) == MIN_LIST_BITS
    with pytest.raises(ValueError):
        Bitstring(MIN_LIST_BITS - 8)
    assert len(Bitstring(16, minimum=8)) == 16
    with pytest.raises(ValueError):
        Bitstring(0, minimum=0)


def test_from_bytes_with_exact_size() -> None:
    assert len(Bitstring.from_bytes(b"\x00\x80", 9)) == 9
    with pytest.raises(ValueError):
        Bitstring.from_bytes(b"\x00\x40", 9)  # bit 9 is beyond a 9-bit string
    with pytest.raises(ValueError):
        Bitstring.from_bytes(b"\x00\x00", 17)


def test_out_of_range_is_range_error() -> None:
    bits = Bitstring(16, minimum=8)
    for index in (-1, 16):
        with pytest.raises(RangeError) as info:
            bits.get(index)
        assert info.value.code is StatusErrorCode.RANGE_ERROR
    with pytest.raises(IndexError):  # RangeError is also an IndexError
        bits.set(16)
    with pytest.raises(RangeError):
        bits.get_status(8, 2)  # bits 16..17 do not exist
    assert bits.get_status(7, 2) == 0


def test_status_size_greater_than_one() -> None:
    bits = Bitstring(16, minimum=8)
    bits.set(2)  # entry 1 of size 2 = bits 2..3 -> 0b10
    bits.set(5)  # entry 2 of size 2 = bits 4..5 -> 0b01
    assert [bits.get_status(i, 2) for i in range(4)] == [0, 2, 1, 0]
    bits.set_status(3, 3, 2)
    assert bits.get(6) and bits.get(7)
    assert bits.get_status(1, 4) == 0b0111  # bits 4..7
    with pytest.raises(ValueError):
        bits.set_status(0, 4, 2)
    with pytest.raises(ValueError):
        bits.get_status(0, 0)


# --- encoding -------------------------------------------------------------------------------------------


def test_encoding_is_multibase_and_deterministic() -> None:
    bits = Bitstring()
    bits.set(94_567)
    first, second = encode_list(bits), encode_list(bits)
    assert first == second
    assert first.startswith("u") and "=" not in first and "+" not in first and "/" not in first
    assert decode_list(first, lenient_legacy=False).bits == bits
    assert encode_list(bits.to_bytes()) == first


def test_legacy_base64_variants_are_accepted_and_flagged() -> None:
    raw = gzip.compress(bytes(16_384), mtime=0)
    for text in (
        base64.b64encode(raw).decode(),  # standard alphabet, padded
        base64.urlsafe_b64encode(raw).decode(),  # url alphabet, padded
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        decoded = decode_list(text)
        assert decoded.legacy_encoding is True
        assert decoded.bits.to_bytes() == bytes(16_384)


@pytest.mark.parametrize(
    "value",
    [
        "u",  # empty
        "uH4sI=",  # padding is not multibase base64url
        "uH4s+AAAA",  # standard alphabet after the prefix
        "u" + "A" * 5,  # impossible base64 length
        "H4sI*AAA",  # junk in legacy mode
        "u" + base64.urlsafe_b64encode(b"not gzip at all").decode().rstrip("="),
        "u" + base64.urlsafe_b64encode(gzip.compress(bytes(64))[:-6]).decode().rstrip("="),  # truncated
    ],
)
def test_malformed_values(value: str) -> None:
    with pytest.raises(MalformedValueError):
        decode_list(value)


def test_non_string_is_malformed() -> None:
    with pytest.raises(MalformedValueError):
        decode_list(123)  # type: ignore[arg-type]


def test_inflation_limit_stops_gzip_bombs() -> None:
    encoded = encode_list(bytes(1_000_000))
    with pytest.raises(MalformedValueError):
        decode_list(encoded, max_bytes=100_000)
    assert len(decode_list(encoded, max_bytes=1_000_000).bits) == 8_000_000


def test_multi_member_gzip_is_concatenated() -> None:
    raw = gzip.compress(b"\x80", mtime=0) + gzip.compress(b"\x01", mtime=0)
    encoded = "u" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert decode_list(encoded).bits.to_bytes() == b"\x80\x01"


# --- properties -----------------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=512).map(lambda n: n * 8)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), size=sizes)
def test_round_trip_random_bit_sets(data: st.DataObject, size: int) -> None:
    chosen = data.draw(st.sets(st.integers(min_value=0, max_value=size - 1), max_size=200))
    bits = Bitstring(size, minimum=8)
    for index in chosen:
        bits.set(index)
    decoded = decode_list(encode_list(bits), lenient_legacy=False)
    assert decoded.bits == bits
    assert set_bits(decoded.bits) == chosen
    assert decoded.bits.count() == len(chosen)


@settings(max_examples=10, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_LIST_BITS - 1), max_size=50))
def test_round_trip_full_size_list(chosen: set[int]) -> None:
    bits = Bitstring()
    for index in chosen:
        bits.set(index)
    assert set_bits(decode_list(encode_list(bits)).bits) == chosen


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=255), st.booleans()), max_size=100))
def test_set_and_clear_match_a_set_model(operations: list[tuple[int, bool]]) -> None:
    bits = Bitstring(256, minimum=8)
    model: set[int] = set()
    for index, value in operations:
        if value:
            bits.set(index)
            model.add(index)
        else:
            bits.clear(index)
            model.discard(index)
        assert bits.get(index) is value
    assert set_bits(bits) == model
    assert bits.count() == len(model)


@settings(max_examples=80, deadline=None)
@given(size=st.integers(min_value=1, max_value=8), data=st.data())
def test_set_status_then_get_status(size: int, data: st.DataObject) -> None:
    bits = Bitstring(64 * 8, minimum=8)
    entries = len(bits) // size
    index = data.draw(st.integers(min_value=0, max_value=entries - 1))
    value = data.draw(st.integers(min_value=0, max_value=(1 << size) - 1))
    bits.set_status(index, value, size)
    assert bits.get_status(index, size) == value
    assert bits.count() == value.bit_count()
    if index + 1 < entries:
        assert bits.get_status(index + 1, size) == 0
