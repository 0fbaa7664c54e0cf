"""The employer page's words, in English, Polish, German and French: labels, plain-language verdicts, and what each
check means and what to do when it did not pass. English and Polish are written here; German and French are in
:mod:`.page_text_de` and :mod:`.page_text_fr` (one module per language, merged in below).

The technical messages of :mod:`microcred.verification.messages` (cryptosuite names, DIDs, reason codes, status
list ages) are shown only in the page's "technical details"; everything a reader sees first comes from here.
``tests/unit/test_pages_i18n.py`` checks that every key exists in every language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from microcred.i18n import with_colon
from services.verifier.api.page_text_de import CHECK_PLAIN_DE, DETAIL_VALUES_DE, HEADLINES_DE, LABELS_DE
from services.verifier.api.page_text_fr import CHECK_PLAIN_FR, DETAIL_VALUES_FR, HEADLINES_FR, LABELS_FR

__all__ = ["CHECK_PLAIN", "DETAIL_VALUES", "HEADLINES", "LABELS", "LANGUAGE_NAMES"]

#: The language picker of every page: each language named in itself.
LANGUAGE_NAMES: tuple[tuple[str, str], ...] = (("en", "English"), ("pl", "Polski"), ("de", "Deutsch"),
                                               ("fr", "Français"))

_T = TypeVar("_T")


def _columns(table: Mapping[str, Mapping[str, _T]], de: Mapping[str, _T],
             fr: Mapping[str, _T]) -> Mapping[str, Mapping[str, _T]]:
    """``table`` (key -> language -> text) with the German and French columns added."""
    return {key: {**texts, **{lang: column[key] for lang, column in (("de", de), ("fr", fr)) if key in column}}
            for key, texts in table.items()}


LABELS: Mapping[str, Mapping[str, str]] = with_colon({
    "en": {
        "page_title": "Credential verification", "skip": "Skip to the result", "language": "Language",
        "verdict": "Verdict", "credential": "Credential", "details": "What the credential says",
        "checks": "Checks", "check": "Check", "result": "Result", "explanation": "What it means",
        "accreditation": "Issuer's accreditation", "no_accreditation": "No accreditation information is available.",
        "valid": "Passed", "invalid": "Failed", "unknown": "Not checked",
        "verified_at": "Verified at", "expires_at": "This share link expires at",
        "policy": "How the verdict is decided",
        "none_shared": "This share link holds no credential.",
        "home_intro": "Check a micro-credential someone gave you: paste it, or choose its file.",
        "document": "Credential or presentation (JSON or SD-JWT text)",
        "file": "Or choose a file (JSON, .jsonld, SD-JWT, PDF)",
        "file_hint": "The file is read in your browser and put into the box above; nothing is sent until you "
                     "choose Verify.",
        "submit": "Verify", "error": "The credential could not be shown", "back": "Verify another credential",
        "title": "Title", "learner": "Learner", "awarding_body": "Awarding body", "issuer": "Issuer",
        "country": "Country", "issued_at": "Date of issue", "valid_until": "Valid until",
        "learning_outcomes": "Learning outcomes", "credit_points": "Workload (credits)",
        "workload_hours": "Workload (hours)", "eqf_level": "EQF level", "assessment": "Assessment",
        "participation": "Form of participation", "supervision": "Supervision and identity verification",
        "quality_assurance": "Quality assurance", "grade": "Grade", "stackability": "Stackability",
        "prerequisites": "Prerequisites", "further_information": "Further information",
        "agency": "Accrediting agency", "framework": "Framework", "type": "Type",
        "max_eqf_level": "Highest EQF level", "accrediting_body": "Accrediting body",
        "decision_reference": "Decision",
        "self_asserted": "self-asserted", "not_vouched_title": "Issuer not vouched for.",
        "registry_logo": "Logo of {issuer}, as registered in this platform's trust registry",
        "details_self_asserted": "What the credential says (the issuer's own statements, not vouched for)",
        "not_vouched_missing": "{issuer} is not in this platform's trust registry (its register of accredited "
                               "issuers), so nobody vouches for its name, its EQF level or its quality "
                               "assurance: they are self-asserted.",
        "not_vouched_other": "{issuer} could not be confirmed by this platform's trust registry, so nobody "
                             "vouches for its name, its EQF level or its quality assurance: they are "
                             "self-asserted.",
        "valid_means": "“Valid” means only that the credential is authentic (signed with that issuer's key), in "
                       "force and not revoked.",
        "show_altered": "Show what the altered document claims",
        "altered_caption": "What the altered document claims (not true as far as anyone can tell)",
        "show_unconfirmed": "Show what the document claims (not confirmed)",
        "unconfirmed_caption": "What the document claims (its authenticity could not be confirmed)",
        "technical": "Technical details", "technical_intro": "For IT staff: the checks as the verifier reports them.",
        "code": "Code", "message": "Technical message", "document_id": "Credential identifier",
        "issuer_id": "Issuer identifier", "todo": "What to do", "print": "Print this report",
        "no_reason": "the issuer's status list does not say",
    },
    "pl": {
        "page_title": "Weryfikacja poświadczenia", "skip": "Przejdź do wyniku", "language": "Język",
        "verdict": "Wynik", "credential": "Poświadczenie", "details": "Co zawiera poświadczenie",
        "checks": "Sprawdzenia", "check": "Sprawdzenie", "result": "Wynik", "explanation": "Co to oznacza",
        "accreditation": "Akredytacja wystawcy", "no_accreditation": "Brak informacji o akredytacji.",
        "valid": "Pozytywnie", "invalid": "Negatywnie", "unknown": "Nie sprawdzono",
        "verified_at": "Zweryfikowano", "expires_at": "Ten link wygasa", "policy": "Jak ustalany jest wynik",
        "none_shared": "Ten link nie zawiera żadnego poświadczenia.",
        "home_intro": "Sprawdź otrzymane mikropoświadczenie: wklej je albo wybierz jego plik.",
        "document": "Poświadczenie lub prezentacja (tekst JSON lub SD-JWT)",
        "file": "Albo wybierz plik (JSON, .jsonld, SD-JWT, PDF)",
        "file_hint": "Plik jest odczytywany w przeglądarce i wstawiany do pola powyżej; nic nie zostaje wysłane, "
                     "dopóki nie wybierzesz „Sprawdź”.",
        "submit": "Sprawdź", "error": "Nie można wyświetlić poświadczenia",
        "back": "Sprawdź inne poświadczenie",
        "title": "Tytuł", "learner": "Uczący się", "awarding_body": "Instytucja przyznająca", "issuer": "Wystawca",
        "country": "Kraj", "issued_at": "Data wydania", "valid_until": "Ważne do",
        "learning_outcomes": "Efekty uczenia się", "credit_points": "Nakład pracy (punkty)",
        "workload_hours": "Nakład pracy (godziny)", "eqf_level": "Poziom EQF", "assessment": "Forma oceny",
        "participation": "Forma udziału", "supervision": "Nadzór i weryfikacja tożsamości",
        "quality_assurance": "Zapewnienie jakości", "grade": "Ocena", "stackability": "Możliwość łączenia",
        "prerequisites": "Wymagania wstępne", "further_information": "Dodatkowe informacje",
        "agency": "Agencja akredytująca", "framework": "Ramy", "type": "Rodzaj",
        "max_eqf_level": "Najwyższy poziom EQF", "accrediting_body": "Organ akredytujący",
        "decision_reference": "Decyzja",
        "self_asserted": "deklaracja wystawcy", "not_vouched_title": "Wystawca niepotwierdzony.",
        "registry_logo": "Logo wystawcy {issuer} według rejestru zaufania tej platformy",
        "details_self_asserted": "Co zawiera poświadczenie (deklaracje samego wystawcy, niepotwierdzone)",
        "not_vouched_missing": "{issuer} nie figuruje w rejestrze akredytowanych wystawców tej platformy, więc nikt "
                               "nie potwierdza jego nazwy, poziomu EQF ani zapewnienia jakości: to deklaracje "
                               "samego wystawcy.",
        "not_vouched_other": "Rejestr akredytowanych wystawców tej platformy nie potwierdził wystawcy {issuer}, "
                             "więc nikt nie potwierdza jego nazwy, poziomu EQF ani zapewnienia jakości: to "
                             "deklaracje samego wystawcy.",
        "valid_means": "„Ważne” oznacza tylko, że poświadczenie jest autentyczne (podpisane kluczem tego "
                       "wystawcy), obowiązuje i nie zostało unieważnione.",
        "show_altered": "Pokaż, co twierdzi zmieniony dokument",
        "altered_caption": "Co twierdzi zmieniony dokument (według wszelkiej wiedzy nieprawda)",
        "show_unconfirmed": "Pokaż, co twierdzi dokument (niepotwierdzone)",
        "unconfirmed_caption": "Co twierdzi dokument (nie udało się potwierdzić jego autentyczności)",
        "technical": "Szczegóły techniczne",
        "technical_intro": "Dla działu IT: sprawdzenia w postaci, w jakiej podaje je weryfikator.",
        "code": "Kod", "message": "Komunikat techniczny", "document_id": "Identyfikator poświadczenia",
        "issuer_id": "Identyfikator wystawcy", "todo": "Co zrobić", "print": "Drukuj ten raport",
        "no_reason": "lista statusów wystawcy go nie podaje",
    },
    "de": LABELS_DE,
    "fr": LABELS_FR,
})

#: Headline of each kind of outcome: (title, sentence). Placeholders: {issuer}, {date}, {reason}, {checks}.
_HEADLINES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "valid": {
        "en": ("Valid", "Authentic, issued by {issuer}, in force, and neither revoked nor suspended."),
        "pl": ("Ważne", "Autentyczne, wystawione przez: {issuer}, obowiązuje, nie zostało unieważnione ani "
                        "zawieszone."),
    },
    "altered": {
        "en": ("Altered or forged: do not rely on this document",
               "Its digital seal does not match its content: it was changed after it was issued, or it was not "
               "issued by whom it names. Nothing it says can be taken as true."),
        "pl": ("Zmieniony lub podrobiony: nie polegaj na tym dokumencie",
               "Jego cyfrowa pieczęć nie zgadza się z treścią: zmieniono go po wydaniu albo nie wydał go ten, kogo "
               "wskazuje. Niczego, co zawiera, nie można uznać za prawdę."),
    },
    "unreadable": {
        "en": ("Not a credential this page can check",
               "The document is not a verifiable credential in a form this verifier reads (failed: {checks}). "
               "Nothing it says has been checked."),
        "pl": ("To nie jest poświadczenie, które ta strona umie sprawdzić",
               "Dokument nie jest weryfikowalnym poświadczeniem w postaci odczytywanej przez ten weryfikator "
               "(negatywnie: {checks}). Niczego, co zawiera, nie sprawdzono."),
    },
    "unsigned": {
        "en": ("Not signed: nothing shows who issued it",
               "The document carries no digital seal, so anyone could have written it. Nothing it says can be "
               "taken as true."),
        "pl": ("Niepodpisany: nic nie wskazuje, kto go wydał",
               "Dokument nie ma cyfrowej pieczęci, więc mógł go napisać ktokolwiek. Niczego, co zawiera, nie "
               "można uznać za prawdę."),
    },
    "revoked": {
        "en": ("Revoked by the issuer",
               "{issuer} has withdrawn this credential: it is no longer valid. Its status list, read on {date}, "
               "marks it revoked. Reason: {reason}."),
        "pl": ("Unieważnione przez wystawcę",
               "{issuer} wycofał(a) to poświadczenie: nie jest już ważne. Lista statusów odczytana {date} oznacza "
               "je jako unieważnione. Powód: {reason}."),
    },
    "suspended": {
        "en": ("Suspended by the issuer",
               "Suspended by the issuer since at least {date} (its status list, read then, marks it suspended), "
               "reason: {reason}. It is not valid while suspended; a suspension can be lifted, so check again "
               "later."),
        "pl": ("Zawieszone przez wystawcę",
               "Zawieszone przez wystawcę co najmniej od {date} (tak oznacza je odczytana wtedy lista statusów), "
               "powód: {reason}. Zawieszone nie jest ważne; zawieszenie można cofnąć, więc sprawdź ponownie "
               "później."),
    },
    "expired": {
        "en": ("Expired", "The credential was valid until {date}. It is authentic, but no longer in force."),
        "pl": ("Wygasło", "Poświadczenie było ważne do {date}. Jest autentyczne, ale już nie obowiązuje."),
    },
    "not_yet_valid": {
        "en": ("Not yet valid", "The credential is valid only from {date}."),
        "pl": ("Jeszcze nieważne", "Poświadczenie jest ważne dopiero od {date}."),
    },
    "invalid": {
        "en": ("Not valid", "These checks failed: {checks}."),
        "pl": ("Nieważne", "Te sprawdzenia zakończyły się niepowodzeniem: {checks}."),
    },
    "undetermined": {
        "en": ("Could not be fully checked",
               "These checks could not be carried out: {checks}. Do not treat the credential as valid until they "
               "can be."),
        "pl": ("Nie udało się w pełni sprawdzić",
               "Tych sprawdzeń nie udało się przeprowadzić: {checks}. Nie traktuj poświadczenia jako ważnego, "
               "dopóki nie będzie to możliwe."),
    },
}

#: Per check: (what it means, what to do when it failed, what to do when it could not be checked).
_CHECK_PLAIN: Mapping[str, Mapping[str, tuple[str, str, str]]] = {
    "format": {
        "en": ("The file is a digital credential in a recognised standard format.",
               "Ask the holder for the original file from their wallet.",
               "Ask the holder for the original file from their wallet."),
        "pl": ("Plik jest cyfrowym poświadczeniem w uznanym, standardowym formacie.",
               "Poproś posiadacza o oryginalny plik z jego portfela.",
               "Poproś posiadacza o oryginalny plik z jego portfela."),
    },
    "eu_elements": {
        "en": ("It contains every element the EU requires of a micro-credential (learner, provider, learning "
               "outcomes, workload, level, assessment…).",
               "It may be genuine, but it is not a complete EU micro-credential: ask the issuer.",
               "Try again later."),
        "pl": ("Zawiera wszystkie elementy wymagane przez UE od mikropoświadczenia (uczący się, dostawca, efekty "
               "uczenia się, nakład pracy, poziom, forma oceny…).",
               "Może być autentyczne, ale nie jest pełnym mikropoświadczeniem UE: zapytaj wystawcę.",
               "Spróbuj ponownie później."),
    },
    "signature": {
        "en": ("The issuer's digital seal matches the content: nothing was changed after it was issued.",
               "Do not rely on this document. Ask the holder for the original from their wallet, or ask the "
               "issuer.",
               "Try again later; if it persists, ask the issuer."),
        "pl": ("Cyfrowa pieczęć wystawcy zgadza się z treścią: nic nie zmieniono po wydaniu.",
               "Nie polegaj na tym dokumencie. Poproś posiadacza o oryginał z jego portfela albo zapytaj "
               "wystawcę.",
               "Spróbuj ponownie później; jeśli to się powtarza, zapytaj wystawcę."),
    },
    "issuer_identity": {
        "en": ("The seal was made with a key that belongs to the issuer the credential names.",
               "Do not rely on this document: it was not sealed by the issuer it names.",
               "Try again later; if it persists, ask the issuer."),
        "pl": ("Pieczęć złożono kluczem należącym do wystawcy wskazanego w poświadczeniu.",
               "Nie polegaj na tym dokumencie: nie opieczętował go wskazany wystawca.",
               "Spróbuj ponownie później; jeśli to się powtarza, zapytaj wystawcę."),
    },
    "accreditation": {
        "en": ("The issuer is in this platform's register of accredited providers, for this level.",
               "Ask the issuer or its accrediting agency about its accreditation.",
               "The issuer's standing could not be confirmed: ask the issuer or its accrediting agency."),
        "pl": ("Wystawca figuruje w rejestrze akredytowanych dostawców tej platformy, dla tego poziomu.",
               "Zapytaj wystawcę lub jego agencję akredytującą o akredytację.",
               "Nie udało się potwierdzić statusu wystawcy: zapytaj wystawcę lub jego agencję akredytującą."),
    },
    "validity_window": {
        "en": ("Today is within the dates the credential is valid.",
               "Ask the holder for a current credential, or ask the issuer whether it was renewed.",
               "Try again later."),
        "pl": ("Dzisiejsza data mieści się w okresie ważności poświadczenia.",
               "Poproś posiadacza o aktualne poświadczenie albo zapytaj wystawcę, czy je odnowiono.",
               "Spróbuj ponownie później."),
    },
    "revocation": {
        "en": ("The issuer has not withdrawn the credential.",
               "Ask the issuer if you need to know why it was withdrawn.",
               "The issuer's list of withdrawn credentials could not be read: try again later."),
        "pl": ("Wystawca nie wycofał poświadczenia.",
               "Zapytaj wystawcę, jeśli chcesz poznać powód wycofania.",
               "Nie udało się odczytać listy wycofanych poświadczeń wystawcy: spróbuj ponownie później."),
    },
    "suspension": {
        "en": ("The issuer has not suspended the credential.",
               "Ask the issuer; a suspension may be lifted, so check again later.",
               "The issuer's list of suspended credentials could not be read: try again later."),
        "pl": ("Wystawca nie zawiesił poświadczenia.",
               "Zapytaj wystawcę; zawieszenie może zostać cofnięte, więc sprawdź ponownie później.",
               "Nie udało się odczytać listy zawieszonych poświadczeń wystawcy: spróbuj ponownie później."),
    },
    "holder_binding": {
        "en": ("The person presenting the credential is the one it was issued to.",
               "Ask the holder to present it again from their own wallet.",
               "Ask the holder to present it again from their own wallet."),
        "pl": ("Osoba przedstawiająca poświadczenie jest tą, której je wydano.",
               "Poproś posiadacza, by przedstawił je ponownie ze swojego portfela.",
               "Poproś posiadacza, by przedstawił je ponownie ze swojego portfela."),
    },
    "disclosures": {
        "en": ("The parts the holder chose to reveal are the ones the issuer sealed.",
               "Do not rely on this document: a revealed part was not sealed by the issuer.",
               "Try again later."),
        "pl": ("Części ujawnione przez posiadacza to te, które opieczętował wystawca.",
               "Nie polegaj na tym dokumencie: ujawniona część nie pochodzi od wystawcy.",
               "Spróbuj ponownie później."),
    },
    "type_metadata": {
        "en": ("The credential's type is one this verifier knows, and its content fits that type.",
               "Ask the issuer which type of credential this is meant to be.",
               "Try again later."),
        "pl": ("Typ poświadczenia jest znany weryfikatorowi, a treść do niego pasuje.",
               "Zapytaj wystawcę, jakiego typu ma być to poświadczenie.",
               "Spróbuj ponownie później."),
    },
}

HEADLINES: Mapping[str, Mapping[str, tuple[str, str]]] = _columns(_HEADLINES, HEADLINES_DE, HEADLINES_FR)
CHECK_PLAIN: Mapping[str, Mapping[str, tuple[str, str, str]]] = _columns(_CHECK_PLAIN, CHECK_PLAIN_DE, CHECK_PLAIN_FR)

#: Detail values the technical messages show, in the reader's language (the verifier reports them in English).
DETAIL_VALUES: Mapping[str, Mapping[str, str]] = {
    "pl": {"credential": "poświadczenie", "presentation": "prezentacja",
           "did:web (trust registry)": "did:web (rejestr zaufania)", "revocation": "unieważnienie",
           "suspension": "zawieszenie", "controller document": "dokument kontrolera"},
    "de": DETAIL_VALUES_DE,
    "fr": DETAIL_VALUES_FR,
}
