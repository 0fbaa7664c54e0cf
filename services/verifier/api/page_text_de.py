"""The employer pages' words in German (imported by :mod:`.page_text`, which has the English and Polish ones and
says what each table is for). Terms follow the German text of the Council Recommendation of 16 June 2022:
„Microcredential“, Lernergebnisse, Arbeitsaufwand, EQR-Niveau, Qualitätssicherung; a credential is a „Nachweis“
(as in the PDF), the learner's wallet a „Wallet“; the reader is addressed as „Sie“."""

from __future__ import annotations

from collections.abc import Mapping

from microcred.i18n import ELEMENT_LABELS

__all__ = ["CHECK_PLAIN_DE", "DETAIL_VALUES_DE", "ERROR_TEXT_DE", "HEADLINES_DE", "LABELS_DE", "LINKEDIN_DE",
           "PDF_TEXT_DE", "PRESENTATION_TEXT_DE"]

LABELS_DE: Mapping[str, str] = {
    "page_title": "Nachweis prüfen", "skip": "Zum Ergebnis springen", "language": "Sprache",
    "verdict": "Ergebnis", "credential": "Nachweis", "details": "Was der Nachweis aussagt",
    "checks": "Prüfungen", "check": "Prüfung", "result": "Ergebnis", "explanation": "Was das bedeutet",
    "accreditation": "Akkreditierung des Ausstellers",
    "no_accreditation": "Es liegen keine Angaben zur Akkreditierung vor.",
    "valid": "Bestanden", "invalid": "Nicht bestanden", "unknown": "Nicht geprüft",
    "verified_at": "Geprüft am", "expires_at": "Ablauf dieses Links", "policy": "Wie das Ergebnis zustande kommt",
    "none_shared": "Dieser Link enthält keinen Nachweis.",
    "home_intro": "Prüfen Sie ein Microcredential, das Ihnen jemand gegeben hat: Fügen Sie es ein oder wählen Sie "
                  "seine Datei aus.",
    "document": "Nachweis oder Präsentation (JSON- oder SD-JWT-Text)",
    "file": "Oder wählen Sie eine Datei (JSON, .jsonld, SD-JWT, PDF)",
    "file_hint": "Die Datei wird in Ihrem Browser gelesen und in das Feld oben eingefügt; gesendet wird erst, wenn "
                 "Sie „Prüfen“ wählen.",
    "submit": "Prüfen", "error": "Der Nachweis kann nicht angezeigt werden", "back": "Einen anderen Nachweis prüfen",
    **ELEMENT_LABELS["de"],
    "agency": "Akkreditierungsagentur", "framework": "Rahmen", "type": "Art",
    "max_eqf_level": "Höchstes EQR-Niveau", "accrediting_body": "Akkreditierungsstelle",
    "decision_reference": "Entscheidung",
    "self_asserted": "Eigenangabe", "not_vouched_title": "Aussteller nicht bestätigt.",
    "registry_logo": "Logo von {issuer}, wie im Vertrauensregister dieser Plattform eingetragen",
    "details_self_asserted": "Was der Nachweis aussagt (eigene Angaben des Ausstellers, nicht bestätigt)",
    "not_vouched_missing": "{issuer} steht nicht im Vertrauensregister dieser Plattform (ihrem Verzeichnis "
                           "akkreditierter Aussteller), daher bürgt niemand für seinen Namen, sein EQR-Niveau oder "
                           "seine Qualitätssicherung: Es sind Eigenangaben.",
    "not_vouched_other": "{issuer} konnte vom Vertrauensregister dieser Plattform nicht bestätigt werden, daher bürgt "
                         "niemand für seinen Namen, sein EQR-Niveau oder seine Qualitätssicherung: Es sind "
                         "Eigenangaben.",
    "valid_means": "„Gültig“ bedeutet nur, dass der Nachweis echt ist (mit dem Schlüssel dieses Ausstellers "
                   "signiert), in Kraft ist und nicht widerrufen wurde.",
    "show_altered": "Zeigen, was das veränderte Dokument behauptet",
    "altered_caption": "Was das veränderte Dokument behauptet (nach allem, was bekannt ist, nicht wahr)",
    "show_unconfirmed": "Zeigen, was das Dokument behauptet (nicht bestätigt)",
    "unconfirmed_caption": "Was das Dokument behauptet (seine Echtheit konnte nicht bestätigt werden)",
    "technical": "Technische Details",
    "technical_intro": "Für die IT-Abteilung: die Prüfungen so, wie der Prüfdienst sie meldet.",
    "code": "Code", "message": "Technische Meldung", "document_id": "Kennung des Nachweises",
    "issuer_id": "Kennung des Ausstellers", "todo": "Was zu tun ist", "print": "Diesen Bericht drucken",
    "no_reason": "die Statusliste des Ausstellers nennt ihn nicht",
}

