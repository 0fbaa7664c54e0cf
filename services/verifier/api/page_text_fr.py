"""The employer pages' words in French (imported by :mod:`.page_text`, which has the English and Polish ones and
says what each table is for). Terms follow the French text of the Council Recommendation of 16 June 2022:
« microcertification », acquis d’apprentissage, charge de travail, niveau du CEC, assurance qualité, prestataire;
a credential is an « attestation » (as in the PDF), its holder the « titulaire », the learner's wallet a
« portefeuille »; the reader is addressed as « vous »."""

from __future__ import annotations

from collections.abc import Mapping

from microcred.i18n import ELEMENT_LABELS

__all__ = ["CHECK_PLAIN_FR", "DETAIL_VALUES_FR", "ERROR_TEXT_FR", "HEADLINES_FR", "LABELS_FR", "LINKEDIN_FR",
           "PDF_TEXT_FR", "PRESENTATION_TEXT_FR"]

LABELS_FR: Mapping[str, str] = {
    "page_title": "Vérification d’une attestation", "skip": "Aller au résultat", "language": "Langue",
    "verdict": "Résultat", "credential": "Attestation", "details": "Ce que dit l’attestation",
    "checks": "Vérifications", "check": "Vérification", "result": "Résultat", "explanation": "Ce que cela signifie",
    "accreditation": "Accréditation de l’émetteur",
    "no_accreditation": "Aucune information d’accréditation n’est disponible.",
    "valid": "Réussie", "invalid": "Échouée", "unknown": "Non vérifiée",
    "verified_at": "Date de la vérification", "expires_at": "Expiration de ce lien de partage",
    "policy": "Comment le résultat est établi",
    "none_shared": "Ce lien de partage ne contient aucune attestation.",
    "home_intro": "Vérifiez une microcertification qu’on vous a remise : collez-la ou choisissez son fichier.",
    "document": "Attestation ou présentation (texte JSON ou SD-JWT)",
    "file": "Ou choisissez un fichier (JSON, .jsonld, SD-JWT, PDF)",
    "file_hint": "Le fichier est lu dans votre navigateur et placé dans la zone ci-dessus ; rien n’est envoyé tant "
                 "que vous n’avez pas choisi « Vérifier ».",
    "submit": "Vérifier", "error": "L’attestation n’a pas pu être affichée", "back": "Vérifier une autre attestation",
    **ELEMENT_LABELS["fr"],
    "agency": "Agence d’accréditation", "framework": "Cadre", "type": "Type",
    "max_eqf_level": "Niveau CEC le plus élevé", "accrediting_body": "Organisme d’accréditation",
    "decision_reference": "Décision",
    "self_asserted": "déclaration de l’émetteur", "not_vouched_title": "Émetteur non confirmé.",
    "registry_logo": "Logo de {issuer}, tel qu’enregistré dans le registre de confiance de cette plateforme",
    "details_self_asserted": "Ce que dit l’attestation (déclarations de l’émetteur lui-même, non confirmées)",
    "not_vouched_missing": "{issuer} ne figure pas dans le registre de confiance de cette plateforme (son registre "
                           "des émetteurs accrédités) : personne ne garantit donc son nom, son niveau CEC ni son "
                           "assurance qualité ; ce sont des déclarations de l’émetteur lui-même.",
    "not_vouched_other": "Le registre de confiance de cette plateforme n’a pas pu confirmer {issuer} : personne ne "
                         "garantit donc son nom, son niveau CEC ni son assurance qualité ; ce sont des déclarations "
                         "de l’émetteur lui-même.",
    "valid_means": "« Valide » signifie seulement que l’attestation est authentique (signée avec la clé de cet "
                   "émetteur), en vigueur et non révoquée.",
    "show_altered": "Afficher ce que prétend le document modifié",
    "altered_caption": "Ce que prétend le document modifié (faux, pour autant qu’on puisse le savoir)",
    "show_unconfirmed": "Afficher ce que prétend le document (non confirmé)",
    "unconfirmed_caption": "Ce que prétend le document (son authenticité n’a pas pu être confirmée)",
    "technical": "Détails techniques",
    "technical_intro": "Pour le service informatique : les vérifications telles que le service de vérification les "
                       "rapporte.",
    "code": "Code", "message": "Message technique", "document_id": "Identifiant de l’attestation",
    "issuer_id": "Identifiant de l’émetteur", "todo": "Que faire", "print": "Imprimer ce rapport",
    "no_reason": "la liste de statuts de l’émetteur ne l’indique pas",
}

