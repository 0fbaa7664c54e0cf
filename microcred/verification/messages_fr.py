"""French column of :mod:`microcred.verification.messages`: reason messages (the report's codes and the SD-JWT VC
ones), check titles and verdicts. Terms follow the French text of the Council Recommendation of 16 June 2022
(« microcertifications », acquis d’apprentissage, niveau du CEC, assurance qualité); a credential is an
« attestation », as in the PDF. The reader is addressed as « vous »."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CHECK_TITLES_FR", "MESSAGES_FR", "VERDICTS_FR"]

MESSAGES_FR: Mapping[str, str] = {
    # format
    "FORMAT_OK": "Le document est un document bien formé de type {kind} (modèle de données VC {vc_version}).",
    "NOT_JSON_OBJECT": "Le document n’est pas un objet JSON.",
    "INVALID_CONTEXT": "Le @context n’est pas valide : {problem}.",
    "UNKNOWN_CONTEXT": "Le document utilise un contexte JSON-LD que ce service de vérification ne détient pas "
                       "({context}) ; les contextes distants ne sont jamais téléchargés, il n’a donc pas pu être "
                       "vérifié.",
    "NOT_A_CREDENTIAL": "Le type du document ne comprend pas VerifiableCredential.",
    "NOT_A_PRESENTATION": "Le type du document ne comprend pas VerifiablePresentation.",
    "MISSING_FIELD": "Le champ obligatoire {field} est absent.",
    "INVALID_FIELD": "Le champ {field} n’est pas valide : {problem}.",
    "OB3_PROFILE_VIOLATION": "Le document ne respecte pas le profil Open Badges 3.0 : {problem}.",
    "UNDEFINED_TERM": "Le document utilise un terme qu’aucun de ses contextes ne définit : {problem}.",
    "JSONLD_ERROR": "Le document n’est pas du JSON-LD valide : {problem}.",
    "NOT_COMPACTED": "Le document n’est pas sous la forme compactée de ses contextes ({field}) : {problem}. Son JSON "
                     "pourrait être lu autrement que ce qui a été signé, il n’est donc pas lu.",
    "TOO_COMPLEX": "Le document est trop complexe pour être vérifié dans les limites de ce service de vérification "
                   "({field}) : {problem}.",
    "NOT_CHECKED": "Non vérifié : {problem}.",
    "DATA_MODEL_VIOLATION": "Le document enfreint la règle {rule} du modèle de données VC ({field}) : {problem}.",
    "DATA_MODEL_UNCHECKED": "La règle {rule} du modèle de données VC ({field}) n’a pas pu être vérifiée : {problem}.",
    # EU elements
    "EU_ELEMENTS_PRESENT": "Tous les éléments obligatoires de la recommandation du Conseil de l’UE sur les "
                           "microcertifications sont présents.",
    "EU_ELEMENTS_MISSING": "Des éléments obligatoires d’une microcertification de l’UE manquent : {missing}.",
    "NOT_A_MICRO_CREDENTIAL": "L’attestation ne se déclare pas microcertification de l’UE, les éléments de l’UE "
                              "n’étaient donc pas exigés.",
    # signature
    "SIGNATURE_VALID": "La signature numérique ({suite}) est valide : le contenu n’a pas été modifié.",
    "NO_PROOF": "Le document ne porte aucune signature numérique.",
    "INVALID_SIGNATURE": "La signature numérique ne correspond pas au contenu : le document a été modifié ou n’a pas "
                         "été signé avec cette clé.",
    "MALFORMED_PROOF": "Le bloc de signature est mal formé : {problem}.",
    "CANONICALIZATION_ERROR": "Les données signées n’ont pas pu être mises sous forme canonique : {problem}.",
    "PROOF_PURPOSE_MISMATCH": "La signature a été faite pour un autre usage : {problem}.",
    "PROOF_EXPIRED": "La signature a expiré : {problem}.",
    "CONTEXT_MISMATCH": "La signature couvre d’autres contextes JSON-LD : {problem}.",
    "UNSUPPORTED_CRYPTOSUITE": "La signature utilise une suite que ce service de vérification ne prend pas en charge "
                               "({problem}).",
    "KEY_NOT_FOUND": "La clé de signature n’a pas pu être obtenue, la signature n’a donc pas pu être vérifiée "
                     "({problem}).",
    # issuer identity
    "ISSUER_KEY_VALID": "La clé de signature appartient à l’émetteur {issuer} ({method}) et était valide lorsque "
                        "l’attestation a été signée.",
    "ISSUER_UNRESOLVABLE": "L’émetteur {issuer} n’a pas pu être résolu : on ignore donc si la clé de signature lui "
                           "appartient.",
    "KEY_NOT_OF_ISSUER": "La clé de signature {verification_method} n’appartient pas à l’émetteur {issuer}.",
    "KEY_RETIRED": "La clé de signature avait été retirée avant que la signature ne soit faite ({problem}).",
    "KEY_NOT_YET_VALID": "La clé de signature n’était pas encore enregistrée lorsque la signature a été faite "
                         "({problem}).",
    "UNKNOWN_VERIFICATION_METHOD": "L’émetteur n’a pas de telle clé de signature ({problem}).",
    "NO_VERIFICATION_METHOD": "Aucune signature n’indique de clé de signature, l’identité de l’émetteur n’a donc "
                              "pas pu être établie.",
    # accreditation
    "ACCREDITED": "L’émetteur est accrédité par {agency} dans le cadre de {framework} (jusqu’au niveau CEC "
                  "{max_eqf_level}).",
    "ISSUER_NOT_IN_REGISTRY": "L’émetteur {issuer} ne figure pas dans ce registre de confiance ; son accréditation n’a "
                              "pas pu être vérifiée.",
    "NOT_ACCREDITED": "L’émetteur est enregistré mais ne détient aucune accréditation.",
    "ACCREDITATION_SUSPENDED": "L’accréditation de l’émetteur est suspendue ({problem}).",
    "ACCREDITATION_WITHDRAWN": "L’accréditation de l’émetteur a été retirée ({problem}).",
    "ACCREDITATION_EXPIRED": "L’accréditation de l’émetteur avait expiré lorsque l’attestation a été délivrée "
                             "({problem}).",
    "ACCREDITATION_NOT_YET_VALID": "L’accréditation de l’émetteur n’était pas encore en vigueur lorsque l’attestation "
                                   "a été délivrée ({problem}).",
    "EQF_LEVEL_NOT_ALLOWED": "L’émetteur n’est pas accrédité pour ce niveau CEC ({problem}).",
    "REGISTRY_UNAVAILABLE": "Le registre de confiance n’a pas pu être lu ({problem}).",
    # validity window
    "WITHIN_VALIDITY": "L’attestation est dans sa période de validité.",
    "NOT_YET_VALID": "L’attestation n’est pas valide avant le {valid_from}.",
    "EXPIRED": "L’attestation a expiré le {valid_until}.",
    # status
    "NOT_REVOKED": "L’attestation n’a pas été révoquée (liste de statuts vérifiée {age_seconds} s après sa dernière "
                   "mise à jour).",
    "NOT_SUSPENDED": "L’attestation n’est pas suspendue (liste de statuts vérifiée {age_seconds} s après sa dernière "
                     "mise à jour).",
    "REVOKED": "L’émetteur a révoqué cette attestation.",
    "SUSPENDED": "L’émetteur a suspendu cette attestation.",
    "NO_STATUS_ENTRY": "L’émetteur n’a publié aucun statut ({purpose}) pour cette attestation : il n’y a donc rien à "
                       "vérifier.",
    "UNSUPPORTED_STATUS_TYPE": "L’attestation utilise un mécanisme de statut que ce service de vérification ne prend "
                               "pas en charge ({status_type}).",
    "MALFORMED_STATUS_ENTRY": "L’entrée de statut de l’attestation est mal formée : {problem}.",
    "TOO_MANY_STATUS_ENTRIES": "L’attestation comporte {count} entrées de statut, plus que les {limit} que ce service "
                               "de vérification contrôle ; son statut est inconnu.",
    "STATUS_RETRIEVAL_ERROR": "La liste de statuts n’a pas pu être obtenue ({problem}) ; le statut est inconnu.",
    "STATUS_VERIFICATION_ERROR": "La liste de statuts n’est pas digne de confiance ({problem}) ; le statut est "
                                 "inconnu.",
    "STATUS_LIST_EXPIRED": "La liste de statuts est hors de sa période de validité ({problem}) ; le statut est "
                           "inconnu.",
    "STATUS_LIST_LENGTH_ERROR": "La liste de statuts est trop courte pour protéger la vie privée ({problem}).",
    "RANGE_ERROR": "L’index de statut se trouve hors de la liste de statuts ({problem}).",
    # holder binding
    "HOLDER_BOUND": "La présentation a été signée par le titulaire {holder} pour ce défi et ce domaine, et le "
                    "titulaire est le sujet de chaque attestation.",
    "HOLDER_BOUND_NOT_SUBJECT": "La présentation a été signée par le titulaire {holder} pour ce défi et ce domaine ; "
                                "le titulaire n’est pas le sujet de {credentials} (le modèle de données le permet, et "
                                "les règles de ce service de vérification ne l’exigent pas).",
    "NOT_A_PRESENTATION_CHECK": "Le lien avec le titulaire ne concerne que les présentations.",
    "PRESENTATION_SIGNATURE_INVALID": "La signature de la présentation n’est pas valide ({problem}).",
    "PRESENTATION_SIGNATURE_UNKNOWN": "La signature de la présentation n’a pas pu être vérifiée ({problem}).",
    "CHALLENGE_MISMATCH": "La présentation n’a pas été faite pour le défi de ce service de vérification.",
    "DOMAIN_MISMATCH": "La présentation a été faite pour un autre domaine.",
    "NO_CHALLENGE": "Aucun défi n’a été demandé, la présentation pourrait donc être rejouée ; le lien avec le "
                    "titulaire n’est pas établi.",
    "HOLDER_NOT_SIGNER": "La présentation a été signée par {signer}, et non par son titulaire {holder}.",
    "HOLDER_NOT_SUBJECT": "Le titulaire {holder} n’est pas le sujet de l’attestation {credential}.",
    "SUBJECT_NOT_IDENTIFIABLE": "L’attestation {credential} n’indique aucun identifiant de sujet à comparer avec le "
                                "titulaire.",
    "INTERNAL_ERROR": "La vérification a échoué de manière inattendue ({problem}) ; le résultat est inconnu.",
    # SD-JWT VC
    "SD_JWT_FORMAT_OK": "Le document est un SD-JWT VC bien formé ({typ}).",
    "MALFORMED_SD_JWT": "Le SD-JWT est mal formé : {problem}.",
    "TOO_LARGE": "Le SD-JWT dépasse les limites de ce service de vérification : {problem}.",
    "WRONG_TYP": "Le type JWT est {typ}, {expected} était attendu.",
    "UNSUPPORTED_ALGORITHM": "L’algorithme de signature {alg} n’est pas accepté.",
    "MALFORMED_CLAIM": "L’information {field} n’est pas valide : {problem}.",
    "DISCLOSURES_VALID": "Les informations affichées sont celles que l’émetteur a signées (divulguées sélectivement "
                         "par le titulaire : {count}).",
    "MALFORMED_DISCLOSURE": "Une divulgation est mal formée : {problem}.",
    "MISPLACED_DISCLOSURE": "Une divulgation est utilisée au mauvais endroit : {problem}.",
    "RESERVED_CLAIM_NAME": "Une divulgation utilise un nom d’information réservé : {problem}.",
    "CLAIM_NAME_COLLISION": "Une information divulguée entre en conflit avec une autre : {problem}.",
    "DUPLICATE_DIGEST": "Une empreinte apparaît plus d’une fois : {problem}.",
    "DUPLICATE_DISCLOSURE": "Une divulgation est incluse deux fois : {problem}.",
    "DISCLOSURE_NOT_REFERENCED": "Une divulgation n’a pas été signée par l’émetteur : {problem}.",
    "UNSUPPORTED_HASH": "L’algorithme d’empreinte n’est pas pris en charge : {problem}.",
    "ISSUER_CERTIFICATE_VALID": "Le certificat de l’émetteur ({subject}) remonte à l’ancre de confiance {anchor} et "
                                "désigne l’émetteur {issuer}.",
    "ISSUER_KEY_PINNED": "La clé de signature est la clé configurée pour l’émetteur {issuer}.",
    "MALFORMED_X5C": "La chaîne de certificats de l’émetteur est mal formée : {problem}.",
    "NO_TRUST_ANCHORS": "Aucune ancre de confiance n’est configurée, le certificat de l’émetteur n’a donc pas pu être "
                        "vérifié.",
    "CHAIN_UNTRUSTED": "Le certificat de l’émetteur ne remonte pas à une ancre de confiance : {problem}.",
    "KEY_USAGE_MISMATCH": "Le certificat de l’émetteur ne peut pas servir à cette signature : {problem}.",
    "ISSUER_NOT_IN_CERTIFICATE": "Le certificat ne désigne pas l’émetteur {issuer}.",
    "TYPE_METADATA_VALID": "Le type d’attestation {vct} est connu, ses métadonnées sont intactes et ses informations "
                           "sont conformes.",
    "UNKNOWN_VCT": "Le type d’attestation {vct} n’est pas connu de ce service de vérification.",
    "INTEGRITY_MISMATCH": "Les métadonnées du type ne correspondent pas à la valeur d’intégrité signée par l’émetteur "
                          "({problem}).",
    "CLAIM_METADATA_VIOLATION": "L’information {path} enfreint les métadonnées du type : {problem}.",
    "ISSUED_IN_FUTURE": "L’attestation indique une date de délivrance dans le futur ({iat}).",
    "KEY_BINDING_VALID": "Le titulaire a prouvé qu’il détient la clé de l’attestation pour ce nonce et ce "
                         "destinataire.",
    "NO_KEY_BINDING": "La présentation ne comporte aucun lien avec une clé : elle pourrait être une copie présentée "
                      "par quelqu’un d’autre.",
    "NO_HOLDER_KEY": "L’attestation n’indique aucune clé du titulaire (cnf), le lien avec la clé ne peut donc pas être "
                     "vérifié.",
    "UNSUPPORTED_HOLDER_KEY": "L’attestation désigne la clé de son titulaire par une méthode que ce service de "
                              "vérification ne lit pas ({methods}), le lien avec la clé ne peut donc pas être vérifié.",
    "KB_JWT_INVALID": "Le JWT de lien avec la clé n’est pas valide : {problem}.",
    "SD_HASH_MISMATCH": "Le JWT de lien avec la clé a été fait pour d’autres divulgations (sd_hash différent).",
    "KB_JWT_STALE": "Le JWT de lien avec la clé n’a pas été fait maintenant ({problem}).",
    "STATUS_LIST_MISMATCH": "Le jeton de liste de statuts n’est pas celui auquel l’attestation renvoie ({problem}).",
}

CHECK_TITLES_FR: Mapping[str, str] = {
    "format": "Format et schéma",
    "eu_elements": "Éléments obligatoires de l’UE",
    "signature": "Signature numérique",
    "issuer_identity": "Identité et clé de l’émetteur",
    "accreditation": "Accréditation (registre de confiance)",
    "validity_window": "Période de validité",
    "revocation": "Révocation",
    "suspension": "Suspension",
    "holder_binding": "Lien avec le titulaire",
    "disclosures": "Divulgations sélectives",
    "type_metadata": "Type d’attestation et métadonnées",
}

VERDICTS_FR: Mapping[str, str] = {
    "valid": "Valide : toutes les vérifications requises ont réussi.",
    "invalid": "Non valide : au moins une vérification a échoué.",
    "undetermined": "Indéterminé : certaines vérifications requises n’ont pas pu être effectuées.",
}


def _spaced(text: str) -> str:
    """French punctuation spacing: a no-break space before « : ; ? ! » so that a line never starts with the mark."""
    for mark in (":", ";", "?", "!"):
        text = text.replace(f" {mark}", f"\u00a0{mark}")
    return text


MESSAGES_FR = {code: _spaced(text) for code, text in MESSAGES_FR.items()}
VERDICTS_FR = {key: _spaced(text) for key, text in VERDICTS_FR.items()}