HEADLINES_DE: Mapping[str, tuple[str, str]] = {
    "valid": ("Gültig", "Echt, ausgestellt von {issuer}, in Kraft und weder widerrufen noch ausgesetzt."),
    "altered": ("Verändert oder gefälscht: Verlassen Sie sich nicht auf dieses Dokument",
                "Sein digitales Siegel passt nicht zu seinem Inhalt: Es wurde nach der Ausstellung verändert oder "
                "nicht von dem ausgestellt, den es nennt. Nichts, was darin steht, kann als wahr gelten."),
    "unreadable": ("Kein Nachweis, den diese Seite prüfen kann",
                   "Das Dokument ist kein überprüfbarer Nachweis in einer Form, die dieser Prüfdienst liest (nicht "
                   "bestanden: {checks}). Nichts, was darin steht, wurde geprüft."),
    "unsigned": ("Nicht signiert: Nichts zeigt, wer es ausgestellt hat",
                 "Das Dokument trägt kein digitales Siegel, also könnte es jeder geschrieben haben. Nichts, was "
                 "darin steht, kann als wahr gelten."),
    "revoked": ("Vom Aussteller widerrufen",
                "{issuer} hat diesen Nachweis zurückgezogen: Er ist nicht mehr gültig. Seine Statusliste, gelesen am "
                "{date}, führt ihn als widerrufen. Grund: {reason}."),
    "suspended": ("Vom Aussteller ausgesetzt",
                  "Vom Aussteller ausgesetzt seit mindestens {date} (so führt ihn die damals gelesene Statusliste), "
                  "Grund: {reason}. Solange er ausgesetzt ist, ist er nicht gültig; eine Aussetzung kann aufgehoben "
                  "werden, prüfen Sie daher später erneut."),
    "expired": ("Abgelaufen", "Der Nachweis war gültig bis {date}. Er ist echt, aber nicht mehr in Kraft."),
    "not_yet_valid": ("Noch nicht gültig", "Der Nachweis gilt erst ab {date}."),
    "invalid": ("Nicht gültig", "Diese Prüfungen sind fehlgeschlagen: {checks}."),
    "undetermined": ("Konnte nicht vollständig geprüft werden",
                     "Diese Prüfungen konnten nicht durchgeführt werden: {checks}. Behandeln Sie den Nachweis nicht "
                     "als gültig, solange sie nicht möglich sind."),
}

_AGAIN = "Versuchen Sie es später erneut."
_AGAIN_ISSUER = "Versuchen Sie es später erneut; wenn das Problem bleibt, fragen Sie den Aussteller."
_ORIGINAL = "Bitten Sie die vorlegende Person um die Originaldatei aus ihrer Wallet."
_PRESENT_AGAIN = "Bitten Sie die vorlegende Person, ihn erneut aus ihrer eigenen Wallet vorzulegen."

