"""Status entries, the Validate Algorithm and the list-credential builder, on the published fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from microcred.status.bitstring import Bitstring, decode_list
from microcred.status.build import VC_V2_CONTEXT, build_status_list_credential, status_entry, xsd_datetime
from microcred.status.check import StatusEntry, StatusWarning, check_status, parse_status_entries
from microcred.status.errors import (
    MalformedValueError,
    RangeError,
    StatusErrorCode,
    StatusListError,
    StatusListLengthError,
    StatusListValidityError,
    StatusRetrievalError,
    StatusVerificationError,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status"
NOW = datetime(2025, 6, 1, tzinfo=UTC)

# URLs the test-suite credentials dereference, mapped to the local copies (see fixtures/status/SOURCES.md).
VC_API_STATUS = "https://w3c-ccg.github.io/vc-api/fixtures/credentials/status/"
ONEEDTECH_LIST = (
    "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/"
    "inspector-vc/src/test/resources/ob30/bit-string-list/testlist"
)
SUITE_LISTS = "test-suite/status-credentials/"
LOCAL_LISTS = {
    VC_API_STATUS + "purpose-single-ok.jsonld": SUITE_LISTS + "single-purpose-ok.jsonld",
    VC_API_STATUS + "purpose-multi-ok.jsonld": SUITE_LISTS + "multi-purpose-ok.jsonld",
    VC_API_STATUS + "encoded-list-short-fail.jsonld": SUITE_LISTS + "short-encoded-list-fail.jsonld",
    VC_API_STATUS + "date-expired-fail.jsonld": "vcalm/date-expired-fail.jsonld",
    VC_API_STATUS + "encoded-list-invalid-fail.jsonld": "vcalm/encoded-list-invalid-fail.jsonld",
    VC_API_STATUS + "vc-type-missing-fail.jsonld": "vcalm/vc-type-missing-fail.jsonld",
    VC_API_STATUS + "vc-type-wrong-fail.jsonld": "vcalm/vc-type-wrong-fail.jsonld",
    ONEEDTECH_LIST: "1edtech/testlist",
}


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
    return data


def dereference(url: str) -> dict[str, Any]:
    """The test's stand-in for fetching (and verifying) a status list credential."""
    if url not in LOCAL_LISTS:
        raise StatusRetrievalError(f"no local copy of {url}")
    return load(LOCAL_LISTS[url])


def check_fixture(credential_file: str, **options: Any) -> Any:
    (entry,) = parse_status_entries(load(credential_file))
    return check_status(entry, dereference(entry.list_credential), NOW, proofs_verified=True, **options)


# --- the W3C test suite ---------------------------------------------------------------------------------


def test_should_be_revoked() -> None:
    result = check_fixture("test-suite/should-be-revoked.jsonld")
    assert (result.status, result.purpose, result.valid) == (1, "revocation", False)
    assert result.message is None
    assert result.legacy_encoding is True
    assert StatusWarning.LEGACY_ENCODING in result.warnings


def test_should_be_suspended() -> None:
    result = check_fixture("test-suite/should-be-suspended.jsonld")
    assert (result.status, result.purpose, result.valid) == (1, "suspension", False)


@pytest.mark.parametrize("name", ["sl-purpose-single-ok", "sl-purpose-multi-ok"])
def test_purpose_ok(name: str) -> None:
    result = check_fixture(f"test-suite/{name}.jsonld")
    assert (result.status, result.purpose, result.valid) == (0, "revocation", True)


@pytest.mark.parametrize(
    ("name", "error", "code"),
    [
        ("sl-encoded-list-short-fail", StatusListLengthError, StatusErrorCode.STATUS_LIST_LENGTH_ERROR),
        ("sl-date-expired-fail", StatusListValidityError, StatusErrorCode.STATUS_VERIFICATION_ERROR),
        ("sl-encoded-list-invalid-fail", MalformedValueError, StatusErrorCode.MALFORMED_VALUE_ERROR),
        ("sl-vc-type-missing-fail", StatusVerificationError, StatusErrorCode.STATUS_VERIFICATION_ERROR),
        ("sl-vc-type-wrong-fail", StatusVerificationError, StatusErrorCode.STATUS_VERIFICATION_ERROR),
    ],
)
def test_suite_failures(name: str, error: type[StatusListError], code: StatusErrorCode) -> None:
    with pytest.raises(error) as info:
        check_fixture(f"test-suite/{name}.jsonld")
    assert info.value.code is code


