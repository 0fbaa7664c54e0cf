"""Human messages for reason codes, check names and verdicts, in English, Polish, German and French.

Messages are templates over a check's ``details`` (``{field}``, ``{missing}``...); a placeholder the details
lack renders as "?" rather than failing, and lists render comma-separated. Keys are the plain string values of
:class:`~microcred.verification.checks.Reason` / ``CheckId`` / ``Verdict`` so this module imports nothing from
them (no cycle). English and Polish are written here; German and French are columns of their own modules
(:mod:`.messages_de`, :mod:`.messages_fr`) merged in below. Adding a language means adding one column;
``tests/unit/test_verification_policy.py`` checks that every code has every language. A language without a text
falls back to English.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from microcred.i18n import accepted_languages
from microcred.sdjwt.result import SD_JWT_CHECK_TITLES, SD_JWT_MESSAGES
from microcred.verification.messages_de import CHECK_TITLES_DE, MESSAGES_DE, VERDICTS_DE
from microcred.verification.messages_fr import CHECK_TITLES_FR, MESSAGES_FR, VERDICTS_FR

__all__ = ["CHECK_TITLES", "LANGUAGES", "MESSAGES", "VERDICTS", "check_title", "pick_language", "render",
           "verdict_text"]

LANGUAGES: tuple[str, ...] = ("en", "pl", "de", "fr")

_MESSAGES: Mapping[str, Mapping[str, str]] = {
    # format
    "FORMAT_OK": {"en": "The document is a well-formed {kind} (VC Data Model {vc_version}).",
                  "pl": "Dokument jest poprawnie zbudowanym dokumentem typu {kind} (model danych VC {vc_version})."},
    "NOT_JSON_OBJECT": {"en": "The document is not a JSON object.",
                        "pl": "Dokument nie jest obiektem JSON."},
    "INVALID_CONTEXT": {"en": "The @context is not valid: {problem}.",
                        "pl": "Pole @context jest nieprawidłowe: {problem}."},
    "UNKNOWN_CONTEXT": {"en": "The document uses a JSON-LD context this verifier does not hold ({context}); "
                              "remote contexts are never fetched, so it could not be checked.",
                        "pl": "Dokument używa kontekstu JSON-LD, którego weryfikator nie posiada ({context}); "
                              "zdalne konteksty nie są pobierane, więc nie można go sprawdzić."},
    "NOT_A_CREDENTIAL": {"en": "The document's type does not include VerifiableCredential.",
                         "pl": "Typ dokumentu nie obejmuje VerifiableCredential."},
    "NOT_A_PRESENTATION": {"en": "The document's type does not include VerifiablePresentation.",
                           "pl": "Typ dokumentu nie obejmuje VerifiablePresentation."},
    "MISSING_FIELD": {"en": "The required field {field} is missing.",
                      "pl": "Brak wymaganego pola {field}."},
    "INVALID_FIELD": {"en": "The field {field} is not valid: {problem}.",
                      "pl": "Pole {field} jest nieprawidłowe: {problem}."},
    "OB3_PROFILE_VIOLATION": {"en": "The Open Badges 3.0 profile is not met: {problem}.",
                              "pl": "Dokument nie spełnia profilu Open Badges 3.0: {problem}."},
    "UNDEFINED_TERM": {"en": "The document uses a term that none of its contexts defines: {problem}.",
                       "pl": "Dokument używa pojęcia, którego nie definiuje żaden z jego kontekstów: {problem}."},
    "JSONLD_ERROR": {"en": "The document is not valid JSON-LD: {problem}.",
                     "pl": "Dokument nie jest poprawnym JSON-LD: {problem}."},
    "NOT_COMPACTED": {"en": "The document is not in the compacted form of its contexts ({field}): {problem}. "
                            "Its JSON could be read differently from what was signed, so it is not read.",
                      "pl": "Dokument nie jest w postaci skompaktowanej swoich kontekstów ({field}): {problem}. "
                            "Jego JSON mógłby znaczyć co innego niż to, co podpisano, więc nie jest odczytywany."},
    "TOO_COMPLEX": {"en": "The document is too complex to verify within this verifier's limits ({field}): "
                          "{problem}.",
                    "pl": "Dokument jest zbyt złożony, by go sprawdzić w granicach tego weryfikatora ({field}): "
                          "{problem}."},
    "NOT_CHECKED": {"en": "Not checked: {problem}.",
                    "pl": "Nie sprawdzono: {problem}."},
    "DATA_MODEL_VIOLATION": {"en": "The document breaks the VC Data Model rule {rule} ({field}): {problem}.",
                             "pl": "Dokument narusza regułę modelu danych VC {rule} ({field}): {problem}."},
    "DATA_MODEL_UNCHECKED": {"en": "The VC Data Model rule {rule} ({field}) could not be checked: {problem}.",
                             "pl": "Nie można było sprawdzić reguły modelu danych VC {rule} ({field}): {problem}."},
    # EU elements
    "EU_ELEMENTS_PRESENT": {"en": "All mandatory elements of the EU Council Recommendation on micro-credentials "
                                  "are present.",
                            "pl": "Wszystkie obowiązkowe elementy zalecenia Rady UE w sprawie mikropoświadczeń "
                                  "są obecne."},
    "EU_ELEMENTS_MISSING": {"en": "Mandatory EU micro-credential elements are missing: {missing}.",
                            "pl": "Brak obowiązkowych elementów mikropoświadczenia UE: {missing}."},
    "NOT_A_MICRO_CREDENTIAL": {"en": "The credential does not declare itself an EU micro-credential, so the EU "
                                     "elements were not required.",
                               "pl": "Poświadczenie nie deklaruje, że jest mikropoświadczeniem UE, więc elementy UE "
                                     "nie były wymagane."},
    # signature
    "SIGNATURE_VALID": {"en": "The digital signature ({suite}) is valid: the content has not been changed.",
                        "pl": "Podpis cyfrowy ({suite}) jest prawidłowy: treść nie została zmieniona."},
    "NO_PROOF": {"en": "The document carries no digital signature.",
                 "pl": "Dokument nie ma podpisu cyfrowego."},
    "INVALID_SIGNATURE": {"en": "The digital signature does not match the content: the document was altered "
                                "or not signed by this key.",
                          "pl": "Podpis cyfrowy nie zgadza się z treścią: dokument został zmieniony albo nie "
                                "został podpisany tym kluczem."},
    "MALFORMED_PROOF": {"en": "The signature block is malformed: {problem}.",
                        "pl": "Blok podpisu jest nieprawidłowy: {problem}."},
    "CANONICALIZATION_ERROR": {"en": "The signed data could not be put in canonical form: {problem}.",
                               "pl": "Podpisanych danych nie można sprowadzić do postaci kanonicznej: {problem}."},
    "PROOF_PURPOSE_MISMATCH": {"en": "The signature was made for another purpose: {problem}.",
                               "pl": "Podpis złożono w innym celu: {problem}."},
    "PROOF_EXPIRED": {"en": "The signature has expired: {problem}.",
                      "pl": "Podpis wygasł: {problem}."},
    "CONTEXT_MISMATCH": {"en": "The signature covers different JSON-LD contexts: {problem}.",
                         "pl": "Podpis obejmuje inne konteksty JSON-LD: {problem}."},
    "UNSUPPORTED_CRYPTOSUITE": {"en": "The signature uses a suite this verifier does not support ({problem}).",
                                "pl": "Podpis używa algorytmu, którego weryfikator nie obsługuje ({problem})."},
    "KEY_NOT_FOUND": {"en": "The signing key could not be obtained, so the signature could not be checked "
                            "({problem}).",
                      "pl": "Nie udało się uzyskać klucza podpisu, więc podpisu nie sprawdzono ({problem})."},
    # issuer identity
    "ISSUER_KEY_VALID": {"en": "The signing key belongs to the issuer {issuer} ({method}) and was valid when "
                               "the credential was signed.",
                         "pl": "Klucz podpisu należy do wystawcy {issuer} ({method}) i był ważny w chwili "
                               "podpisania poświadczenia."},
    "ISSUER_UNRESOLVABLE": {"en": "The issuer {issuer} could not be resolved, so it is unknown whether the signing "
                                  "key belongs to it.",
                            "pl": "Nie udało się ustalić wystawcy {issuer}, więc nie wiadomo, czy klucz podpisu "
                                  "do niego należy."},
    "KEY_NOT_OF_ISSUER": {"en": "The signing key {verification_method} does not belong to the issuer {issuer}.",
                          "pl": "Klucz podpisu {verification_method} nie należy do wystawcy {issuer}."},
    "KEY_RETIRED": {"en": "The signing key had been retired before the signature was made ({problem}).",
                    "pl": "Klucz podpisu został wycofany przed złożeniem podpisu ({problem})."},
    "KEY_NOT_YET_VALID": {"en": "The signing key was not yet registered when the signature was made ({problem}).",
                          "pl": "Klucz podpisu nie był jeszcze zarejestrowany w chwili podpisu ({problem})."},
    "UNKNOWN_VERIFICATION_METHOD": {"en": "The issuer has no such signing key ({problem}).",
                                    "pl": "Wystawca nie ma takiego klucza podpisu ({problem})."},
    "NO_VERIFICATION_METHOD": {"en": "No signature names a signing key, so the issuer's identity could not be "
                                     "established.",
                               "pl": "Żaden podpis nie wskazuje klucza, więc nie ustalono tożsamości wystawcy."},
    # accreditation
    "ACCREDITED": {"en": "The issuer is accredited by {agency} under {framework} (up to EQF level {max_eqf_level}).",
                   "pl": "Wystawca jest akredytowany przez {agency} w ramach {framework} (do poziomu EQF "
                         "{max_eqf_level})."},
    "ISSUER_NOT_IN_REGISTRY": {"en": "The issuer {issuer} is not in this trust registry; its accreditation could "
                                     "not be checked.",
                               "pl": "Wystawcy {issuer} nie ma w tym rejestrze zaufania; nie można sprawdzić jego "
                                     "akredytacji."},
    "NOT_ACCREDITED": {"en": "The issuer is registered but holds no accreditation.",
                       "pl": "Wystawca jest zarejestrowany, ale nie ma akredytacji."},
    "ACCREDITATION_SUSPENDED": {"en": "The issuer's accreditation is suspended ({problem}).",
                                "pl": "Akredytacja wystawcy jest zawieszona ({problem})."},
    "ACCREDITATION_WITHDRAWN": {"en": "The issuer's accreditation was withdrawn ({problem}).",
                                "pl": "Akredytacja wystawcy została cofnięta ({problem})."},
    "ACCREDITATION_EXPIRED": {"en": "The issuer's accreditation had expired when the credential was issued "
                                    "({problem}).",
                              "pl": "Akredytacja wystawcy wygasła przed wydaniem poświadczenia ({problem})."},
    "ACCREDITATION_NOT_YET_VALID": {"en": "The issuer's accreditation was not yet in force when the credential "
                                          "was issued ({problem}).",
                                    "pl": "Akredytacja wystawcy nie obowiązywała jeszcze w chwili wydania "
                                          "poświadczenia ({problem})."},
    "EQF_LEVEL_NOT_ALLOWED": {"en": "The issuer is not accredited for this EQF level ({problem}).",
                              "pl": "Wystawca nie ma akredytacji na ten poziom EQF ({problem})."},
    "REGISTRY_UNAVAILABLE": {"en": "The trust registry could not be read ({problem}).",
                             "pl": "Nie udało się odczytać rejestru zaufania ({problem})."},
    # validity window
    "WITHIN_VALIDITY": {"en": "The credential is within its validity period.",
                        "pl": "Poświadczenie jest w okresie ważności."},
    "NOT_YET_VALID": {"en": "The credential is not valid before {valid_from}.",
                      "pl": "Poświadczenie nie jest ważne przed {valid_from}."},
    "EXPIRED": {"en": "The credential expired at {valid_until}.",
                "pl": "Poświadczenie wygasło {valid_until}."},
    # status
    "NOT_REVOKED": {"en": "The credential has not been revoked (status list checked {age_seconds} s after its "
                          "last update).",
                    "pl": "Poświadczenie nie zostało unieważnione (listę statusów sprawdzono {age_seconds} s po jej "
                          "ostatniej aktualizacji)."},
    "NOT_SUSPENDED": {"en": "The credential is not suspended (status list checked {age_seconds} s after its last "
                            "update).",
                      "pl": "Poświadczenie nie jest zawieszone (listę statusów sprawdzono {age_seconds} s po jej "
                            "ostatniej aktualizacji)."},
    "REVOKED": {"en": "The issuer has revoked this credential.",
                "pl": "Wystawca unieważnił to poświadczenie."},
    "SUSPENDED": {"en": "The issuer has suspended this credential.",
                  "pl": "Wystawca zawiesił to poświadczenie."},
    "NO_STATUS_ENTRY": {"en": "The issuer published no {purpose} status for this credential, so there is no "
                              "{purpose} to find.",
                        "pl": "Wystawca nie opublikował statusu ({purpose}) dla tego poświadczenia, więc nie ma "
                              "czego sprawdzać."},
    "UNSUPPORTED_STATUS_TYPE": {"en": "The credential uses a status mechanism this verifier does not support "
                                      "({status_type}).",
                                "pl": "Poświadczenie używa mechanizmu statusu, którego weryfikator nie obsługuje "
                                      "({status_type})."},
    "MALFORMED_STATUS_ENTRY": {"en": "The credential's status entry is malformed: {problem}.",
                               "pl": "Wpis statusu poświadczenia jest nieprawidłowy: {problem}."},
    "TOO_MANY_STATUS_ENTRIES": {"en": "The credential carries {count} status entries, more than the {limit} this "
                                      "verifier checks; its status is unknown.",
                                "pl": "Poświadczenie ma {count} wpisów statusu, więcej niż {limit} sprawdzanych przez "
                                      "weryfikator; jego status jest nieznany."},
    "STATUS_RETRIEVAL_ERROR": {"en": "The status list could not be obtained ({problem}); the status is unknown.",
                               "pl": "Nie udało się pobrać listy statusów ({problem}); status jest nieznany."},
    "STATUS_VERIFICATION_ERROR": {"en": "The status list could not be trusted ({problem}); the status is unknown.",
                                  "pl": "Liście statusów nie można ufać ({problem}); status jest nieznany."},
    "STATUS_LIST_EXPIRED": {"en": "The status list is outside its validity period ({problem}); the status is "
                                  "unknown.",
                            "pl": "Lista statusów jest poza okresem ważności ({problem}); status jest nieznany."},
    "STATUS_LIST_LENGTH_ERROR": {"en": "The status list is too short for herd privacy ({problem}).",
                                 "pl": "Lista statusów jest zbyt krótka, by chronić prywatność ({problem})."},
    "RANGE_ERROR": {"en": "The status index lies outside the status list ({problem}).",
                    "pl": "Indeks statusu leży poza listą statusów ({problem})."},
    # holder binding
    "HOLDER_BOUND": {"en": "The presentation was signed by the holder {holder} for this challenge and domain, and "
                           "the holder is the subject of every credential.",
                     "pl": "Prezentację podpisał posiadacz {holder} dla tego wyzwania i domeny, a posiadacz jest "
                           "podmiotem każdego poświadczenia."},
    "HOLDER_BOUND_NOT_SUBJECT": {"en": "The presentation was signed by the holder {holder} for this challenge and "
                                       "domain; the holder is not the subject of {credentials} (the data model "
                                       "allows this, and this verifier's policy does not require it).",
                                 "pl": "Prezentację podpisał posiadacz {holder} dla tego wyzwania i domeny; posiadacz "
                                       "nie jest podmiotem {credentials} (model danych na to pozwala, a zasady tego "
                                       "weryfikatora tego nie wymagają)."},
    "NOT_A_PRESENTATION_CHECK": {"en": "Holder binding applies to presentations only.",
                                 "pl": "Powiązanie z posiadaczem dotyczy tylko prezentacji."},
    "PRESENTATION_SIGNATURE_INVALID": {"en": "The presentation's signature is not valid ({problem}).",
                                       "pl": "Podpis prezentacji jest nieprawidłowy ({problem})."},
    "PRESENTATION_SIGNATURE_UNKNOWN": {"en": "The presentation's signature could not be checked ({problem}).",
                                       "pl": "Nie udało się sprawdzić podpisu prezentacji ({problem})."},
    "CHALLENGE_MISMATCH": {"en": "The presentation was not made for this verifier's challenge.",
                           "pl": "Prezentacja nie została przygotowana dla wyzwania tego weryfikatora."},
    "DOMAIN_MISMATCH": {"en": "The presentation was made for another domain.",
                        "pl": "Prezentacja została przygotowana dla innej domeny."},
    "NO_CHALLENGE": {"en": "No challenge was requested, so the presentation could be a replay; holder binding is "
                           "not established.",
                     "pl": "Nie podano wyzwania, więc prezentacja może być powtórzeniem; nie ustalono powiązania "
                           "z posiadaczem."},
    "HOLDER_NOT_SIGNER": {"en": "The presentation was signed by {signer}, not by its holder {holder}.",
                          "pl": "Prezentację podpisał {signer}, a nie jej posiadacz {holder}."},
    "HOLDER_NOT_SUBJECT": {"en": "The holder {holder} is not the subject of the credential {credential}.",
                           "pl": "Posiadacz {holder} nie jest podmiotem poświadczenia {credential}."},
    "SUBJECT_NOT_IDENTIFIABLE": {"en": "The credential {credential} names no subject identifier to compare with "
                                       "the holder.",
                                 "pl": "Poświadczenie {credential} nie podaje identyfikatora podmiotu, który można "
                                       "porównać z posiadaczem."},
    "INTERNAL_ERROR": {"en": "The check failed unexpectedly ({problem}); the result is unknown.",
                       "pl": "Sprawdzenie nieoczekiwanie się nie powiodło ({problem}); wynik jest nieznany."},
}



def _columns(table: Mapping[str, Mapping[str, str]], de: Mapping[str, str],
             fr: Mapping[str, str]) -> Mapping[str, Mapping[str, str]]:
    """``table`` with the German and French columns added (a key a column lacks stays without that language)."""
    return {key: {**texts, **{lang: column[key] for lang, column in (("de", de), ("fr", fr)) if key in column}}
            for key, texts in table.items()}


# The SD-JWT VC codes and titles live beside their checks (microcred.sdjwt.result imports nothing of ours); their
# German and French texts are in this package's columns.
MESSAGES: Mapping[str, Mapping[str, str]] = _columns({**_MESSAGES, **SD_JWT_MESSAGES}, MESSAGES_DE, MESSAGES_FR)

_CHECK_TITLES: Mapping[str, Mapping[str, str]] = {
    "format": {"en": "Format and schema", "pl": "Format i schemat"},
    "eu_elements": {"en": "EU mandatory elements", "pl": "Obowiązkowe elementy UE"},
    "signature": {"en": "Digital signature", "pl": "Podpis cyfrowy"},
    "issuer_identity": {"en": "Issuer identity and key", "pl": "Tożsamość i klucz wystawcy"},
    "accreditation": {"en": "Accreditation (trust registry)", "pl": "Akredytacja (rejestr zaufania)"},
    "validity_window": {"en": "Validity period", "pl": "Okres ważności"},
    "revocation": {"en": "Revocation", "pl": "Unieważnienie"},
    "suspension": {"en": "Suspension", "pl": "Zawieszenie"},
    "holder_binding": {"en": "Holder binding", "pl": "Powiązanie z posiadaczem"},
    **SD_JWT_CHECK_TITLES,
}
CHECK_TITLES: Mapping[str, Mapping[str, str]] = _columns(_CHECK_TITLES, CHECK_TITLES_DE, CHECK_TITLES_FR)

_VERDICTS: Mapping[str, Mapping[str, str]] = {
    "valid": {"en": "Valid: every required check passed.",
              "pl": "Ważne: wszystkie wymagane sprawdzenia zakończyły się powodzeniem."},
    "invalid": {"en": "Not valid: at least one check failed.",
                "pl": "Nieważne: co najmniej jedno sprawdzenie zakończyło się niepowodzeniem."},
    "undetermined": {"en": "Undetermined: some required checks could not be carried out.",
                     "pl": "Nieustalone: części wymaganych sprawdzeń nie udało się przeprowadzić."},
}
VERDICTS: Mapping[str, Mapping[str, str]] = _columns(_VERDICTS, VERDICTS_DE, VERDICTS_FR)


class _Lenient(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _text(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_text(v) for v in value)
    return str(value)


@lru_cache(maxsize=1024)
def _fields(template: str) -> frozenset[str] | None:
    """The plain field names ``template`` uses, or None when it uses any other kind (then every detail is
    converted, as before)."""
    names = set()
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or "{" in (spec or ""):  # an attribute, an index or a nested field
            return None
        names.add(name)
    return frozenset(names)


def render(code: str, lang: str, details: Mapping[str, Any]) -> str:
    """The message for reason ``code`` in ``lang`` (falling back to English) with ``details`` filled in."""
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    template = texts.get(lang) or texts["en"]
    used = _fields(template)  # only the details the text shows are turned into text (this runs per check)
    return template.format_map(_Lenient({k: _text(v) for k, v in details.items() if used is None or k in used}))


def check_title(check_id: str, lang: str) -> str:
    """The human title of a check."""
    titles = CHECK_TITLES.get(check_id, {})
    return titles.get(lang) or titles.get("en") or check_id


def verdict_text(verdict: str, lang: str) -> str:
    """A one-sentence explanation of a verdict."""
    texts = VERDICTS.get(verdict, {})
    return texts.get(lang) or texts.get("en") or verdict


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """An explicit ``requested`` language if supported, else the best Accept-Language match, else English."""
    if requested and requested.lower()[:2] in LANGUAGES:
        return requested.lower()[:2]
    for tag in accepted_languages(accept_language):
        if tag[:2] in LANGUAGES:
            return tag[:2]
    return "en"