HEADLINES_FR: Mapping[str, tuple[str, str]] = {
    "valid": ("Valide", "Authentique, délivrée par {issuer}, en vigueur, ni révoquée ni suspendue."),
    "altered": ("Modifié ou falsifié : ne vous fiez pas à ce document",
                "Son sceau numérique ne correspond pas à son contenu : il a été modifié après sa délivrance, ou il n’a "
                "pas été délivré par celui qu’il nomme. Rien de ce qu’il dit ne peut être tenu pour vrai."),
    "unreadable": ("Ce n’est pas une attestation que cette page peut vérifier",
                   "Le document n’est pas une attestation vérifiable sous une forme que ce service de vérification "
                   "lit (échec : {checks}). Rien de ce qu’il dit n’a été vérifié."),
    "unsigned": ("Non signé : rien n’indique qui l’a délivré",
                 "Le document ne porte aucun sceau numérique : n’importe qui a pu l’écrire. Rien de ce qu’il dit ne "
                 "peut être tenu pour vrai."),
    "revoked": ("Révoquée par l’émetteur",
                "{issuer} a retiré cette attestation : elle n’est plus valide. Sa liste de statuts, lue le {date}, "
                "l’indique comme révoquée. Motif : {reason}."),
    "suspended": ("Suspendue par l’émetteur",
                  "Suspendue par l’émetteur depuis au moins le {date} (selon sa liste de statuts, lue à ce "
                  "moment-là), motif : {reason}. Elle n’est pas valide tant qu’elle est suspendue ; une suspension "
                  "peut être levée, vérifiez donc de nouveau plus tard."),
    "expired": ("Expirée", "L’attestation était valable jusqu’au {date}. Elle est authentique, mais n’est plus en "
                           "vigueur."),
    "not_yet_valid": ("Pas encore valide", "L’attestation n’est valable qu’à partir du {date}."),
    "invalid": ("Non valide", "Ces vérifications ont échoué : {checks}."),
    "undetermined": ("N’a pas pu être entièrement vérifiée",
                     "Ces vérifications n’ont pas pu être effectuées : {checks}. Ne considérez pas l’attestation "
                     "comme valide tant qu’elles ne l’ont pas été."),
}

_AGAIN = "Réessayez plus tard."
_AGAIN_ISSUER = "Réessayez plus tard ; si le problème persiste, interrogez l’émetteur."
_ORIGINAL = "Demandez au titulaire le fichier original issu de son portefeuille."
_PRESENT_AGAIN = "Demandez au titulaire de la présenter de nouveau depuis son propre portefeuille."