def test_expired_list_names_the_reason() -> None:
    with pytest.raises(StatusListValidityError) as info:
        check_fixture("test-suite/sl-date-expired-fail.jsonld")
    assert info.value.reason == "expired"
    assert "1984-01-01" in info.value.message


@pytest.mark.parametrize(
    ("list_file", "code"),
    [
        ("single-purpose-fail", StatusErrorCode.STATUS_VERIFICATION_ERROR),
        ("multi-purpose-fail", StatusErrorCode.STATUS_VERIFICATION_ERROR),
        ("short-encoded-list-fail", StatusErrorCode.STATUS_LIST_LENGTH_ERROR),
    ],
)
def test_status_credentials_fail(list_file: str, code: StatusErrorCode) -> None:
    (entry,) = parse_status_entries(load("test-suite/should-be-revoked.jsonld"))
    status_list = load(f"test-suite/status-credentials/{list_file}.jsonld")
    with pytest.raises(StatusListError) as info:
        check_status(entry, status_list, NOW, proofs_verified=True)
    assert info.value.code is code


def test_status_credentials_ok() -> None:
    (entry,) = parse_status_entries(load("test-suite/should-be-revoked.jsonld"))
    for list_file in ("single-purpose-ok", "multi-purpose-ok"):
        status_list = load(f"test-suite/status-credentials/{list_file}.jsonld")
        assert check_status(entry, status_list, NOW, proofs_verified=True).valid is False


def test_legacy_list_refused_in_strict_mode() -> None:
    with pytest.raises(MalformedValueError):
        check_fixture("test-suite/should-be-revoked.jsonld", lenient_legacy=False)


# --- 1EdTech and the REC --------------------------------------------------------------------------------


def test_1edtech_revoked_credential_with_integer_index() -> None:
    (entry,) = parse_status_entries(load("1edtech/credential-status-revoked.json"))
    assert entry.index == 23
    assert entry.lenient_index is True
    result = check_fixture("1edtech/credential-status-revoked.json")
    assert (result.status, result.purpose, result.valid) == (1, "revocation", False)
    assert result.legacy_encoding is False
    assert result.warnings == (StatusWarning.INTEGER_INDEX,)


def test_rec_entries_parse() -> None:
    entries = parse_status_entries(load("rec/section-2.1-credential-unsecured.json"))
    assert [(e.purpose, e.index, e.list_credential) for e in entries] == [
        ("revocation", 94567, "https://example.com/credentials/status/3"),
        ("suspension", 23452, "https://example.com/credentials/status/4"),
    ]
    assert entries[0].id == "https://example.com/credentials/status/3#94567"
    assert all(e.size == 1 and not e.warnings for e in entries)


def test_rec_list_is_all_valid_within_its_window() -> None:
    rec_list = load("rec/section-2.2-statuslist-unsecured.json")
    entry = StatusEntry(purpose="revocation", index=94567, list_credential=rec_list["id"])
    result = check_status(entry, rec_list, NOW, proofs_verified=True)
    assert result.valid is True and result.legacy_encoding is False and result.warnings == ()
    with pytest.raises(StatusListValidityError) as info:
        check_status(entry, rec_list, datetime(2020, 1, 1, tzinfo=UTC), proofs_verified=True)
    assert info.value.reason == "not_yet_valid"


def test_index_beyond_the_list_is_range_error() -> None:
    rec_list = load("rec/section-2.2-statuslist-unsecured.json")
    entry = StatusEntry(purpose="revocation", index=131_072, list_credential=rec_list["id"])
    with pytest.raises(RangeError) as info:
        check_status(entry, rec_list, NOW, proofs_verified=True)
    assert info.value.code is StatusErrorCode.RANGE_ERROR


