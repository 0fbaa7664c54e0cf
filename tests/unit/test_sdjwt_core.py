"""RFC 9901 mechanics of microcred.sdjwt.core and the strict JOSE helpers."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.sdjwt.core import (
    DecoyPolicy,
    Sd,
    SdJwtError,
    conceal,
    digest,
    disclose,
    split_sd_jwt,
)
from microcred.sdjwt.jose import JoseError, b64url_decode, b64url_encode, strict_json_loads


class SeededRandomness:
    """A reproducible randomness source for tests."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def token_bytes(self, n: int) -> bytes:
        return self._random.randbytes(n)

    def randbelow(self, n: int) -> int:
        return self._random.randrange(n)


def disclosure(*parts: Any) -> str:
    return b64url_encode(json.dumps(list(parts)).encode())


def test_rfc9901_disclosure_digest() -> None:
    # RFC 9901 §4.2.1/§4.2.3: the given_name Disclosure and its digest
    encoded = "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd"
    assert digest(encoded) == "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"


def test_conceal_then_disclose_gives_the_claims_back_with_their_paths() -> None:
    claims = {"a": "clear", "b": Sd("secret"), "list": ["x", Sd("y")],
              "nested": Sd({"inner": Sd(1), "plain": True})}
    payload, disclosures = conceal(claims, rng=SeededRandomness(1), decoys=DecoyPolicy(0, 0))
    assert payload["a"] == "clear" and "b" not in payload and "nested" not in payload
    assert payload["_sd_alg"] == "sha-256"
    processed = disclose(payload, [d.encoded for d in disclosures])
    assert processed.claims == {"a": "clear", "b": "secret", "list": ["x", "y"],
                                "nested": {"inner": 1, "plain": True}}
    assert processed.disclosed_paths == {("b",), ("list", 1), ("nested",), ("nested", "inner")}


def test_decoys_are_added_within_bounds_and_digests_are_sorted() -> None:
    payload, disclosures = conceal({"a": Sd(1), "b": Sd(2)}, rng=SeededRandomness(2), decoys=DecoyPolicy(3, 5))
    assert 2 + 3 <= len(payload["_sd"]) <= 2 + 5
    assert payload["_sd"] == sorted(payload["_sd"])
    assert {d.digest for d in disclosures} < set(payload["_sd"])
    assert disclose(payload, [d.encoded for d in disclosures]).claims == {"a": 1, "b": 2}


def test_salts_are_128_bits_and_different() -> None:
    _, disclosures = conceal({"a": Sd(1), "b": Sd(1)})
    salts = [d.salt for d in disclosures]
    assert len(set(salts)) == 2 and all(len(b64url_decode(s)) == 16 for s in salts)


def test_withheld_claims_and_array_elements_are_absent() -> None:
    payload, disclosures = conceal({"a": Sd(1), "list": [Sd("x"), "y", Sd("z")]}, rng=SeededRandomness(3))
    kept = [d.encoded for d in disclosures if d.value == "z"]
    processed = disclose(payload, kept)
    assert processed.claims == {"list": ["y", "z"]}
    assert processed.hidden_array_elements == {("list", 0)}
    assert processed.disclosed_paths == {("list", 2)}


def test_reserved_claim_names_cannot_be_issued() -> None:
    with pytest.raises(ValueError, match="reserved"):
        conceal({"_sd": Sd(1)})


def _payload_with(digests: list[str], **claims: Any) -> dict[str, Any]:
    return {"_sd": digests, "_sd_alg": "sha-256", **claims}


