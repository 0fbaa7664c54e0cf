"""German column of :mod:`microcred.verification.messages`: reason messages (the report's codes and the SD-JWT VC
ones), check titles and verdicts. Terms follow the German text of the Council Recommendation of 16 June 2022
(„Microcredentials“, Lernergebnisse, EQR-Niveau, Qualitätssicherung); a credential is a „Nachweis“, as in the PDF.
The reader is addressed as „Sie“."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CHECK_TITLES_DE", "MESSAGES_DE", "VERDICTS_DE"]

MESSAGES_DE: Mapping[str, str] = {
    # format
    "FORMAT_OK": "Das Dokument ist ein formal korrektes Dokument vom Typ {kind} (VC-Datenmodell {vc_version}).",
    "NOT_JSON_OBJECT": "Das Dokument ist kein JSON-Objekt.",
    "INVALID_CONTEXT": "Der @context ist ungültig: {problem}.",
    "UNKNOWN_CONTEXT": "Das Dokument verwendet einen JSON-LD-Kontext, den dieser Prüfdienst nicht vorhält ({context}); "
                       "entfernte Kontexte werden nie abgerufen, daher konnte es nicht geprüft werden.",
    "NOT_A_CREDENTIAL": "Der Typ des Dokuments enthält nicht VerifiableCredential.",
    "NOT_A_PRESENTATION": "Der Typ des Dokuments enthält nicht VerifiablePresentation.",
    "MISSING_FIELD": "Das Pflichtfeld {field} fehlt.",
    "INVALID_FIELD": "Das Feld {field} ist ungültig: {problem}.",
    "OB3_PROFILE_VIOLATION": "Das Dokument erfüllt das Profil Open Badges 3.0 nicht: {problem}.",
    "UNDEFINED_TERM": "Das Dokument verwendet einen Begriff, den keiner seiner Kontexte definiert: {problem}.",
    "JSONLD_ERROR": "Das Dokument ist kein gültiges JSON-LD: {problem}.",
    "NOT_COMPACTED": "Das Dokument liegt nicht in der kompaktierten Form seiner Kontexte vor ({field}): {problem}. "
                     "Sein JSON könnte anders gelesen werden als das, was signiert wurde, daher wird es nicht gelesen.",
    "TOO_COMPLEX": "Das Dokument ist zu komplex, um es innerhalb der Grenzen dieses Prüfdienstes zu prüfen ({field}): "
                   "{problem}.",
    "NOT_CHECKED": "Nicht geprüft: {problem}.",
    "DATA_MODEL_VIOLATION": "Das Dokument verstößt gegen die Regel {rule} des VC-Datenmodells ({field}): {problem}.",
    "DATA_MODEL_UNCHECKED": "Die Regel {rule} des VC-Datenmodells ({field}) konnte nicht geprüft werden: {problem}.",
    # EU elements
    "EU_ELEMENTS_PRESENT": "Alle Pflichtelemente der Empfehlung des Rates der EU über Microcredentials sind "
                           "vorhanden.",
    "EU_ELEMENTS_MISSING": "Pflichtelemente eines EU-Microcredentials fehlen: {missing}.",
    "NOT_A_MICRO_CREDENTIAL": "Der Nachweis gibt sich nicht als EU-Microcredential aus, daher waren die EU-Elemente "
                              "nicht erforderlich.",
    # signature
    "SIGNATURE_VALID": "Die digitale Signatur ({suite}) ist gültig: Der Inhalt wurde nicht verändert.",
    "NO_PROOF": "Das Dokument trägt keine digitale Signatur.",
    "INVALID_SIGNATURE": "Die digitale Signatur passt nicht zum Inhalt: Das Dokument wurde verändert oder nicht mit "
                         "diesem Schlüssel signiert.",
    "MALFORMED_PROOF": "Der Signaturblock ist fehlerhaft: {problem}.",
    "CANONICALIZATION_ERROR": "Die signierten Daten konnten nicht in kanonische Form gebracht werden: {problem}.",
    "PROOF_PURPOSE_MISMATCH": "Die Signatur wurde für einen anderen Zweck erstellt: {problem}.",
    "PROOF_EXPIRED": "Die Signatur ist abgelaufen: {problem}.",
    "CONTEXT_MISMATCH": "Die Signatur deckt andere JSON-LD-Kontexte ab: {problem}.",
    "UNSUPPORTED_CRYPTOSUITE": "Die Signatur verwendet ein Verfahren, das dieser Prüfdienst nicht unterstützt "
                               "({problem}).",
    "KEY_NOT_FOUND": "Der Signaturschlüssel war nicht erhältlich, daher konnte die Signatur nicht geprüft werden "
                     "({problem}).",
    # issuer identity
    "ISSUER_KEY_VALID": "Der Signaturschlüssel gehört dem Aussteller {issuer} ({method}) und war gültig, als der "
                        "Nachweis signiert wurde.",
    "ISSUER_UNRESOLVABLE": "Der Aussteller {issuer} konnte nicht aufgelöst werden, daher ist unbekannt, ob der "
                           "Signaturschlüssel ihm gehört.",
    "KEY_NOT_OF_ISSUER": "Der Signaturschlüssel {verification_method} gehört nicht dem Aussteller {issuer}.",
    "KEY_RETIRED": "Der Signaturschlüssel war bereits außer Dienst gestellt, als die Signatur erstellt wurde "
                   "({problem}).",
    "KEY_NOT_YET_VALID": "Der Signaturschlüssel war noch nicht registriert, als die Signatur erstellt wurde "
                         "({problem}).",
    "UNKNOWN_VERIFICATION_METHOD": "Der Aussteller hat keinen solchen Signaturschlüssel ({problem}).",
    "NO_VERIFICATION_METHOD": "Keine Signatur nennt einen Signaturschlüssel, daher konnte die Identität des "
                              "Ausstellers nicht festgestellt werden.",
    # accreditation
    "ACCREDITED": "Der Aussteller ist von {agency} im Rahmen von {framework} akkreditiert (bis EQR-Niveau "
                  "{max_eqf_level}).",
    "ISSUER_NOT_IN_REGISTRY": "Der Aussteller {issuer} ist nicht in diesem Vertrauensregister; seine Akkreditierung "
                              "konnte nicht geprüft werden.",
    "NOT_ACCREDITED": "Der Aussteller ist registriert, aber nicht akkreditiert.",
    "ACCREDITATION_SUSPENDED": "Die Akkreditierung des Ausstellers ist ausgesetzt ({problem}).",
    "ACCREDITATION_WITHDRAWN": "Die Akkreditierung des Ausstellers wurde entzogen ({problem}).",
    "ACCREDITATION_EXPIRED": "Die Akkreditierung des Ausstellers war bei der Ausstellung des Nachweises abgelaufen "
                             "({problem}).",
    "ACCREDITATION_NOT_YET_VALID": "Die Akkreditierung des Ausstellers galt bei der Ausstellung des Nachweises noch "
                                   "nicht ({problem}).",
    "EQF_LEVEL_NOT_ALLOWED": "Der Aussteller ist für dieses EQR-Niveau nicht akkreditiert ({problem}).",
    "REGISTRY_UNAVAILABLE": "Das Vertrauensregister konnte nicht gelesen werden ({problem}).",
    # validity window
    "WITHIN_VALIDITY": "Der Nachweis ist innerhalb seines Gültigkeitszeitraums.",
    "NOT_YET_VALID": "Der Nachweis ist nicht vor {valid_from} gültig.",
    "EXPIRED": "Der Nachweis ist am {valid_until} abgelaufen.",
    # status
    "NOT_REVOKED": "Der Nachweis wurde nicht widerrufen (Statusliste {age_seconds} s nach ihrer letzten "
                   "Aktualisierung geprüft).",
    "NOT_SUSPENDED": "Der Nachweis ist nicht ausgesetzt (Statusliste {age_seconds} s nach ihrer letzten "
                     "Aktualisierung geprüft).",
    "REVOKED": "Der Aussteller hat diesen Nachweis widerrufen.",
    "SUSPENDED": "Der Aussteller hat diesen Nachweis ausgesetzt.",
    "NO_STATUS_ENTRY": "Der Aussteller hat für diesen Nachweis keinen Status ({purpose}) veröffentlicht, daher gibt "
                       "es nichts zu prüfen.",
    "UNSUPPORTED_STATUS_TYPE": "Der Nachweis verwendet ein Statusverfahren, das dieser Prüfdienst nicht unterstützt "
                               "({status_type}).",
    "MALFORMED_STATUS_ENTRY": "Der Statuseintrag des Nachweises ist fehlerhaft: {problem}.",
    "TOO_MANY_STATUS_ENTRIES": "Der Nachweis hat {count} Statuseinträge, mehr als die {limit}, die dieser Prüfdienst "
                               "prüft; sein Status ist unbekannt.",
    "STATUS_RETRIEVAL_ERROR": "Die Statusliste konnte nicht abgerufen werden ({problem}); der Status ist unbekannt.",
    "STATUS_VERIFICATION_ERROR": "Der Statusliste kann nicht vertraut werden ({problem}); der Status ist unbekannt.",
    "STATUS_LIST_EXPIRED": "Die Statusliste liegt außerhalb ihres Gültigkeitszeitraums ({problem}); der Status ist "
                           "unbekannt.",
    "STATUS_LIST_LENGTH_ERROR": "Die Statusliste ist zu kurz, um die Privatsphäre zu schützen ({problem}).",
    "RANGE_ERROR": "Der Statusindex liegt außerhalb der Statusliste ({problem}).",
    # holder binding
    "HOLDER_BOUND": "Die Präsentation wurde vom Inhaber {holder} für diese Challenge und Domain signiert, und der "
                    "Inhaber ist das Subjekt jedes Nachweises.",
    "HOLDER_BOUND_NOT_SUBJECT": "Die Präsentation wurde vom Inhaber {holder} für diese Challenge und Domain signiert; "
                                "der Inhaber ist nicht das Subjekt von {credentials} (das Datenmodell erlaubt das, "
                                "und die Regeln dieses Prüfdienstes verlangen es nicht).",
    "NOT_A_PRESENTATION_CHECK": "Die Bindung an den Inhaber gilt nur für Präsentationen.",
    "PRESENTATION_SIGNATURE_INVALID": "Die Signatur der Präsentation ist ungültig ({problem}).",
    "PRESENTATION_SIGNATURE_UNKNOWN": "Die Signatur der Präsentation konnte nicht geprüft werden ({problem}).",
    "CHALLENGE_MISMATCH": "Die Präsentation wurde nicht für die Challenge dieses Prüfdienstes erstellt.",
    "DOMAIN_MISMATCH": "Die Präsentation wurde für eine andere Domain erstellt.",
    "NO_CHALLENGE": "Es wurde keine Challenge verlangt, daher könnte die Präsentation eine Wiederholung sein; die "
                    "Bindung an den Inhaber ist nicht festgestellt.",
    "HOLDER_NOT_SIGNER": "Die Präsentation wurde von {signer} signiert, nicht von ihrem Inhaber {holder}.",
    "HOLDER_NOT_SUBJECT": "Der Inhaber {holder} ist nicht das Subjekt des Nachweises {credential}.",
    "SUBJECT_NOT_IDENTIFIABLE": "Der Nachweis {credential} nennt keine Subjektkennung, die sich mit dem Inhaber "
                                "vergleichen ließe.",
    "INTERNAL_ERROR": "Die Prüfung ist unerwartet fehlgeschlagen ({problem}); das Ergebnis ist unbekannt.",
    # SD-JWT VC
    "SD_JWT_FORMAT_OK": "Das Dokument ist ein formal korrektes SD-JWT VC ({typ}).",
    "MALFORMED_SD_JWT": "Das SD-JWT ist fehlerhaft: {problem}.",
    "TOO_LARGE": "Das SD-JWT überschreitet die Grenzen dieses Prüfdienstes: {problem}.",
    "WRONG_TYP": "Der JWT-Typ ist {typ}, erwartet wurde {expected}.",
    "UNSUPPORTED_ALGORITHM": "Der Signaturalgorithmus {alg} wird nicht akzeptiert.",
    "MALFORMED_CLAIM": "Die Angabe {field} ist ungültig: {problem}.",
    "DISCLOSURES_VALID": "Die gezeigten Angaben sind die, die der Aussteller signiert hat (davon vom Inhaber "
                         "selektiv offengelegt: {count}).",
    "MALFORMED_DISCLOSURE": "Eine Offenlegung ist fehlerhaft: {problem}.",
    "MISPLACED_DISCLOSURE": "Eine Offenlegung steht an der falschen Stelle: {problem}.",
    "RESERVED_CLAIM_NAME": "Eine Offenlegung verwendet einen reservierten Angabenamen: {problem}.",
    "CLAIM_NAME_COLLISION": "Eine offengelegte Angabe kollidiert mit einer anderen Angabe: {problem}.",
    "DUPLICATE_DIGEST": "Ein Hashwert kommt mehr als einmal vor: {problem}.",
    "DUPLICATE_DISCLOSURE": "Eine Offenlegung ist doppelt enthalten: {problem}.",
    "DISCLOSURE_NOT_REFERENCED": "Eine Offenlegung wurde nicht vom Aussteller signiert: {problem}.",
    "UNSUPPORTED_HASH": "Der Hash-Algorithmus wird nicht unterstützt: {problem}.",
    "ISSUER_CERTIFICATE_VALID": "Das Zertifikat des Ausstellers ({subject}) führt zum Vertrauensanker {anchor} und "
                                "nennt den Aussteller {issuer}.",
    "ISSUER_KEY_PINNED": "Der Signaturschlüssel ist der für den Aussteller {issuer} konfigurierte Schlüssel.",
    "MALFORMED_X5C": "Die Zertifikatskette des Ausstellers ist fehlerhaft: {problem}.",
    "NO_TRUST_ANCHORS": "Es sind keine Vertrauensanker konfiguriert, daher konnte das Zertifikat des Ausstellers nicht "
                        "geprüft werden.",
    "CHAIN_UNTRUSTED": "Das Zertifikat des Ausstellers führt zu keinem vertrauenswürdigen Anker: {problem}.",
    "KEY_USAGE_MISMATCH": "Das Zertifikat des Ausstellers darf für diese Signatur nicht verwendet werden: {problem}.",
    "ISSUER_NOT_IN_CERTIFICATE": "Das Zertifikat nennt den Aussteller {issuer} nicht.",
    "TYPE_METADATA_VALID": "Der Nachweistyp {vct} ist bekannt, seine Metadaten sind unverändert und seine Angaben "
                           "passen dazu.",
    "UNKNOWN_VCT": "Der Nachweistyp {vct} ist diesem Prüfdienst nicht bekannt.",
    "INTEGRITY_MISMATCH": "Die Typ-Metadaten stimmen nicht mit dem vom Aussteller signierten Integritätswert überein "
                          "({problem}).",
    "CLAIM_METADATA_VIOLATION": "Die Angabe {path} verstößt gegen die Typ-Metadaten: {problem}.",
    "ISSUED_IN_FUTURE": "Der Nachweis gibt ein Ausstellungsdatum in der Zukunft an ({iat}).",
    "KEY_BINDING_VALID": "Der Inhaber hat den Besitz des Schlüssels des Nachweises für diese Nonce und diesen "
                         "Empfänger nachgewiesen.",
    "NO_KEY_BINDING": "Die Präsentation hat keine Schlüsselbindung, daher könnte sie eine von jemand anderem "
                      "vorgelegte Kopie sein.",
    "NO_HOLDER_KEY": "Der Nachweis nennt keinen Schlüssel des Inhabers (cnf), daher kann die Schlüsselbindung nicht "
                     "geprüft werden.",
    "UNSUPPORTED_HOLDER_KEY": "Der Nachweis nennt den Schlüssel des Inhabers auf eine Weise, die dieser Prüfdienst "
                              "nicht liest ({methods}), daher kann die Schlüsselbindung nicht geprüft werden.",
    "KB_JWT_INVALID": "Das JWT der Schlüsselbindung ist ungültig: {problem}.",
    "SD_HASH_MISMATCH": "Das JWT der Schlüsselbindung wurde für andere Offenlegungen erstellt (sd_hash stimmt nicht).",
    "KB_JWT_STALE": "Das JWT der Schlüsselbindung wurde nicht jetzt erstellt ({problem}).",
    "STATUS_LIST_MISMATCH": "Das Statuslisten-Token ist nicht das, auf das der Nachweis verweist ({problem}).",
}

CHECK_TITLES_DE: Mapping[str, str] = {
    "format": "Format und Schema",
    "eu_elements": "Pflichtelemente der EU",
    "signature": "Digitale Signatur",
    "issuer_identity": "Identität und Schlüssel des Ausstellers",
    "accreditation": "Akkreditierung (Vertrauensregister)",
    "validity_window": "Gültigkeitszeitraum",
    "revocation": "Widerruf",
    "suspension": "Aussetzung",
    "holder_binding": "Bindung an den Inhaber",
    "disclosures": "Selektive Offenlegung",
    "type_metadata": "Nachweistyp und Metadaten",
}

VERDICTS_DE: Mapping[str, str] = {
    "valid": "Gültig: Alle erforderlichen Prüfungen waren erfolgreich.",
    "invalid": "Nicht gültig: Mindestens eine Prüfung ist fehlgeschlagen.",
    "undetermined": "Nicht feststellbar: Einige erforderliche Prüfungen konnten nicht durchgeführt werden.",
}