CHECK_PLAIN_FR: Mapping[str, tuple[str, str, str]] = {
    "format": ("Le fichier est une attestation numérique dans un format standard reconnu.", _ORIGINAL, _ORIGINAL),
    "eu_elements": ("L’attestation contient tous les éléments que l’UE exige d’une microcertification (apprenant, "
                    "prestataire, acquis d’apprentissage, charge de travail, niveau, type d’évaluation…).",
                    "Elle est peut-être authentique, mais ce n’est pas une microcertification de l’UE complète : "
                    "interrogez l’émetteur.", _AGAIN),
    "signature": ("Le sceau numérique de l’émetteur correspond au contenu : rien n’a été modifié après sa délivrance.",
                  "Ne vous fiez pas à ce document. Demandez au titulaire l’original issu de son portefeuille, ou "
                  "interrogez l’émetteur.", _AGAIN_ISSUER),
    "issuer_identity": ("Le sceau a été apposé avec une clé qui appartient à l’émetteur nommé dans l’attestation.",
                        "Ne vous fiez pas à ce document : il n’a pas été scellé par l’émetteur qu’il nomme.",
                        _AGAIN_ISSUER),
    "accreditation": ("L’émetteur figure dans le registre des prestataires accrédités de cette plateforme, pour ce "
                      "niveau.",
                      "Interrogez l’émetteur ou son agence d’accréditation sur son accréditation.",
                      "La situation de l’émetteur n’a pas pu être confirmée : interrogez l’émetteur ou son agence "
                      "d’accréditation."),
    "validity_window": ("La date d’aujourd’hui est comprise dans la période de validité de l’attestation.",
                        "Demandez au titulaire une attestation à jour, ou demandez à l’émetteur si elle a été "
                        "renouvelée.", _AGAIN),
    "revocation": ("L’émetteur n’a pas retiré l’attestation.",
                   "Interrogez l’émetteur si vous devez savoir pourquoi elle a été retirée.",
                   "La liste des attestations retirées par l’émetteur n’a pas pu être lue : réessayez plus tard."),
    "suspension": ("L’émetteur n’a pas suspendu l’attestation.",
                   "Interrogez l’émetteur ; une suspension peut être levée, vérifiez donc de nouveau plus tard.",
                   "La liste des attestations suspendues par l’émetteur n’a pas pu être lue : réessayez plus tard."),
    "holder_binding": ("La personne qui présente l’attestation est celle à qui elle a été délivrée.",
                       _PRESENT_AGAIN, _PRESENT_AGAIN),
    "disclosures": ("Les parties que le titulaire a choisi de révéler sont celles que l’émetteur a scellées.",
                    "Ne vous fiez pas à ce document : une partie révélée n’a pas été scellée par l’émetteur.", _AGAIN),
    "type_metadata": ("Le type de l’attestation est connu de ce service de vérification, et son contenu correspond à "
                      "ce type.",
                      "Demandez à l’émetteur quel type d’attestation ce document est censé être.", _AGAIN),
}

DETAIL_VALUES_FR: Mapping[str, str] = {
    "credential": "attestation", "presentation": "présentation",
    "did:web (trust registry)": "did:web (registre de confiance)", "revocation": "révocation",
    "suspension": "suspension", "controller document": "document du contrôleur",
}

LINKEDIN_FR: Mapping[str, str] = {"h": "Partager sur LinkedIn", "add": "Ajouter au profil LinkedIn",
                                  "share": "Partager sur LinkedIn",
                                  "new_tab": "(ouvre LinkedIn dans un nouvel onglet)"}

ERROR_TEXT_FR: Mapping[int, str] = {
    404: "Ce lien de partage n’existe pas. Vérifiez que l’adresse est complète.",
    410: "Ce lien de partage a expiré ou a été retiré par l’apprenant.",
    503: "Le portefeuille n’a pas pu être joint ; veuillez réessayer dans un instant.",
    422: "Le texte collé n’est pas du JSON valide.",
}

#: ``{mb}``: the largest PDF the page takes, in MB.
PDF_TEXT_FR: Mapping[str, str] = {
    "none": "Ce PDF ne contient aucune attestation intégrée : il ne peut donc pas être vérifié. Demandez à l’apprenant "
            "le fichier de l’attestation, ou utilisez le code QR ou le lien imprimé sur le PDF.",
    "unreadable": "Ce fichier n’est pas un PDF lisible.",
    "too_big": "Ce PDF dépasse {mb} Mo.",
}

