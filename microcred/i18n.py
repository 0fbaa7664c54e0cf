"""Language negotiation and locale formatting shared by the human pages (wallet, verifier)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal


def accepted_languages(header: str | None) -> list[str]:
    """Lower-cased language tags of an ``Accept-Language`` header, best first; ``q=0`` tags are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.strip():
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for negative_quality, _, tag in sorted(ranked) if negative_quality < 0]


# ---------------------------------------------------------------------------------------------------- formatting
# Dates, numbers and country names in the reader's locale come from Babel (CLDR data), never hand-written tables.


_LOCALES = {"en": "en_GB", "pl": "pl_PL", "de": "de_DE", "fr": "fr_FR"}  # en_GB: day-month-year, as in the EU


def _locale(lang: str) -> Any:
    return Locale.parse(_LOCALES.get(lang, "en_GB"))


def format_when(value: str | datetime | None, lang: str, *, time: bool = False) -> str:
    """An ISO 8601 text or a datetime as the reader reads a date (``14 March 2025`` / ``14 marca 2025``), with the
    hour and minute in UTC when ``time`` is set; text that is not a date is returned unchanged."""
    if value is None or value == "":
        return ""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    day = format_date(moment.date(), "long", locale=_locale(lang))
    return f"{day}, {moment:%H:%M} UTC" if time else day


def format_number(value: float | int, lang: str) -> str:
    """A number as the reader writes it: ``125`` (never ``125.0``), ``12.5`` / ``12,5``."""
    return format_decimal(value, locale=_locale(lang))


def country_name(code: str, lang: str) -> str:
    """The country's name in the reader's language for an ISO 3166 alpha-2 code (``IE`` -> ``Ireland`` /
    ``Irlandia``); anything else is returned unchanged."""
    name = _locale(lang).territories.get(code.strip().upper()) if len(code.strip()) == 2 else None
    return str(name) if name else code


#: Names of the EU micro-credential elements (Annex I of the Council Recommendation) as the human pages show
#: them, keyed like :data:`microcred.verification.summary.FIELDS`.
ELEMENT_LABELS: dict[str, dict[str, str]] = {
    "en": {"title": "Title", "learner": "Learner", "awarding_body": "Awarding body", "issuer": "Issuer",
           "country": "Country", "issued_at": "Date of issue", "valid_until": "Valid until",
           "learning_outcomes": "Learning outcomes", "credit_points": "Workload (credits)",
           "workload_hours": "Workload (hours)", "eqf_level": "EQF level", "assessment": "Assessment",
           "participation": "Form of participation", "supervision": "Supervision and identity verification",
           "quality_assurance": "Quality assurance", "grade": "Grade", "stackability": "Stackability",
           "prerequisites": "Prerequisites", "further_information": "Further information"},
    "pl": {"title": "Tytuł", "learner": "Uczący się", "awarding_body": "Instytucja przyznająca", "issuer": "Wystawca",
           "country": "Kraj", "issued_at": "Data wydania", "valid_until": "Ważne do",
           "learning_outcomes": "Efekty uczenia się", "credit_points": "Nakład pracy (punkty)",
           "workload_hours": "Nakład pracy (godziny)", "eqf_level": "Poziom EQF", "assessment": "Forma oceny",
           "participation": "Forma udziału", "supervision": "Nadzór i weryfikacja tożsamości",
           "quality_assurance": "Zapewnienie jakości", "grade": "Ocena", "stackability": "Możliwość łączenia",
           "prerequisites": "Wymagania wstępne", "further_information": "Dodatkowe informacje"},
    "de": {"title": "Titel", "learner": "Lernende Person", "awarding_body": "Verleihende Stelle",
           "issuer": "Aussteller", "country": "Land", "issued_at": "Ausstellungsdatum", "valid_until": "Gültig bis",
           "learning_outcomes": "Lernergebnisse", "credit_points": "Arbeitsaufwand (Leistungspunkte)",
           "workload_hours": "Arbeitsaufwand (Stunden)", "eqf_level": "EQR-Niveau", "assessment": "Prüfungsform",
           "participation": "Form der Teilnahme", "supervision": "Aufsicht und Identitätsprüfung",
           "quality_assurance": "Qualitätssicherung", "grade": "Note", "stackability": "Kombinierbarkeit",
           "prerequisites": "Voraussetzungen", "further_information": "Weitere Informationen"},
    "fr": {"title": "Intitulé", "learner": "Apprenant", "awarding_body": "Organisme de délivrance",
           "issuer": "Émetteur", "country": "Pays", "issued_at": "Date de délivrance",
           "valid_until": "Valable jusqu’au",
           "learning_outcomes": "Acquis d’apprentissage", "credit_points": "Charge de travail (crédits)",
           "workload_hours": "Charge de travail (heures)", "eqf_level": "Niveau CEC", "assessment": "Évaluation",
           "participation": "Forme de participation", "supervision": "Supervision et vérification d’identité",
           "quality_assurance": "Assurance qualité", "grade": "Note", "stackability": "Possibilité de combinaison",
           "prerequisites": "Prérequis", "further_information": "Informations complémentaires"},
}


#: What follows a label before its value, by language: French puts a no-break space before the colon.
_COLONS = {"fr": "\u00a0:"}


def with_colon(tables: Mapping[str, Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    """Page catalogues (language -> key -> text), each with its language's ``colon``: derived here once rather
    than written into every catalogue of every page."""
    return {lang: {**table, "colon": _COLONS.get(lang, ":")} for lang, table in tables.items()}


#: ``Stackable`` / ``Stand-alone``, the words a summary's stackability starts with, in each page language.
STACKABILITY_WORDS: dict[str, dict[str, str]] = {
    "pl": {"Stackable": "Możliwe do łączenia", "Stand-alone": "Samodzielne"},  # Annex I, Polish text
    "de": {"Stackable": "Kombinierbar", "Stand-alone": "Eigenständig"},
    "fr": {"Stackable": "Combinable", "Stand-alone": "Autonome"},
}


def _stackability(value: str, lang: str) -> str:
    """The summary's leading English word in ``lang`` (the issuer's description after it stays as written)."""
    for english, translated in STACKABILITY_WORDS.get(lang, {}).items():
        if value == english or value.startswith(english + ": "):
            return translated + value[len(english):]
    return value


def element_value(key: str, value: Any, lang: str) -> Any:
    """A summary value (:func:`microcred.verification.summary.summarize`) as the reader reads it: dates, numbers
    and country names in their locale, the stackability's word in their language; lists element by element."""
    if isinstance(value, list | tuple):
        return [element_value(key, v, lang) for v in value]
    if key == "stackability" and isinstance(value, str):
        return _stackability(value, lang)
    if key == "country" and isinstance(value, str):
        return country_name(value, lang)
    if key in ("issued_at", "valid_until", "valid_from") and isinstance(value, str):
        return format_when(value, lang)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_number(value, lang)
    return str(value)
