"""The verdict policy and the message catalogue."""

from __future__ import annotations

import pytest

from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, unknown, valid
from microcred.verification.messages import CHECK_TITLES, LANGUAGES, MESSAGES, VERDICTS, pick_language, render
from microcred.verification.policy import Verdict, combine, decide, required_checks

REQUIRED = required_checks(presentation=False, micro_credential=False)


def all_valid() -> list[CheckResult]:
    return [valid(c, Reason.FORMAT_OK) for c in CheckId if c is not CheckId.HOLDER_BINDING]


def replace(results: list[CheckResult], new: CheckResult) -> list[CheckResult]:
    return [new if r.id is new.id else r for r in results]


def test_all_valid_is_valid() -> None:
    assert decide(all_valid(), REQUIRED) is Verdict.VALID


@pytest.mark.parametrize("check", list(CheckId))
def test_any_invalid_is_invalid(check: CheckId) -> None:
    assert decide([*all_valid(), invalid(check, Reason.INTERNAL_ERROR)], REQUIRED) is Verdict.INVALID


@pytest.mark.parametrize("check", sorted(REQUIRED))
def test_unknown_required_check_is_undetermined(check: CheckId) -> None:
    results = replace(all_valid(), unknown(check, Reason.INTERNAL_ERROR))
    assert decide(results, REQUIRED) is Verdict.UNDETERMINED


def test_advisory_unknowns_do_not_block_valid_but_do_for_micro_credentials() -> None:
    results = replace(all_valid(), unknown(CheckId.ACCREDITATION, Reason.ISSUER_NOT_IN_REGISTRY))
    results = replace(results, unknown(CheckId.EU_ELEMENTS, Reason.NOT_A_MICRO_CREDENTIAL))
    assert decide(results, REQUIRED) is Verdict.VALID
    micro = required_checks(presentation=False, micro_credential=True)
    assert decide(results, micro) is Verdict.UNDETERMINED


def test_a_missing_required_check_is_undetermined() -> None:
    results = [r for r in all_valid() if r.id is not CheckId.REVOCATION]
    assert decide(results, REQUIRED) is Verdict.UNDETERMINED


def test_combine_takes_the_worst() -> None:
    assert combine([Verdict.VALID, Verdict.UNDETERMINED]) is Verdict.UNDETERMINED
    assert combine([Verdict.UNDETERMINED, Verdict.INVALID, Verdict.VALID]) is Verdict.INVALID
    assert combine([]) is Verdict.UNDETERMINED


def test_every_reason_check_and_verdict_has_every_language() -> None:
    assert set(MESSAGES) == {r.value for r in Reason}
    for table in (MESSAGES, CHECK_TITLES, VERDICTS):
        for key, texts in table.items():
            assert set(texts) == set(LANGUAGES), key
    assert set(CHECK_TITLES) == {c.value for c in CheckId}
    assert set(VERDICTS) == {v.value for v in Verdict}


def test_render_fills_details_and_tolerates_missing_ones() -> None:
    assert "assessment, level" in render("EU_ELEMENTS_MISSING", "en", {"missing": ["assessment", "level"]})
    assert "?" in render("KEY_NOT_OF_ISSUER", "pl", {})
    assert render("NOT_A_CODE", "en", {}) == "NOT_A_CODE"


@pytest.mark.parametrize(("requested", "header", "expected"), [
    ("pl", "en", "pl"), (None, "pl-PL,pl;q=0.9,en;q=0.8", "pl"), (None, "de-DE, en;q=0.5", "de"),
    (None, "en;q=0.4, pl;q=0.6", "pl"), ("xx", None, "en"), (None, "*", "en"), (None, "pl;q=0", "en"),
    (None, "fr-BE", "fr"), ("de-AT", None, "de"), (None, "it-IT, en;q=0.5", "en"),
])
def test_language_choice(requested: str | None, header: str | None, expected: str) -> None:
    assert pick_language(requested, header) == expected


def test_an_unknown_language_falls_back_to_english() -> None:
    from microcred.verification.messages import check_title, verdict_text

    assert LANGUAGES == ("en", "pl", "de", "fr")
    assert render("EXPIRED", "it", {"valid_until": "2025"}) == render("EXPIRED", "en", {"valid_until": "2025"})
    assert check_title("signature", "xx") == "Digital signature"
    assert verdict_text("valid", "") == VERDICTS["valid"]["en"]
    assert render("REVOKED", "de", {}) == "Der Aussteller hat diesen Nachweis widerrufen."
    assert check_title("disclosures", "fr") == "Divulgations sélectives"  # the SD-JWT VC checks too


def test_every_message_shows_its_details_as_the_full_conversion_would() -> None:
    # render() converts only the details a text names; the text must be what converting all of them gives.
    import string

    from microcred.verification import messages

    for code, texts in messages.MESSAGES.items():
        for lang, text in texts.items():
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            for details in ({name: [name, 1] for name in names} | {"extra": ("x",), "other": 3}, {"extra": 1}):
                full = text.format_map(messages._Lenient({k: messages._text(v) for k, v in details.items()}))
                assert messages.render(code, lang, details) == full