@pytest.mark.parametrize(("payload_of", "disclosures", "reason"), [
    # a disclosed name that is already a plain claim
    (lambda d: _payload_with([digest(d)], name="plain"), [disclosure("salt", "name", "x")], "CLAIM_NAME_COLLISION"),
    # the same digest twice
    (lambda d: _payload_with([digest(d), digest(d)]), [disclosure("salt", "name", "x")], "DUPLICATE_DIGEST"),
    # an array-element Disclosure referenced from _sd
    (lambda d: _payload_with([digest(d)]), [disclosure("salt", "x")], "MISPLACED_DISCLOSURE"),
    # an object-property Disclosure inside an array
    (lambda d: {"list": [{"...": digest(d)}]}, [disclosure("salt", "name", "x")], "MISPLACED_DISCLOSURE"),
    # a Disclosure naming _sd
    (lambda d: _payload_with([digest(d)]), [disclosure("salt", "_sd", ["x"])], "RESERVED_CLAIM_NAME"),
    # not JSON / wrong arity
    (lambda d: _payload_with([digest(d)]), [b64url_encode(b"[1,2,3,4]")], "MALFORMED_DISCLOSURE"),
    (lambda d: _payload_with([digest(d)]), [b64url_encode(b"not json")], "MALFORMED_DISCLOSURE"),
    # _sd not an array of strings
    (lambda d: {"_sd": "abc"}, [], "MALFORMED_SD_JWT"),
    # an unknown hash algorithm
    (lambda d: {"_sd_alg": "md5"}, [], "UNSUPPORTED_HASH"),
    # a Disclosure that nothing references
    (lambda d: _payload_with([]), [disclosure("salt", "name", "x")], "DISCLOSURE_NOT_REFERENCED"),
    # an element's digest beside another member is data, not a reference: its Disclosure is referenced by nothing
    (lambda d: {"list": [{"...": digest(d), "a": 1}]}, [disclosure("salt", "x")], "DISCLOSURE_NOT_REFERENCED"),
])
def test_processing_rejects_what_rfc9901_forbids(payload_of: Any, disclosures: list[str], reason: str) -> None:
    payload = payload_of(disclosures[0] if disclosures else "")
    with pytest.raises(SdJwtError) as caught:
        disclose(payload, disclosures)
    assert caught.value.reason == reason


def test_only_an_object_whose_one_member_is_a_digest_string_stands_for_an_array_element() -> None:
    """RFC 9901 §7.1 step 3.c: ``{"...": <string>}`` alone is a reference; other objects with a "..." member are
    claims as signed (the specification's reference implementation issues them as such)."""
    element = disclosure("salt", "hidden")
    data = [{"...": "not-a-digest", "a": 1}, {"...": 5}, {"...": None, "b": [1]}]
    processed = disclose({"list": [*data, {"...": digest(element)}, {"...": digest(disclosure("s2", "x"))}]},
                         [element])
    assert processed.claims == {"list": [*data, "hidden"]}


@pytest.mark.parametrize("text", ["abc", "a.b.c", "a~~b~", "~"])
def test_split_refuses_malformed_compact_forms(text: str) -> None:
    with pytest.raises(SdJwtError):
        split_sd_jwt(text)


def test_split_reads_key_binding_and_disclosures() -> None:
    parts = split_sd_jwt("jwt~d1~d2~kb")
    assert (parts.issuer_jwt, parts.disclosures, parts.key_binding_jwt) == ("jwt", ("d1", "d2"), "kb")
    assert parts.without_key_binding == "jwt~d1~d2~"
    assert split_sd_jwt("jwt~").key_binding_jwt is None


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', '{"a":NaN}', "[" * 40 + "]" * 40, "{", '["\\ud800"]',
                                  '{"a":"\\uDFFF"}', b'["\xed\xa0\x80"]', ("[" * 40 + "]" * 40).encode(),
                                  '{"a":' * 33 + "1" + "}" * 33,
                                  # numbers beyond a double: no OverflowError where a time is compared, no inf
                                  '{"iat":' + "9" * 309 + "}", '{"iat":-' + "9" * 5000 + "}", '{"exp":1e400}',
                                  "[-1e999]"])
