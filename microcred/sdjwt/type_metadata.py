"""SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc §4, §5): our ``vct``, integrity, claim metadata checks.

The platform's type for EU micro-credentials is :data:`VCT`; its Type Metadata document ships in this package
(``metadata/eu-micro-credential-v1.json``: display per language en/pl/de/fr, claim labels per language,
``sd`` and ``mandatory`` rules) and is never fetched: a verifier holds a :class:`TypeMetadataRegistry` of the
documents it knows ("from a local cache", §4.3.4). The exact bytes matter: ``vct#integrity`` is a W3C Subresource
Integrity value over them (:func:`integrity`), which the issuer signs and the verifier checks
(:func:`integrity_matches`).

:func:`claim_metadata_violations` is the §4.6 validation of a processed payload: a claim selected by a path
with ``sd: always`` must have come from a Disclosure, one with ``sd: never`` must not, and a mandatory claim
that may not be selectively disclosable must be present. Absence of a selectively disclosable claim is never
held against the issuer (the holder may simply not have disclosed it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from microcred.sdjwt.core import Processed, issued_indexes
from microcred.sdjwt.jose import strict_json_loads

__all__ = [
    "VCT",
    "ClaimPathError",
    "ClaimRules",
    "TypeMetadataRegistry",
    "claim_metadata_violations",
    "claim_rules",
    "default_registry",
    "document_claim_rules",
    "integrity",
    "integrity_matches",
    "parsed_type_metadata",
    "type_metadata_bytes",
]

#: The platform's SD-JWT VC type for EU micro-credentials.
VCT = "https://microcred.eu/vct/eu-micro-credential/v1"
_FILE = "eu-micro-credential-v1.json"
_SRI = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_SRI_STRENGTH = ("sha256", "sha384", "sha512")

Path = tuple[str | int, ...]


@cache
def type_metadata_bytes() -> bytes:
    """The Type Metadata document of :data:`VCT`, byte for byte as shipped (and served)."""
    return resources.files("microcred.sdjwt").joinpath("metadata", _FILE).read_bytes()


def integrity(data: bytes, alg: str = "sha256") -> str:
    """W3C SRI integrity metadata for ``data``, e.g. ``sha256-<base64>``."""
    return f"{alg}-" + base64.b64encode(_SRI[alg](data).digest()).decode("ascii")


def integrity_matches(data: bytes, metadata: str) -> bool:
    """SRI §3.3.5: ``data`` matches one of the strongest-algorithm values in ``metadata``.

    Raises ValueError when ``metadata`` names no supported algorithm (it cannot be checked, which is not a
    match and not a mismatch either).
    """
    if not isinstance(metadata, str):
        raise ValueError("integrity metadata must be a string")
    by_alg: dict[str, list[str]] = {}
    for token in metadata.split():
        alg, sep, value = token.partition("-")
        if sep and alg in _SRI:
            by_alg.setdefault(alg, []).append(value.split("?", 1)[0])
    if not by_alg:
        raise ValueError("no supported hash algorithm in the integrity metadata")
    strongest = max(by_alg, key=_SRI_STRENGTH.index)
    expected = _SRI[strongest](data).digest()
    # compared as octets after base64 decoding (SD-JWT VC, integrity of referenced documents), so that a value
    # written without its '=' padding matches too
    return any(hmac.compare_digest(expected, _sri_octets(value)) for value in by_alg[strongest])


def _sri_octets(value: str) -> bytes:
    """The octets of an SRI base64 value (standard or URL-safe alphabet, padding optional); b'' when it is not
    base64 (matches no digest)."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


@dataclass(frozen=True)
class TypeMetadataRegistry:
    """The Type Metadata documents a verifier knows, by ``vct`` (raw bytes, as their integrity covers them)."""

    documents: Mapping[str, bytes]

    def get(self, vct: str) -> bytes | None:
        """The document for ``vct``, or None when unknown."""
        return self.documents.get(vct)


def default_registry() -> TypeMetadataRegistry:
    """A registry holding the platform's own type."""
    return TypeMetadataRegistry({VCT: type_metadata_bytes()})


@lru_cache(maxsize=32)
def parsed_type_metadata(document: bytes) -> Any:
    """The parsed Type Metadata document (strict JSON; cached, a verifier sees the same few documents)."""
    return strict_json_loads(document)


# --------------------------------------------------------------------------------------------- claim metadata


class ClaimPathError(ValueError):
    """A claim path met an element of the wrong type (SD-JWT VC, processing of ``path``: "abort processing and
    return an error"; claim metadata that fails to process rejects the credential)."""


def _wrong_type(issued_path: Path, expected: str) -> ClaimPathError:
    return ClaimPathError(f"the path meets {list(issued_path)}, which is not an {expected}")