CHECK_PLAIN_DE: Mapping[str, tuple[str, str, str]] = {
    "format": ("Die Datei ist ein digitaler Nachweis in einem anerkannten Standardformat.", _ORIGINAL, _ORIGINAL),
    "eu_elements": ("Der Nachweis enthält alle Elemente, die die EU von einem Microcredential verlangt (lernende "
                    "Person, Anbieter, Lernergebnisse, Arbeitsaufwand, Niveau, Art der Bewertung …).",
                    "Er kann echt sein, ist aber kein vollständiges EU-Microcredential: Fragen Sie den Aussteller.",
                    _AGAIN),
    "signature": ("Das digitale Siegel des Ausstellers passt zum Inhalt: Nach der Ausstellung wurde nichts verändert.",
                  "Verlassen Sie sich nicht auf dieses Dokument. Bitten Sie die vorlegende Person um das Original aus "
                  "ihrer Wallet oder fragen Sie den Aussteller.", _AGAIN_ISSUER),
    "issuer_identity": ("Das Siegel wurde mit einem Schlüssel erstellt, der dem im Nachweis genannten Aussteller "
                        "gehört.",
                        "Verlassen Sie sich nicht auf dieses Dokument: Es wurde nicht von dem Aussteller gesiegelt, "
                        "den es nennt.", _AGAIN_ISSUER),
    "accreditation": ("Der Aussteller steht im Verzeichnis akkreditierter Anbieter dieser Plattform, für dieses "
                      "Niveau.",
                      "Fragen Sie den Aussteller oder seine Akkreditierungsagentur nach seiner Akkreditierung.",
                      "Der Status des Ausstellers konnte nicht bestätigt werden: Fragen Sie den Aussteller oder seine "
                      "Akkreditierungsagentur."),
    "validity_window": ("Das heutige Datum liegt im Gültigkeitszeitraum des Nachweises.",
                        "Bitten Sie die vorlegende Person um einen aktuellen Nachweis oder fragen Sie den Aussteller, "
                        "ob er erneuert wurde.", _AGAIN),
    "revocation": ("Der Aussteller hat den Nachweis nicht zurückgezogen.",
                   "Fragen Sie den Aussteller, wenn Sie wissen müssen, warum er zurückgezogen wurde.",
                   "Die Liste der zurückgezogenen Nachweise des Ausstellers konnte nicht gelesen werden: Versuchen Sie "
                   "es später erneut."),
    "suspension": ("Der Aussteller hat den Nachweis nicht ausgesetzt.",
                   "Fragen Sie den Aussteller; eine Aussetzung kann aufgehoben werden, prüfen Sie daher später erneut.",
                   "Die Liste der ausgesetzten Nachweise des Ausstellers konnte nicht gelesen werden: Versuchen Sie es "
                   "später erneut."),
    "holder_binding": ("Die Person, die den Nachweis vorlegt, ist die, für die er ausgestellt wurde.",
                       _PRESENT_AGAIN, _PRESENT_AGAIN),
    "disclosures": ("Die Teile, die die vorlegende Person offengelegt hat, sind die, die der Aussteller gesiegelt hat.",
                    "Verlassen Sie sich nicht auf dieses Dokument: Ein offengelegter Teil wurde nicht vom Aussteller "
                    "gesiegelt.", _AGAIN),
    "type_metadata": ("Die Art des Nachweises ist diesem Prüfdienst bekannt, und sein Inhalt passt dazu.",
                      "Fragen Sie den Aussteller, welche Art von Nachweis das sein soll.", _AGAIN),
}

DETAIL_VALUES_DE: Mapping[str, str] = {
    "credential": "Nachweis", "presentation": "Präsentation",
    "did:web (trust registry)": "did:web (Vertrauensregister)", "revocation": "Widerruf",
    "suspension": "Aussetzung", "controller document": "Controller-Dokument",
}

LINKEDIN_DE: Mapping[str, str] = {"h": "Auf LinkedIn teilen", "add": "Zum LinkedIn-Profil hinzufügen",
                                  "share": "Auf LinkedIn teilen", "new_tab": "(öffnet LinkedIn in einem neuen Tab)"}

ERROR_TEXT_DE: Mapping[int, str] = {
    404: "Diesen Link gibt es nicht. Prüfen Sie, ob die Adresse vollständig ist.",
    410: "Dieser Link ist abgelaufen oder wurde von der lernenden Person zurückgezogen.",
    503: "Die Wallet war nicht erreichbar; bitte versuchen Sie es gleich noch einmal.",
    422: "Der eingefügte Text ist kein gültiges JSON.",
}

#: ``{mb}``: the largest PDF the page takes, in MB.
PDF_TEXT_DE: Mapping[str, str] = {
    "none": "Diese PDF-Datei enthält keinen eingebetteten Nachweis und kann daher nicht geprüft werden. Bitten Sie die "
            "lernende Person um die Nachweisdatei oder verwenden Sie den QR-Code oder Link, der auf die PDF-Datei "
            "gedruckt ist.",
    "unreadable": "Diese Datei ist keine lesbare PDF-Datei.",
    "too_big": "Diese PDF-Datei ist größer als {mb} MB.",
}