def test_strict_json_refuses_ambiguous_or_hostile_input(text: str | bytes) -> None:
    """As text and as the bytes a JWS segment decodes to (bytes written as orjson writes them are read by orjson
    first: a duplicate, a huge number or deep nesting must still be refused)."""
    for form in (text, text.encode() if isinstance(text, str) else text):
        with pytest.raises(JoseError):
            strict_json_loads(form)


@pytest.mark.parametrize("text", ['{"iat":1' + "0" * 307 + ', "x": 1.7976931348623157e308, "n": -5, "f": 0.5}',
                                  '["\\ud83d\\ude00"]', '["\\\\ud800"]', '{"a":' * 32 + "1" + "}" * 32,
                                  '["' + "[" * 40 + '"]', "[" + "{}," * 50 + "{}]"])
def test_strict_json_keeps_what_is_well_formed(text: str) -> None:
    """A surrogate pair, an escaped backslash before 'ud800', 32 levels, brackets inside a string, many flat
    objects: all JSON as it should be read (the bracket count only decides whether the depth is walked)."""
    assert strict_json_loads(text) == json.loads(text)
    assert strict_json_loads(text.encode()) == json.loads(text)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES, st.sampled_from([(",", ":"), (", ", ": ")]), st.booleans(), st.data())
def test_strict_json_reads_bytes_as_the_standard_library_does(value: Any, separators: tuple[str, str],
                                                             ascii_only: bool, data: st.DataObject) -> None:
    """Whatever path parses the bytes, the value is the standard library's, to the type (an integer beyond 64
    bits stays an int), and a member written twice is refused."""
    text = json.dumps(value, separators=separators, ensure_ascii=ascii_only)
    expected = json.loads(text)
    assert repr(strict_json_loads(text.encode())) == repr(expected)
    if isinstance(value, dict) and value:
        name = data.draw(st.sampled_from(sorted(value)))
        doubled = json.dumps(value, separators=(",", ":"))[:-1] + "," + json.dumps(name) + ":0}"
        with pytest.raises(JoseError):
            strict_json_loads(doubled.encode())


@pytest.mark.parametrize("text", ["YQ==", "Y+E", "Y/E", "a b", "a", "YR"])  # "YR": "a" with non-zero unused bits
def test_base64url_is_strict(text: str) -> None:
    with pytest.raises(JoseError):
        b64url_decode(text)


def test_looks_like_sd_jwt_routes_by_shape_only() -> None:
    from microcred.sdjwt.verify import looks_like_sd_jwt

    assert looks_like_sd_jwt("eyJhbGciOiJFUzI1NiJ9.e30.c2ln~")
    assert looks_like_sd_jwt("  eyJhbGciOiJFUzI1NiJ9.e30.c2ln~WyJ4Il0~kb.x.y\n")
    assert not looks_like_sd_jwt('{"@context": []}')
    assert not looks_like_sd_jwt("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")  # a plain JWT


def test_result_vocabulary_is_the_reports() -> None:
    import subprocess
    import sys

    from microcred.sdjwt import result
    from microcred.verification.checks import CheckId
    from microcred.verification.checks import CheckStatus as ReportStatus

    assert {s.value for s in result.CheckStatus} == {s.value for s in ReportStatus}
    ids = {result.FORMAT, result.SIGNATURE, result.ISSUER_IDENTITY, result.VALIDITY_WINDOW, result.HOLDER_BINDING,
           result.REVOCATION, result.SUSPENSION}
    assert ids <= {c.value for c in CheckId}
    # importing the SD-JWT verifier first must not import the verification pipeline (it will import this package)
    code = ("import sys, microcred.sdjwt.verify, microcred.status.token_status_list; "
            "assert 'microcred.verification.pipeline' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_non_ascii_is_malformed_not_an_exception() -> None:
    with pytest.raises(SdJwtError) as caught:
        split_sd_jwt("eyJhbGciOiJFUzI1NiJ9.e30.c2ln~é~")
    assert caught.value.reason == "MALFORMED_SD_JWT"
