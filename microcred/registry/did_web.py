"""did:web for our issuers: identifiers, DID documents with key history, and registry-backed key resolution.

An issuer ``uni-a`` on a platform served at ``trust.example:8443`` is
``did:web:trust.example%3A8443:issuers:uni-a`` (the port's colon percent-encoded, as the did:web method requires);
its document is served at ``https://trust.example:8443/issuers/uni-a/did.json``. Verification methods are
``{did}#key-1``, ``{did}#key-2``, ...; the private key of ``#key-n`` sits in the key store under
``{issuer_id}/key-n``.

The DID document lists *every* key the issuer ever had, as a ``Multikey`` with ``publicKeyMultibase``, and all
of them under ``assertionMethod``, so credentials signed before a rotation keep verifying. A retired method
carries ``revoked`` (an ``xsd:dateTime`` defined by the Multikey context and the W3C Controlled Identifiers
spec): a signature made at or after that time must not be accepted.

Data Integrity key resolvers are synchronous and do not see the proof's ``created`` time, while validity
depends on it. :func:`registry_keys` therefore resolves every proof's method *at its ``created`` time* ahead of
verification and hands back a plain :data:`~microcred.crypto.data_integrity.KeyResolver` plus the reason
(:class:`~microcred.registry.ports.KeyProblem`) for each method it refused; :func:`verify_with_registry` puts
both together. A proof's ``created`` is chosen by the signer: the retirement check stops a retired key from
signing "now", not a holder of a stolen key who backdates ``created`` (that needs revocation of credentials).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf import timestamp_pb2

from microcred.crypto.data_integrity import VerificationOutcome, verify_data_integrity
from microcred.gen.microcred.v1 import registry_pb2
from microcred.registry.domain import to_datetime
from microcred.registry.ports import KeyProblem, KeyResolution, RegistryReader

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
_KEY_FRAGMENT = re.compile(r"#key-([1-9][0-9]*)\Z")


def did_web_id(public_host: str, issuer_id: str) -> str:
    """``did:web:{host with port percent-encoded}:issuers:{issuer_id}``."""
    host = public_host.strip().rstrip("/")
    if not host or "/" in host:
        raise ValueError(f"public host must be host[:port], got {public_host!r}")
    return f"did:web:{quote(host.lower(), safe='')}:issuers:{quote(issuer_id, safe='')}"


def did_web_url(did: str) -> str:
    """The HTTPS URL a did:web DID resolves to (``.../did.json``)."""
    if not did.startswith("did:web:"):
        raise ValueError(f"not a did:web DID: {did!r}")
    host, *path = did[len("did:web:"):].split("#", 1)[0].split(":")
    base = f"https://{unquote(host)}"
    return f"{base}/{'/'.join(unquote(p) for p in path)}/did.json" if path else f"{base}/.well-known/did.json"


def https_of_did_web(did: str) -> str | None:
    """The ``https`` identifier naming the same place as a did:web (the inverse of :func:`did_web_of_https`):
    ``did:web:host%3Aport:issuers:a`` -> ``https://host:port/issuers/a``; None for any other DID. An SD-JWT VC
    issued by a did:web issuer carries it as ``iss`` (the JWT VC Issuer Metadata lives under it)."""
    if not did.startswith("did:web:") or "#" in did or "?" in did:
        return None
    host, *path = did[len("did:web:"):].split(":")
    if not host:
        return None
    return "/".join([f"https://{unquote(host)}", *(quote(unquote(p), safe="") for p in path)])


def did_web_of_https(url: str) -> str | None:
    """The did:web naming the same place as an ``https`` identifier (an SD-JWT VC ``iss``): the mapping of
    :func:`did_web_url` read backwards (``https://host:port/issuers/a`` -> ``did:web:host%3Aport:issuers:a``), or
    None for a URL that no did:web names (another scheme, no host, a query or a fragment)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 literal: no did:web names it
        return None
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    segments = [quote(unquote(s), safe="") for s in parts.path.strip("/").split("/") if s]
    return ":".join(["did:web", quote(parts.netloc.lower(), safe=""), *segments])


def method_id(did: str, n: int) -> str:
    """Verification method id of the issuer's ``n``-th key."""
    return f"{did}#key-{n}"


def key_store_id(issuer_id: str, n: int) -> str:
    """Key-store id of the issuer's ``n``-th private key."""
    return f"{issuer_id}/key-{n}"


def key_number(verification_method_id: str) -> int | None:
    """``n`` of a ``...#key-n`` method id, or None for any other id."""
    match = _KEY_FRAGMENT.search(verification_method_id)
    return int(match.group(1)) if match else None


def key_store_id_for_method(issuer_id: str, verification_method_id: str) -> str:
    """Key-store id holding the private key of one of the issuer's methods (what the issuer service signs with)."""
    n = key_number(verification_method_id)
    if n is None:
        raise ValueError(f"{verification_method_id!r} is not a '#key-n' method of a platform issuer")
    return key_store_id(issuer_id, n)


def _xsd(ts: timestamp_pb2.Timestamp) -> str:
    return to_datetime(ts).isoformat().replace("+00:00", "Z")


def build_did_document(issuer: registry_pb2.Issuer) -> dict[str, Any]:
    """The issuer's DID document: all keys, current and retired (``revoked``), all under ``assertionMethod``."""
    methods: list[dict[str, Any]] = []
    for vm in issuer.verification_methods:
        entry: dict[str, Any] = {"id": vm.id, "type": "Multikey", "controller": issuer.did,
                                 "publicKeyMultibase": vm.public_key_multibase}
        if vm.HasField("retired_at"):
            entry["revoked"] = _xsd(vm.retired_at)
        methods.append(entry)
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": issuer.did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


async def resolve_verification_method(registry: RegistryReader, verification_method_id: str,
                                      signed_at: datetime) -> KeyResolution:
    """Resolve one of our did:web verification methods for a signature made at ``signed_at``."""
    if not verification_method_id.startswith("did:web:") or "#" not in verification_method_id:
        return KeyResolution(None, KeyProblem.UNKNOWN_VERIFICATION_METHOD,
                             f"{verification_method_id!r} is not a did:web verification method")
    return await registry.resolve_verification_method(verification_method_id, signed_at)


def _proofs(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = document.get("proof")
    proofs = raw if isinstance(raw, list) else [raw] if raw is not None else []
    return [p for p in proofs if isinstance(p, Mapping)]


def _signed_at(proof: Mapping[str, Any], now: datetime) -> datetime:
    created = proof.get("created")
    if isinstance(created, str):
        try:
            parsed = datetime.fromisoformat(created)
        except ValueError:
            return now
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return now


@dataclass
class RegistryKeys:
    """Keys of a document's proofs resolved at their ``created`` times, and the reasons for refused ones."""

    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    problems: dict[str, KeyResolution] = field(default_factory=dict)

    def __call__(self, verification_method_id: str) -> Ed25519PublicKey | None:
        """A :data:`~microcred.crypto.data_integrity.KeyResolver` (no key for a refused method)."""
        return self.keys.get(verification_method_id)


async def registry_keys(registry: RegistryReader, document: Mapping[str, Any],
                        now: datetime | None = None, purpose: str = "assertionMethod") -> RegistryKeys:
    """Resolve every did:web method named by ``document``'s proofs at that proof's ``created`` time, for
    ``purpose`` proofs: our DID documents list every key under ``assertionMethod`` only, so a key is refused
    (UNKNOWN_VERIFICATION_METHOD) for any other purpose."""
    now = now or datetime.now(UTC)
    out = RegistryKeys()
    for proof in _proofs(document):
        method = proof.get("verificationMethod")
        if not isinstance(method, str) or not method.startswith("did:web:"):
            continue
        resolution = await resolve_verification_method(registry, method, _signed_at(proof, now))
        if resolution.public_key is not None and purpose != "assertionMethod":
            resolution = KeyResolution(None, KeyProblem.UNKNOWN_VERIFICATION_METHOD,
                                       f"{method} is listed under assertionMethod only, not {purpose}")
        if resolution.public_key is None:
            out.problems[method] = resolution
            out.keys.pop(method, None)
        elif method not in out.problems:
            out.keys[method] = resolution.public_key
    return out


#: Key problems that make a proof definitely invalid (not merely unverifiable): the issuer is ours and known.
DEFINITE_KEY_PROBLEMS = frozenset({KeyProblem.KEY_RETIRED, KeyProblem.KEY_NOT_YET_VALID,
                                   KeyProblem.UNKNOWN_VERIFICATION_METHOD})


@dataclass(frozen=True)
class RegistryVerification:
    """A Data Integrity outcome plus, when a key was refused, the registry's reason."""

    outcome: VerificationOutcome
    key_problem: KeyResolution | None = None

    @property
    def verified(self) -> bool | None:
        """True, False (definitely invalid, e.g. signed by a retired key) or None (could not be checked)."""
        if self.key_problem is not None and self.key_problem.problem in DEFINITE_KEY_PROBLEMS:
            return False
        return self.outcome.verified

    @property
    def reason(self) -> str:
        """The specific reason: the registry's key problem when there is one, else the verification code."""
        if self.key_problem is not None and self.key_problem.problem is not None:
            return self.key_problem.problem.value
        return self.outcome.code.value


async def verify_with_registry(document: Mapping[str, Any], registry: RegistryReader,
                               now: datetime | None = None, **options: Any) -> RegistryVerification:
    """Verify ``document``'s proofs with keys from the trust registry (``options`` go to the verifier; their
    ``expected_proof_purpose`` also picks the verification relationship the keys must hold)."""
    keys = await registry_keys(registry, document, now, options.get("expected_proof_purpose", "assertionMethod"))
    outcome = verify_data_integrity(document, keys, now=now, **options)
    problem = keys.problems.get(outcome.verification_method or "") if outcome.verified is not True else None
    return RegistryVerification(outcome, problem)