def test_unverified_proofs_are_a_verification_error() -> None:
    (entry,) = parse_status_entries(load("1edtech/credential-status-revoked.json"))
    with pytest.raises(StatusVerificationError):
        check_status(entry, load("1edtech/testlist"), NOW, proofs_verified=False)


def test_naive_now_is_refused() -> None:
    (entry,) = parse_status_entries(load("1edtech/credential-status-revoked.json"))
    with pytest.raises(ValueError):
        check_status(entry, load("1edtech/testlist"), datetime(2025, 1, 1), proofs_verified=True)


@pytest.mark.parametrize(
    "change",
    [
        {"credentialSubject": "not an object"},
        {"validUntil": "yesterday"},
        {"validFrom": "2021-04-05T14:27:40"},  # no time zone
        {"validFrom": 20210405},
    ],
)
def test_malformed_list_credentials(change: dict[str, Any]) -> None:
    rec_list = load("rec/section-2.2-statuslist-unsecured.json") | change
    entry = StatusEntry(purpose="revocation", index=1, list_credential="x")
    with pytest.raises(MalformedValueError):
        check_status(entry, rec_list, NOW, proofs_verified=True)


@pytest.mark.parametrize(
    "subject_change", [{"statusPurpose": []}, {"statusPurpose": 3}, {"encodedList": None}]
)
def test_malformed_list_subjects(subject_change: dict[str, Any]) -> None:
    rec_list = load("rec/section-2.2-statuslist-unsecured.json")
    rec_list["credentialSubject"] |= subject_change
    entry = StatusEntry(purpose="revocation", index=1, list_credential="x")
    with pytest.raises(MalformedValueError):
        check_status(entry, rec_list, NOW, proofs_verified=True)


# --- parsing entries ------------------------------------------------------------------------------------

GOOD_ENTRY = {
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "7",
    "statusListCredential": "https://example.com/status/1",
}


def test_entries_object_array_absent_and_foreign_types() -> None:
    assert parse_status_entries({}) == []
    assert len(parse_status_entries({"credentialStatus": GOOD_ENTRY})) == 1
    foreign = {"type": "1EdTechRevocationList", "id": "https://example.com/r"}
    assert [e.index for e in parse_status_entries({"credentialStatus": [foreign, GOOD_ENTRY]})] == [7]


@pytest.mark.parametrize(
    "change",
    [
        {"statusListIndex": "abc"},
        {"statusListIndex": "-1"},
        {"statusListIndex": "1.5"},
        {"statusListIndex": ""},
        {"statusListIndex": "١٢"},  # Arabic-Indic digits are not base-10 ASCII
        {"statusListIndex": "9" * 5000},
        {"statusListIndex": -1},
        {"statusListIndex": True},
        {"statusListIndex": None},
        {"statusPurpose": ""},
        {"statusPurpose": ["revocation"]},
        {"statusListCredential": None},
        {"id": 5},
        {"statusSize": 0},
        {"statusSize": "2"},
        {"statusSize": 17},
        {"statusSize": 2},  # statusMessage missing
        {"statusSize": 2, "statusMessage": [{"status": "0x0", "message": "ok"}]},
        {"statusMessage": [{"status": "0x0", "message": "a"}, {"status": "0x0", "message": "b"}]},
        {"statusMessage": [{"status": "0", "message": "a"}, {"status": "0x1", "message": "b"}]},
        {"statusMessage": [{"status": "0x0", "message": "a"}, {"status": "0x2", "message": "b"}]},
        {"statusMessage": [{"status": "0x0", "message": "a"}, "b"]},
        {"statusReference": []},
        {"statusReference": 3},
    ],
)
def test_malformed_entries(change: dict[str, Any]) -> None:
    with pytest.raises(MalformedValueError):
        parse_status_entries({"credentialStatus": GOOD_ENTRY | change})


def test_non_object_status_item_is_malformed() -> None:
    with pytest.raises(MalformedValueError):
        parse_status_entries({"credentialStatus": ["nope"]})


