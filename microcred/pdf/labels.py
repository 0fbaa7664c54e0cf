"""The PDF's own labels in English, Polish, German and French (element names come from microcred.i18n)."""

from __future__ import annotations

LANGUAGES = ("en", "pl", "de", "fr")

PDF_LABELS: dict[str, dict[str, str]] = {
    "en": {"heading": "Micro-credential", "issued_by": "Issued by", "verify": "Verify this credential",
           "verify_text": "Scan the code or open the link to check this credential online. The signed credential "
                          "is also attached to this PDF file, so the file itself can be verified.",
           "credential_id": "Credential ID", "linkedin": "Add to LinkedIn profile",
           "elements": "What this credential certifies"},
    "pl": {"heading": "Mikropoświadczenie", "issued_by": "Wystawione przez", "verify": "Zweryfikuj to poświadczenie",
           "verify_text": "Zeskanuj kod lub otwórz link, aby sprawdzić to poświadczenie online. Podpisane "
                          "poświadczenie jest też załączone do tego pliku PDF, więc można zweryfikować sam plik.",
           "credential_id": "Identyfikator poświadczenia", "linkedin": "Dodaj do profilu LinkedIn",
           "elements": "Co poświadcza ten dokument"},
    "de": {"heading": "Microcredential", "issued_by": "Ausgestellt von", "verify": "Diesen Nachweis prüfen",
           "verify_text": "Scannen Sie den Code oder öffnen Sie den Link, um diesen Nachweis online zu prüfen. Der "
                          "signierte Nachweis ist dieser PDF-Datei beigefügt, sodass die Datei selbst prüfbar ist.",
           "credential_id": "Nachweis-ID", "linkedin": "Zum LinkedIn-Profil hinzufügen",
           "elements": "Was dieser Nachweis bescheinigt"},
    "fr": {"heading": "Microcertification", "issued_by": "Délivré par", "verify": "Vérifier cette attestation",
           "verify_text": "Scannez le code ou ouvrez le lien pour vérifier cette attestation en ligne. L’attestation "
                          "signée est jointe à ce fichier PDF : le fichier lui-même peut être vérifié.",
           "credential_id": "Identifiant de l’attestation", "linkedin": "Ajouter au profil LinkedIn",
           "elements": "Ce que cette attestation certifie"},
}