#: The OpenID4VP request form, waiting page and result page (:data:`.presentation_pages.TEXT`).
PRESENTATION_TEXT_FR: Mapping[str, str] = {
    "page_title": "Demander une attestation", "skip": "Aller au contenu", "language": "Langue",
    "intro": "Demandez à un apprenant de vous montrer une attestation depuis son portefeuille. Choisissez ce dont vous "
             "avez besoin, puis montrez-lui le code QR.",
    "template": "Que demander",
    "template_micro-credential": "Une microcertification (intitulé, acquis d’apprentissage, émetteur)",
    "template_micro-credential-eqf6": "Une microcertification de niveau CEC 6 ou supérieur",
    "template_open-badge": "Une réussite Open Badge 3.0",
    "template_custom": "Une requête personnalisée de votre service informatique (ci-dessous)",
    "query": "Requête personnalisée (DCQL, JSON), uniquement pour l’option ci-dessus",
    "mode": "Comment le portefeuille répond",
    "mode_direct_post.jwt": "Chiffrée (recommandé)", "mode_direct_post": "Non chiffrée",
    "create": "Créer la demande", "scan": "Scannez ce code avec le portefeuille de l’apprenant",
    "qr_alt": "Code QR de la demande",
    "or_link": "Ou ouvrez ce lien sur le téléphone de l’apprenant :",
    "dc_api": "Interroger un portefeuille sur cet appareil",
    "dc_api_failed": "Aucun portefeuille de cet appareil n’a répondu. Le code QR ci-dessus fonctionne toujours.",
    "waiting": "En attente de la réponse du portefeuille. Cette page se met à jour toute seule.",
    "expired": "La demande a expiré avant que le portefeuille ne réponde. Créez-en une nouvelle.",
    "refused": "L’apprenant a refusé de partager l’attestation.",
    "wallet_error": "Le portefeuille de l’apprenant n’a pas pu répondre à cette demande : il ne prend peut-être pas en "
                    "charge ce que vous avez demandé. Demandez à l’apprenant de réessayer, ou demandez une "
                    "microcertification (le premier choix).",
    "failed": "Le portefeuille a répondu, mais sa réponse n’a pas pu être vérifiée : rien n’en est donc affiché. Créez "
              "une nouvelle demande et demandez à l’apprenant d’y répondre de nouveau.",
    "result": "Résultat",
    "verdict_valid": "Vérifié : toutes les vérifications requises ont réussi et vous avez obtenu ce que vous avez "
                     "demandé.",
    "verdict_invalid": "Non vérifié : voyez ci-dessous ce qui a échoué.",
    "verdict_undetermined": "Pas entièrement vérifié : certaines vérifications n’ont pas pu être effectuées "
                            "(ci-dessous).",
    "query_ok": "L’attestation montre tout ce que vous avez demandé.",
    "query_missing": "Le portefeuille de l’apprenant n’a pas montré tout ce que vous avez demandé.",
    "discarded": "Non prise en compte : cette attestation a échoué à une vérification, son contenu a donc été écarté.",
    "why_failed": "Ce qui a échoué, et que faire :", "why_unknown": "Ce qui n’a pas pu être vérifié, et que faire :",
    "not_confirmed": "Non confirmé :", "not_checked": "N’a pas pu être vérifié :",
    "content": "Ce que montre l’attestation", "technical": "Détails techniques",
    "technical_intro": "Pour le service informatique : ce que le portefeuille a envoyé et chaque vérification, telles "
                       "que le service de vérification les rapporte.",
    "missing_details": "Ce qui manque à la requête", "wallet_said": "La réponse du portefeuille",
    "presentation": "Attestation présentée", "check": "Vérification", "status": "Résultat",
    "message": "Ce que cela signifie", "valid": "Réussie", "invalid": "Échouée", "unknown": "Non vérifiée",
    "again": "Demander une autre attestation",
    "unknown_result": "Cette demande n’existe pas, ou son résultat n’est plus conservé.",
    "bad_query": "La requête n’est pas valide",
}


def _spaced(text: str) -> str:
    """French punctuation spacing: a no-break space before « : ; ? ! » and inside guillemets, so that a narrow
    phone screen never starts a line with the mark."""
    for mark in (":", ";", "?", "!", "»"):
        text = text.replace(f" {mark}", f"\u00a0{mark}")
    return text.replace("« ", "«\u00a0")


LABELS_FR = {key: _spaced(text) for key, text in LABELS_FR.items()}
HEADLINES_FR = {key: (_spaced(title), _spaced(text)) for key, (title, text) in HEADLINES_FR.items()}
CHECK_PLAIN_FR = {key: (_spaced(a), _spaced(b), _spaced(c)) for key, (a, b, c) in CHECK_PLAIN_FR.items()}
ERROR_TEXT_FR = {key: _spaced(text) for key, text in ERROR_TEXT_FR.items()}
PDF_TEXT_FR = {key: _spaced(text) for key, text in PDF_TEXT_FR.items()}
PRESENTATION_TEXT_FR = {key: _spaced(text) for key, text in PRESENTATION_TEXT_FR.items()}