def test_optional_entry_fields() -> None:
    (entry,) = parse_status_entries({"credentialStatus": GOOD_ENTRY | {
        "statusReference": "https://example.com/why",
        "statusMessage": [{"status": "0x0", "message": "valid"}, {"status": "0x1", "message": "revoked"}],
    }})
    assert entry.references == ("https://example.com/why",)
    assert entry.messages == {0: "valid", 1: "revoked"}
    assert entry.lenient_index is False


# --- building, then checking ----------------------------------------------------------------------------

LIST_URL = "https://status.example.eu/lists/7"
FROM = datetime(2025, 1, 1, 12, 0, 0, 500, tzinfo=UTC)


def test_build_exact_shape() -> None:
    bits = Bitstring()
    bits.set(42)
    credential = build_status_list_credential(
        LIST_URL, "did:web:issuer.example.eu", "revocation", bits, FROM, 300_000, FROM + timedelta(days=1)
    )
    assert credential == {
        "@context": [VC_V2_CONTEXT],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:web:issuer.example.eu",
        "validFrom": "2025-01-01T12:00:00Z",
        "validUntil": "2025-01-02T12:00:00Z",
        "credentialSubject": {
            "id": LIST_URL + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": credential["credentialSubject"]["encodedList"],
            "ttl": 300_000,
        },
    }
    assert list(credential) == [
        "@context", "id", "type", "issuer", "validFrom", "validUntil", "credentialSubject"
    ]
    assert decode_list(credential["credentialSubject"]["encodedList"], lenient_legacy=False).bits == bits


def test_build_matches_the_rec_example_shape() -> None:
    rec_list = load("rec/section-2.2-statuslist-unsecured.json")
    rec_from = datetime(2021, 4, 5, 14, 27, 40, tzinfo=UTC)
    built = build_status_list_credential(
        rec_list["id"], rec_list["issuer"], "revocation", Bitstring(), rec_from
    )
    assert list(built) == list(rec_list)
    assert {k: v for k, v in built.items() if k != "credentialSubject"} == {
        k: v for k, v in rec_list.items() if k != "credentialSubject"
    }
    assert list(built["credentialSubject"]) == list(rec_list["credentialSubject"])
    assert decode_list(built["credentialSubject"]["encodedList"]).bits.to_bytes() == bytes(16_384)


def test_build_multi_purpose_and_issuer_object() -> None:
    issuer = {"id": "did:web:issuer.example.eu", "name": "Example University"}
    purposes = ["revocation", "suspension"]
    credential = build_status_list_credential(LIST_URL, issuer, purposes, Bitstring(), FROM)
    assert credential["credentialSubject"]["statusPurpose"] == ["revocation", "suspension"]
    assert credential["issuer"] == issuer
    assert "validUntil" not in credential and "ttl" not in credential["credentialSubject"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"list_url": "https://status.example.eu/lists/7#frag"},
        {"list_url": "lists/7"},
        {"purpose": []},
        {"purpose": ""},
        {"ttl_ms": -1},
        {"valid_until": FROM},
        {"valid_from": datetime(2025, 1, 1)},
    ],
)
def test_build_refuses_bad_input(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "list_url": LIST_URL,
        "issuer": "did:web:x",
        "purpose": "revocation",
        "bits": Bitstring(),
        "valid_from": FROM,
    } | kwargs
    with pytest.raises(ValueError):
        build_status_list_credential(**args)


def test_build_refuses_short_lists() -> None:
    with pytest.raises(StatusListLengthError):
        build_status_list_credential(LIST_URL, "did:web:x", "revocation", Bitstring(1024, minimum=8), FROM)
    with pytest.raises(StatusListLengthError):
        build_status_list_credential(LIST_URL, "did:web:x", "message", Bitstring(), FROM, status_size=2)


def test_status_entry_matches_the_rec_example() -> None:
    rec_entry = load("rec/section-2.1-credential-unsecured.json")["credentialStatus"][0]
    assert status_entry("https://example.com/credentials/status/3", 94567, "revocation") == rec_entry