def _select(node: Any, path: list[Any], hidden: frozenset[Path]) -> list[tuple[Path, Any]]:
    """(issued path, value) of every claim the ``path`` selects in the processed payload ``node`` (SD-JWT VC,
    processing of ``path``); :class:`ClaimPathError` when a component meets an element of the wrong type.

    Breadth-first over the path's components (a list per step rather than nested generators: this runs for
    every claim metadata entry of every credential verified)."""
    frontier: list[tuple[Path, Any]] = [((), node)]
    for head in path:
        following: list[tuple[Path, Any]] = []
        for issued_path, value in frontier:
            if isinstance(head, str):
                if not isinstance(value, Mapping):
                    raise _wrong_type(issued_path, "object")
                if head in value:
                    following.append(((*issued_path, head), value[head]))
                continue
            if not isinstance(value, list):
                raise _wrong_type(issued_path, "array")
            # array elements the holder did not disclose are absent from the processed payload: recover the
            # issued index of each remaining element so that paths compare with the Disclosures' paths
            for index, item in zip(issued_indexes(issued_path, len(value), hidden), value, strict=True):
                if head is None or head == index:
                    following.append(((*issued_path, index), item))
        frontier = following
        if not frontier:
            break
    return frontier


def _valid_path(path: Any) -> bool:
    return (isinstance(path, list) and bool(path)
            and all(p is None or isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool) and p >= 0)
                    for p in path))


def _present(claims: Any, path: tuple[Any, ...]) -> list[Path]:
    """``[path]`` when the claim at a path of names only is in the processed payload, else none (what
    :func:`_select` finds for such a path, without its frontier lists, and the same :class:`ClaimPathError`)."""
    value = claims
    for depth, name in enumerate(path):
        if not isinstance(value, dict):
            raise _wrong_type(path[:depth], "object")
        if name not in value:
            return []
        value = value[name]
    return [path]


@dataclass(frozen=True, slots=True)
class _Rule:
    """One claim metadata entry that a payload can break: ``sd`` always or never (an ``allowed`` entry asks
    nothing of a payload), and whether the claim is mandatory."""

    path: tuple[str | int | None, ...]
    sd: str
    mandatory: bool
    names_only: bool  # every component a claim name: the selection is one walk down objects


#: A document's claim metadata as checked: rules, and (path, problem) for its own broken entries, in its order.
ClaimRules = tuple[_Rule | tuple[str, str], ...]


def claim_rules(metadata: Mapping[str, Any]) -> ClaimRules:
    """The claim metadata of a Type Metadata document, read into rules (its own broken entries kept as problems,
    where they stand, so that they are reported for every credential as they would be found)."""
    claims = metadata.get("claims", [])
    if not isinstance(claims, list):
        return (("claims", "the Type Metadata's claims must be an array"),)
    rules: list[_Rule | tuple[str, str]] = []
    for entry in claims:
        path = entry.get("path") if isinstance(entry, Mapping) else None
        if not isinstance(entry, Mapping) or not _valid_path(path):
            rules.append((str(path), "claim metadata without a valid path"))
            continue
        assert isinstance(path, list)
        sd = entry.get("sd", "allowed")
        if sd not in ("always", "allowed", "never"):
            rules.append((str(path), f"unknown sd value {sd!r}"))
        elif sd != "allowed":
            rules.append(_Rule(tuple(path), sd, entry.get("mandatory") is True,
                               all(isinstance(p, str) for p in path)))
    return tuple(rules)


@lru_cache(maxsize=32)
def document_claim_rules(document: bytes) -> ClaimRules:
    """:func:`claim_rules` of a document known by its bytes (:func:`parsed_type_metadata`), read once: a verifier
    sees the same few documents, and walking 33 entries again for every credential was a tenth of its CPU."""
    metadata = parsed_type_metadata(document)
    return claim_rules(metadata if isinstance(metadata, Mapping) else {})


def claim_metadata_violations(rules: ClaimRules | Mapping[str, Any], processed: Processed) -> list[tuple[str, str]]:
    """Every (path, problem) where the processed payload breaks the Type Metadata's claim metadata (§4.6), given
    as rules (:func:`claim_rules`) or as the document."""
    if isinstance(rules, Mapping):
        rules = claim_rules(rules)
    problems: list[tuple[str, str]] = []
    disclosed = processed.disclosed_paths
    for rule in rules:
        if not isinstance(rule, _Rule):
            problems.append(rule)
            continue
        try:
            selected = _present(processed.claims, rule.path) if rule.names_only else \
                [p for p, _ in _select(processed.claims, list(rule.path), processed.hidden_array_elements)]
        except ClaimPathError as exc:
            problems.append((str(list(rule.path)), str(exc)))
            continue
        for issued_path in selected:
            if rule.sd == "always" and issued_path not in disclosed:
                problems.append((str(list(issued_path)), "must be selectively disclosable, but is signed in clear"))
            if rule.sd == "never" and issued_path in disclosed:
                problems.append((str(list(issued_path)), "must not be selectively disclosable"))
        if rule.mandatory and rule.sd == "never" and not selected:
            problems.append((str(list(rule.path)), "mandatory claim is missing"))
    return problems