#: The OpenID4VP request form, waiting page and result page (:data:`.presentation_pages.TEXT`).
PRESENTATION_TEXT_DE: Mapping[str, str] = {
    "page_title": "Einen Nachweis anfordern", "skip": "Zum Inhalt springen", "language": "Sprache",
    "intro": "Bitten Sie eine lernende Person, Ihnen einen Nachweis aus ihrer Wallet zu zeigen. Wählen Sie, was Sie "
             "brauchen, und zeigen Sie ihr dann den QR-Code.",
    "template": "Was angefordert wird",
    "template_micro-credential": "Ein Microcredential (Titel, Lernergebnisse, Aussteller)",
    "template_micro-credential-eqf6": "Ein Microcredential auf EQR-Niveau 6 oder höher",
    "template_open-badge": "Eine Leistung als Open Badge 3.0",
    "template_custom": "Eine eigene Abfrage Ihrer IT-Abteilung (unten)",
    "query": "Eigene Abfrage (DCQL, JSON), nur für die Option oben", "mode": "Wie die Wallet antwortet",
    "mode_direct_post.jwt": "Verschlüsselt (empfohlen)", "mode_direct_post": "Unverschlüsselt",
    "create": "Anfrage erstellen", "scan": "Scannen Sie diesen Code mit der Wallet der lernenden Person",
    "qr_alt": "QR-Code der Anfrage",
    "or_link": "Oder öffnen Sie diesen Link auf dem Telefon der lernenden Person:",
    "dc_api": "Eine Wallet auf diesem Gerät fragen",
    "dc_api_failed": "Von keiner Wallet auf diesem Gerät kam eine Antwort. Der QR-Code oben funktioniert weiterhin.",
    "waiting": "Warten auf die Antwort der Wallet. Diese Seite aktualisiert sich von selbst.",
    "expired": "Die Anfrage ist abgelaufen, bevor die Wallet geantwortet hat. Erstellen Sie eine neue.",
    "refused": "Die lernende Person hat abgelehnt, den Nachweis zu teilen.",
    "wallet_error": "Die Wallet der lernenden Person konnte diese Anfrage nicht beantworten: Vielleicht unterstützt "
                    "sie nicht, was Sie angefordert haben. Bitten Sie die Person, es erneut zu versuchen, oder fordern "
                    "Sie ein Microcredential an (die erste Option).",
    "failed": "Die Wallet hat geantwortet, aber ihre Antwort konnte nicht geprüft werden, daher wird nichts daraus "
              "angezeigt. Erstellen Sie eine neue Anfrage und bitten Sie die lernende Person, erneut zu antworten.",
    "result": "Ergebnis",
    "verdict_valid": "Bestätigt: Alle erforderlichen Prüfungen waren erfolgreich, und Sie haben erhalten, was Sie "
                     "angefordert haben.",
    "verdict_invalid": "Nicht bestätigt: Was fehlgeschlagen ist, sehen Sie unten.",
    "verdict_undetermined": "Nicht vollständig bestätigt: Einige Prüfungen konnten nicht durchgeführt werden (unten).",
    "query_ok": "Der Nachweis zeigt alles, was Sie angefordert haben.",
    "query_missing": "Die Wallet der lernenden Person hat nicht alles gezeigt, was Sie angefordert haben.",
    "discarded": "Nicht berücksichtigt: Dieser Nachweis hat eine Prüfung nicht bestanden, daher wurde sein Inhalt "
                 "beiseitegelassen.",
    "why_failed": "Was fehlgeschlagen ist und was zu tun ist:",
    "why_unknown": "Was nicht geprüft werden konnte und was zu tun ist:",
    "not_confirmed": "Nicht bestätigt:", "not_checked": "Konnte nicht geprüft werden:",
    "content": "Was der Nachweis zeigt", "technical": "Technische Details",
    "technical_intro": "Für die IT-Abteilung: was die Wallet gesendet hat und jede Prüfung, so wie der Prüfdienst sie "
                       "meldet.",
    "missing_details": "Was der Abfrage fehlt", "wallet_said": "Die Antwort der Wallet",
    "presentation": "Vorgelegter Nachweis", "check": "Prüfung", "status": "Ergebnis", "message": "Was das bedeutet",
    "valid": "Bestanden", "invalid": "Nicht bestanden", "unknown": "Nicht geprüft",
    "again": "Einen anderen Nachweis anfordern",
    "unknown_result": "Diese Anfrage gibt es nicht, oder ihr Ergebnis wird nicht mehr aufbewahrt.",
    "bad_query": "Die Abfrage ist ungültig",
}
