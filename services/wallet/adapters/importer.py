"""Import: a credential issued elsewhere enters the wallet only after it verifies.

:class:`~services.wallet.application.ports.CredentialVerifier` is the port. :class:`DataIntegrityVerifier` is the
adapter used until the shared verification pipeline (``microcred.verification.verify_credential``) is wired in: it
checks the document's shape, every Data Integrity proof (keys resolved from ``did:key``, and from our own
``did:web`` issuers through the trust registry when one is given), and the validity window. Anything that could
not be checked (unknown key, remote context, unsupported suite) is a refusal too: a wallet must not accept what it
could not verify. Bitstring status of foreign credentials is not fetched here (that needs the network); status of
our own credentials is known from Kafka by credential id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.did_key import resolve_key
from microcred.jsonld.compacted import compaction_problem
from microcred.registry.ports import RegistryReader
from microcred.sdjwt.view import compact_of
from microcred.verification import (
    CheckId,
    CheckStatus,
    KeyResolver,
    StatusListSource,
    VerificationPorts,
    verify_credential,
)
from microcred.verification.canonical import Canonicalizer, ProcessRunner
from microcred.verification.document import parse_datetime
from microcred.verification.keys import ChainKeyResolver, DidJwkResolver, DidKeyResolver, RegistryKeyResolver
from services.wallet.application.ports import ImportVerdict

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def check_shape(document: Mapping[str, Any], now: datetime) -> ImportVerdict | None:
    """A refusal for a document that is not a usable VC 2.0 credential at ``now``, else None.

    A document whose JSON is not the compacted form of its pinned contexts is refused first (NOT_COMPACTED,
    :mod:`microcred.jsonld.compacted`): the fields read below must be the ones that were signed."""
    refused = compaction_problem(document)
    if refused is not None:
        return ImportVerdict(False, refused.reason, f"{refused.path}: {refused.problem}")
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2_CONTEXT:
        return ImportVerdict(False, "UNSUPPORTED_FORMAT", "@context must start with the VC 2.0 context")
    types = document.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        return ImportVerdict(False, "UNSUPPORTED_FORMAT", "type must include VerifiableCredential")
    if not isinstance(document.get("id"), str) or not document["id"]:
        return ImportVerdict(False, "MISSING_ID", "the credential has no id")
    for name in ("validFrom", "validUntil"):
        if name in document and parse_datetime(document[name]) is None:
            return ImportVerdict(False, "MALFORMED", f"{name} is not a date-time with a time zone")
    valid_from, valid_until = parse_datetime(document.get("validFrom")), parse_datetime(document.get("validUntil"))
    if valid_from is not None and valid_from > now:
        return ImportVerdict(False, "NOT_YET_VALID", f"valid from {document['validFrom']}")
    if valid_until is not None and valid_until <= now:
        return ImportVerdict(False, "EXPIRED", f"expired at {document['validUntil']}")
    return None


class DataIntegrityVerifier:
    """Shape, Data Integrity proofs (did:key; did:web through the registry) and validity window."""

    def __init__(self, registry: RegistryReader | None = None) -> None:
        self.registry = registry

    async def _registry_keys(self, document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
        """Keys of non-did:key verification methods, resolved through the registry for each proof time."""
        if self.registry is None:
            return {}
        raw = document.get("proof")
        proofs = raw if isinstance(raw, list) else [raw]
        keys: dict[str, Ed25519PublicKey] = {}
        for proof in proofs:
            if not isinstance(proof, Mapping) or not isinstance(proof.get("verificationMethod"), str):
                continue
            vm = proof["verificationMethod"]
            if vm.startswith("did:key:"):
                continue
            signed_at = parse_datetime(proof.get("created")) or datetime.now(UTC)
            resolution = await self.registry.resolve_verification_method(vm, signed_at)
            if resolution.public_key is not None:
                keys[vm] = resolution.public_key
        return keys

    async def verify(self, document: Mapping[str, Any], now: datetime) -> ImportVerdict:
        """Refuse at the first failing check; accept only when everything verified."""
        refusal = check_shape(document, now)
        if refusal is not None:
            return refusal
        registry_keys = await self._registry_keys(document)

        def resolve(vm: str) -> Ed25519PublicKey | None:
            return resolve_key(vm) or registry_keys.get(vm)

        outcome = await asyncio.to_thread(verify_data_integrity, document, resolve, now=now)
        if outcome.verified is not True:
            return ImportVerdict(False, outcome.code.value, outcome.message)
        return ImportVerdict(True, "OK", outcome.message)


class NoStatusLists:
    """StatusListSource that has none: the wallet never fetches status lists (their checks read unknown)."""

    async def get(self, url: str) -> tuple[Mapping[str, Any], datetime] | None:
        """Always None (not available)."""
        return None


AUTHENTICITY_CHECKS = (CheckId.FORMAT, CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY, CheckId.VALIDITY_WINDOW)


_SHARED: list[Canonicalizer] = []


def _shared_canonicalizer() -> Canonicalizer:
    """One bounded canonicaliser (one child process) per wallet process, whatever the number of verifiers."""
    if not _SHARED:
        _SHARED.append(Canonicalizer(ProcessRunner()))
    return _SHARED[0]


class PipelineVerifier:
    """The platform's verification pipeline with the wallet's import policy (module docstring)."""

    def __init__(self, registry: RegistryReader | None = None, status: StatusListSource | None = None,
                 canon: Canonicalizer | None = None, x509_anchors: tuple[x509.Certificate, ...] = ()) -> None:
        """``x509_anchors``: the CAs an SD-JWT VC issuer's ``x5c`` must chain to (without them none imports)."""
        resolvers: list[KeyResolver] = [DidKeyResolver(), DidJwkResolver()]
        if registry is not None:
            resolvers.append(RegistryKeyResolver(registry))
        # JSON-LD processing of unknown shapes in a child process with a deadline (never on the event loop)
        self.ports = VerificationPorts(keys=ChainKeyResolver(*resolvers), status=status or NoStatusLists(),
                                       trust=registry, canon=canon or _shared_canonicalizer(),
                                       x509_anchors=x509_anchors)

    async def verify(self, document: Mapping[str, Any], now: datetime) -> ImportVerdict:
        """Refuse on any invalid check or on an authenticity check that is not valid; else accept."""
        report = await verify_credential(document, self.ports, now)
        failed = [c for c in report.checks if c.status is CheckStatus.INVALID]
        authentic = AUTHENTICITY_CHECKS + ((CheckId.DISCLOSURES,) if compact_of(document) is not None else ())
        failed += [c for c in report.checks if c.id in authentic and c.status is not CheckStatus.VALID]
        if failed:
            first = failed[0]
            return ImportVerdict(False, first.reason_code.value, f"{first.id.value}: {first.message}")
        present = {c.id for c in report.checks}
        if not set(authentic) <= present:
            return ImportVerdict(False, "NOT_VERIFIED", "the credential could not be verified")
        unknown = tuple(c.id.value for c in report.checks if c.status is CheckStatus.UNKNOWN)
        return ImportVerdict(True, report.verdict.value.upper(), f"verdict {report.verdict.value}", unknown)
