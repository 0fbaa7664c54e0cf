"""Ready-made DCQL queries an employer can pick instead of writing one (the page's templates and the API's
``template``). Each is a valid query (:func:`microcred.oid4vp.dcql.parse_query`, pinned by a unit test)."""

from __future__ import annotations

from typing import Any

from microcred.sdjwt.type_metadata import VCT

__all__ = ["TEMPLATES", "template"]


def _eqf_at_least(level: int) -> list[int]:
    # DCQL has no comparison operators: "at least" is the list of acceptable values (EQF levels run 1-8).
    return list(range(level, 9))


def _micro_credential(min_eqf: int | None) -> dict[str, Any]:
    claims: list[dict[str, Any]] = [
        {"id": "title", "path": ["achievement_title"]},
        {"id": "outcomes", "path": ["learning_outcomes"]},
        {"id": "issuer", "path": ["issuing_authority"]},
    ]
    if min_eqf is not None:
        claims.append({"id": "eqf", "path": ["level_of_learning_experience", "eqf_level"],
                       "values": _eqf_at_least(min_eqf)})
    return {"credentials": [{"id": "micro_credential", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                             "claims": claims}]}


TEMPLATES: dict[str, dict[str, Any]] = {
    "micro-credential": _micro_credential(None),
    "micro-credential-eqf6": _micro_credential(6),
    "open-badge": {"credentials": [{
        "id": "open_badge", "format": "ldp_vc",
        # fully expanded IRIs (B.1.1); the Open Badges 3.0 context maps AchievementCredential to this IRI
        "meta": {"type_values": [["https://www.w3.org/2018/credentials#VerifiableCredential",
                                  "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"]]},
        "claims": [{"path": ["credentialSubject", "achievement", "name"]}, {"path": ["issuer"]}]}]},
}


def template(name: str) -> dict[str, Any] | None:
    """A copy of the named template's query, or None."""
    found = TEMPLATES.get(name)
    return None if found is None else {**found}