def test_status_entry_refuses_bad_input() -> None:
    for index in (-1, True):
        with pytest.raises(ValueError):
            status_entry(LIST_URL, index, "revocation")
    with pytest.raises(ValueError):
        status_entry(LIST_URL, 1, "")
    with pytest.raises(ValueError):
        status_entry(LIST_URL, 1, "message", status_size=2, status_messages={0: "a", 1: "b"})
    with pytest.raises(ValueError):
        status_entry(LIST_URL, 1, "message", status_size=0, status_messages={})


def test_build_then_check_round_trip() -> None:
    bits = Bitstring()
    bits.set(1234)
    purposes = ["revocation", "suspension"]
    status_list = build_status_list_credential(LIST_URL, "did:web:x", purposes, bits, FROM)
    credential = {"credentialStatus": [
        status_entry(LIST_URL, 1234, "revocation"), status_entry(LIST_URL, 1235, "suspension")
    ]}
    entries = parse_status_entries(credential)
    revoked, suspended = (check_status(entry, status_list, NOW, proofs_verified=True) for entry in entries)
    assert (revoked.valid, revoked.status, revoked.legacy_encoding) == (False, 1, False)
    assert (suspended.valid, suspended.status, suspended.purpose) == (True, 0, "suspension")


def test_status_size_two_with_messages() -> None:
    messages = {0: "valid", 1: "pending review", 2: "suspended", 3: "revoked"}
    bits = Bitstring(2 * 131_072)
    bits.set_status(5, 3, 2)
    status_list = build_status_list_credential(LIST_URL, "did:web:x", "message", bits, FROM, status_size=2)
    entry_json = status_entry(LIST_URL, 5, "message", status_size=2, status_messages=messages)
    assert entry_json["statusMessage"][3] == {"status": "0x3", "message": "revoked"}
    (entry,) = parse_status_entries({"credentialStatus": entry_json})
    result = check_status(entry, status_list, NOW, proofs_verified=True)
    assert (result.status, result.valid, result.message) == (3, False, "revoked")
    (other,) = parse_status_entries({"credentialStatus": entry_json | {"statusListIndex": "6"}})
    assert check_status(other, status_list, NOW, proofs_verified=True).message == "valid"


def test_status_size_two_on_a_minimum_list_is_too_short() -> None:
    messages = {0: "a", 1: "b", 2: "c", 3: "d"}
    status_list = build_status_list_credential(LIST_URL, "did:web:x", "message", Bitstring(), FROM)
    (entry,) = parse_status_entries(
        {"credentialStatus": status_entry(LIST_URL, 5, "message", status_size=2, status_messages=messages)}
    )
    with pytest.raises(StatusListLengthError):
        check_status(entry, status_list, NOW, proofs_verified=True)


def test_xsd_datetime_is_utc() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=2))
    assert xsd_datetime(datetime(2025, 5, 15, 14, 0, tzinfo=paris)) == "2025-05-15T12:00:00Z"


# --- problem details ------------------------------------------------------------------------------------


def test_problem_details() -> None:
    with pytest.raises(StatusListLengthError) as info:
        check_fixture("test-suite/sl-encoded-list-short-fail.jsonld")
    details = info.value.problem_details()
    assert details["type"] == "https://www.w3.org/ns/credentials/status-list#STATUS_LIST_LENGTH_ERROR"
    assert details["code"] == "STATUS_LIST_LENGTH_ERROR"
    assert details["detail"] == info.value.message
    assert StatusRetrievalError("x").retriable is True and StatusVerificationError("x").retriable is False
    assert RangeError("x").problem_type == "https://www.w3.org/TR/vc-data-model#RANGE_ERROR"
    assert MalformedValueError("x").problem_type == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"


def test_unknown_list_url_is_a_retrieval_error() -> None:
    with pytest.raises(StatusRetrievalError) as info:
        dereference("https://example.com/nowhere")
    assert info.value.problem_type.endswith("#STATUS_RETRIEVAL_ERROR")
