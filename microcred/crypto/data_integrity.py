"""W3C Data Integrity proofs with Ed25519 (STANDARDS.md §3.2 to §3.4).

Supported:

* ``DataIntegrityProof`` with cryptosuite ``eddsa-rdfc-2022`` (RDFC-1.0 canonical N-Quads). Open
  Badges 3.0 conformance requires this suite. We sign with it.
* ``DataIntegrityProof`` with cryptosuite ``eddsa-jcs-2022`` (RFC 8785 JSON canonicalisation).
* legacy ``Ed25519Signature2020`` (VC 1.1 era). It is verified only.

Every suite signs ``SHA-256(canonical proof config) || SHA-256(canonical document)``. The proof
config hash comes first. The signature is pure Ed25519, encoded as multibase base58btc.

Verification never returns ``verified=True`` unless every proof was fully checked. The value of
``verified`` means:

* ``True``: every proof verified (code ``OK``).
* ``False``: the document is definitely not valid under its proofs: bad signature, malformed
  proof, wrong purpose, challenge or domain, expired proof, uncanonicalisable data, or no proof.
* ``None``: unknown. Something could not be checked: an unpinned context, an unsupported suite,
  an unresolvable key. The code says which.

Proof sets (several independent proofs) and proof chains (``previousProof``) are supported. All
proofs must verify.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from microcred.crypto import ed25519, jcs
from microcred.crypto.multikey import MultikeyError, decode_base58btc, encode_base58btc
from microcred.jsonld.loader import (
    CanonicalizationError,
    ContextIntegrityError,
    RemoteContextRefused,
    TooComplex,
    canonize,
)

__all__ = [
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "KeyResolver",
    "VerificationCode",
    "VerificationOutcome",
    "chain_resolvers",
    "sign_eddsa_jcs_2022",
    "sign_eddsa_rdfc_2022",
    "verify_data_integrity",
]

EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
EDDSA_JCS_2022 = "eddsa-jcs-2022"
_DI_PROOF = "DataIntegrityProof"
_ED25519_2020 = "Ed25519Signature2020"

KeyResolver = Callable[[str], Ed25519PublicKey | None]
"""Maps a verification method id to its Ed25519 public key, or None when it cannot be resolved.

The resolver must also check that the controller authorises the key for the proof purpose (for
example that the key is listed under ``assertionMethod``). did:key does this by construction.
"""

# xsd:dateTimeStamp: a date-time with a mandatory time zone.
_DATETIME_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class VerificationCode(StrEnum):
    """Why a verification ended the way it did."""

    OK = "OK"
    NO_PROOF = "NO_PROOF"
    UNSUPPORTED_CRYPTOSUITE = "UNSUPPORTED_CRYPTOSUITE"
    MALFORMED_PROOF = "MALFORMED_PROOF"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    REMOTE_CONTEXT = "REMOTE_CONTEXT"
    CANONICALIZATION_ERROR = "CANONICALIZATION_ERROR"
    PROOF_PURPOSE_MISMATCH = "PROOF_PURPOSE_MISMATCH"
    CHALLENGE_MISMATCH = "CHALLENGE_MISMATCH"
    DOMAIN_MISMATCH = "DOMAIN_MISMATCH"
    CONTEXT_MISMATCH = "CONTEXT_MISMATCH"
    PROOF_EXPIRED = "PROOF_EXPIRED"


@dataclass(frozen=True, slots=True)
class VerificationOutcome:
    """Result of verifying a document's proof(s); ``proofs`` holds per-proof results for sets."""

    verified: bool | None
    code: VerificationCode
    message: str
    verification_method: str | None = None
    created: str | None = None
    cryptosuite: str | None = None
    proofs: tuple[VerificationOutcome, ...] = ()


class _ProofFailure(Exception):
    """Internal: ends the check of one proof with a given outcome."""

    def __init__(self, verified: bool | None, code: VerificationCode, message: str) -> None:
        super().__init__(message)
        self.verified = verified
        self.code = code


def chain_resolvers(*resolvers: KeyResolver) -> KeyResolver:
    """Combine key resolvers: the first one that returns a key wins."""

    def resolve(verification_method: str) -> Ed25519PublicKey | None:
        for resolver in resolvers:
            key = resolver(verification_method)
            if key is not None:
                return key
        return None

    return resolve


# --------------------------------------------------------------------------------------------------
# hashing


@lru_cache(maxsize=4096)
def _canonize_json(serialised: str) -> str:
    # Proof configs repeat exactly while `created` stays within the same second (issuing at
    # 1000 signatures/s), so caching their N-Quads saves one canonize per signature. Otherwise they
    # differ only in values (created, verificationMethod): the per-shape template canonicaliser,
    # checked against pyld on each shape's first use, does them without pyld.
    with _PROOF_CANON_LOCK:  # a template keeps per-fill state; callers may be on several threads
        result: str = _proof_canon().canonize(json.loads(serialised))
    return result


_PROOF_CANON_LOCK = threading.Lock()


@cache
def _proof_canon() -> Any:
    from microcred.credential.canon import TemplateCanonicalizer  # late: canon imports the loader stack

    return TemplateCanonicalizer(max_templates=64)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _rdfc_hash_data(unsecured: Mapping[str, Any], proof_options: Mapping[str, Any],
                    unsecured_nquads: str | Exception | None = None) -> bytes:
    # The document's @context is used to canonicalise the proof config but is not part of the proof.
    config = {k: v for k, v in proof_options.items() if k not in ("proofValue", "jws", "signatureValue")}
    config["@context"] = unsecured.get("@context")
    proof_nquads = _canonize_json(json.dumps(config, sort_keys=True, separators=(",", ":")))
    if isinstance(unsecured_nquads, Exception):  # canonicalising the document already failed: the same error
        raise unsecured_nquads
    document_nquads = unsecured_nquads if unsecured_nquads is not None else canonize(unsecured)
    return _sha256(proof_nquads.encode()) + _sha256(document_nquads.encode())


def _jcs_hash_data(unsecured: Mapping[str, Any], proof_options: Mapping[str, Any]) -> bytes:
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return _sha256(jcs.canonicalize(config)) + _sha256(jcs.canonicalize(dict(unsecured)))


# --------------------------------------------------------------------------------------------------
# signing


def _format_created(created: datetime | str | None) -> str:
    if created is None:
        created = datetime.now(UTC).replace(microsecond=0)
    if isinstance(created, datetime):
        if created.tzinfo is None:
            raise ValueError("created must be timezone-aware")
        return created.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if not _DATETIME_STAMP.match(created):
        raise ValueError(f"created {created!r} is not an XML Schema dateTimeStamp")
    return created


def _sign(
    suite: str,
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    proof_purpose: str,
    created: datetime | str | None,
    challenge: str | None,
    domain: str | None,
) -> dict[str, Any]:
    if not verification_method:
        raise ValueError("verification_method is required")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof: dict[str, Any] = {
        "type": _DI_PROOF,
        "cryptosuite": suite,
        "created": _format_created(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    if suite == EDDSA_JCS_2022:
        if "@context" in unsecured:
            proof["@context"] = unsecured["@context"]
        hash_data = _jcs_hash_data(unsecured, proof)
    else:
        hash_data = _rdfc_hash_data(unsecured, proof)
    proof["proofValue"] = encode_base58btc(private_key.sign(hash_data))

    signed = copy.deepcopy(dict(document))
    existing = signed.get("proof")
    # Adding to an already-signed document makes a proof set; the new proof does not cover the old.
    if existing is None:
        signed["proof"] = proof
    else:
        signed["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
    return signed


def sign_eddsa_rdfc_2022(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    proof_purpose: str = "assertionMethod",
    created: datetime | str | None = None,
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """Return a deep copy of ``document`` secured with an ``eddsa-rdfc-2022`` DataIntegrityProof.

    ``created`` defaults to now (UTC, whole seconds). It raises ``RemoteContextRefused`` or
    ``CanonicalizationError`` when the document cannot be canonicalised in safe mode.
    """
    return _sign(
        EDDSA_RDFC_2022, document, private_key, verification_method, proof_purpose, created, challenge, domain
    )


def sign_eddsa_jcs_2022(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    proof_purpose: str = "assertionMethod",
    created: datetime | str | None = None,
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """Return a deep copy of ``document`` secured with an ``eddsa-jcs-2022`` DataIntegrityProof."""
    return _sign(
        EDDSA_JCS_2022, document, private_key, verification_method, proof_purpose, created, challenge, domain
    )


# --------------------------------------------------------------------------------------------------
# verification


@dataclass(frozen=True, slots=True)
class _Expectations:
    proof_purpose: str
    challenge: str | None
    domain: str | None
    now: datetime


def _check_proof_fields(proof: Mapping[str, Any], expect: _Expectations) -> bytes:
    """Check a proof's structure and the caller's expectations, returning the signature bytes."""
    for name in ("verificationMethod", "proofPurpose", "proofValue"):
        if not isinstance(proof.get(name), str) or not proof[name]:
            raise _ProofFailure(False, VerificationCode.MALFORMED_PROOF, f"proof.{name} missing or not a string")
    stamps = {name: _parse_stamp(proof, name) for name in ("created", "expires")}
    try:
        signature = decode_base58btc(proof["proofValue"])
    except MultikeyError as exc:
        raise _ProofFailure(False, VerificationCode.MALFORMED_PROOF, f"proofValue: {exc}") from exc
    if len(signature) != 64:
        raise _ProofFailure(False, VerificationCode.MALFORMED_PROOF, "proofValue is not a 64-byte Ed25519 signature")
    if proof["proofPurpose"] != expect.proof_purpose:
        raise _ProofFailure(
            False,
            VerificationCode.PROOF_PURPOSE_MISMATCH,
            f"proofPurpose {proof['proofPurpose']!r}, expected {expect.proof_purpose!r}",
        )
    if expect.challenge is not None and proof.get("challenge") != expect.challenge:
        raise _ProofFailure(False, VerificationCode.CHALLENGE_MISMATCH, "proof challenge does not match")
    if expect.domain is not None:
        domains = proof.get("domain")
        if expect.domain not in (domains if isinstance(domains, list) else [domains]):
            raise _ProofFailure(False, VerificationCode.DOMAIN_MISMATCH, "proof domain does not match")
    expires = stamps["expires"]
    if expires is not None and expires < expect.now:
        raise _ProofFailure(False, VerificationCode.PROOF_EXPIRED, f"proof expired at {proof['expires']}")
    return signature


def _parse_stamp(proof: Mapping[str, Any], name: str) -> datetime | None:
    value = proof.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or not _DATETIME_STAMP.match(value):
            raise ValueError(value)
        return datetime.fromisoformat(value)
    except ValueError:  # wrong shape, or out-of-range fields such as month 13
        raise _ProofFailure(False, VerificationCode.MALFORMED_PROOF, f"proof.{name} is not a dateTimeStamp") from None


def _hash_for(proof: Mapping[str, Any], unsecured: dict[str, Any],
              nquads: str | Exception | None = None) -> tuple[str, bytes]:
    """Return (suite name, hash data) for one proof, or raise _ProofFailure."""
    proof_type = proof.get("type")
    suite = proof.get("cryptosuite")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if proof_type == _DI_PROOF and suite == EDDSA_JCS_2022:
        proof_context = options.get("@context")
        if proof_context is not None:
            doc_context = unsecured.get("@context")
            as_list = [proof_context] if not isinstance(proof_context, list) else proof_context
            doc_list = [doc_context] if not isinstance(doc_context, list) else doc_context
            if doc_list[: len(as_list)] != as_list:
                raise _ProofFailure(
                    False, VerificationCode.CONTEXT_MISMATCH, "document @context does not start with proof @context"
                )
            unsecured = {**unsecured, "@context": proof_context}
        try:
            return EDDSA_JCS_2022, _jcs_hash_data(unsecured, options)
        except jcs.JcsError as exc:  # e.g. an integer beyond 2**53 cannot have been signed as-is
            raise _ProofFailure(False, VerificationCode.CANONICALIZATION_ERROR, f"JCS: {exc}") from exc
    if (proof_type == _DI_PROOF and suite == EDDSA_RDFC_2022) or proof_type == _ED25519_2020:
        name = EDDSA_RDFC_2022 if proof_type == _DI_PROOF else _ED25519_2020
        try:
            return name, _rdfc_hash_data(unsecured, options, nquads)
        except RemoteContextRefused as exc:
            raise _ProofFailure(None, VerificationCode.REMOTE_CONTEXT, str(exc)) from exc
        except (ContextIntegrityError, TooComplex) as exc:  # a damaged vendored context, or over budget: cannot judge
            raise _ProofFailure(None, VerificationCode.CANONICALIZATION_ERROR, str(exc)) from exc
        except CanonicalizationError as exc:
            raise _ProofFailure(False, VerificationCode.CANONICALIZATION_ERROR, str(exc)) from exc
    label = f"{proof_type}/{suite}" if suite is not None else str(proof_type)
    raise _ProofFailure(None, VerificationCode.UNSUPPORTED_CRYPTOSUITE, f"unsupported proof {label}")


def _verify_one(
    proof: Mapping[str, Any],
    unsecured: dict[str, Any],
    resolve_key: KeyResolver,
    expect: _Expectations,
    nquads: str | Exception | None = None,
) -> VerificationOutcome:
    vm = proof.get("verificationMethod")
    created = proof.get("created")
    suite_name = proof.get("cryptosuite") or proof.get("type")
    vm_str = vm if isinstance(vm, str) else None
    created_str = created if isinstance(created, str) else None
    suite_str = suite_name if isinstance(suite_name, str) else None
    try:
        # A proof without a type, or a DataIntegrityProof without a cryptosuite, is malformed (invalid), which
        # is not the same as a well-formed proof of a kind this verifier does not implement (unknown).
        if not isinstance(proof.get("type"), str) or not proof["type"]:
            raise _ProofFailure(False, VerificationCode.MALFORMED_PROOF, "proof.type missing or not a string")
        if proof["type"] == _DI_PROOF and (not isinstance(proof.get("cryptosuite"), str) or not proof["cryptosuite"]):
            raise _ProofFailure(False, VerificationCode.MALFORMED_PROOF, "proof.cryptosuite missing or not a string")
        if proof.get("type") not in (_DI_PROOF, _ED25519_2020):
            raise _ProofFailure(
                None, VerificationCode.UNSUPPORTED_CRYPTOSUITE, f"unsupported proof type {proof.get('type')!r}"
            )
        signature = _check_proof_fields(proof, expect)
        try:
            public_key = resolve_key(proof["verificationMethod"])
        except Exception as exc:  # a resolver failure (network, bad document) means "could not check"
            raise _ProofFailure(None, VerificationCode.KEY_NOT_FOUND, f"key resolution failed: {exc}") from exc
        if public_key is None:
            raise _ProofFailure(None, VerificationCode.KEY_NOT_FOUND, f"no key for {proof['verificationMethod']}")
        suite, hash_data = _hash_for(proof, unsecured, nquads)
        if not ed25519.signature_is_valid(public_key, signature, hash_data):
            raise _ProofFailure(False, VerificationCode.INVALID_SIGNATURE, f"{suite} signature is invalid")
    except _ProofFailure as failure:
        verified, code, message = failure.verified, failure.code, str(failure)
        return VerificationOutcome(verified, code, message, vm_str, created_str, suite_str)
    return VerificationOutcome(True, VerificationCode.OK, f"{suite} proof verified", vm_str, created_str, suite_str)


def _is_rdfc(proof: Mapping[str, Any]) -> bool:
    proof_type = proof.get("type")
    return (proof_type == _DI_PROOF and proof.get("cryptosuite") == EDDSA_RDFC_2022) or proof_type == _ED25519_2020


def _aggregate(outcomes: list[VerificationOutcome]) -> VerificationOutcome:
    if len(outcomes) == 1:
        return outcomes[0]
    proofs = tuple(outcomes)
    for wanted in (False, None):
        for outcome in outcomes:
            if outcome.verified is wanted:
                return VerificationOutcome(
                    wanted,
                    outcome.code,
                    f"proof {outcomes.index(outcome) + 1} of {len(outcomes)}: {outcome.message}",
                    outcome.verification_method,
                    outcome.created,
                    outcome.cryptosuite,
                    proofs,
                )
    first = outcomes[0]
    return VerificationOutcome(
        True,
        VerificationCode.OK,
        f"all {len(outcomes)} proofs verified",
        first.verification_method,
        first.created,
        first.cryptosuite,
        proofs,
    )


def verify_data_integrity(
    document: Mapping[str, Any],
    resolve_key: KeyResolver,
    *,
    expected_proof_purpose: str = "assertionMethod",
    expected_challenge: str | None = None,
    expected_domain: str | None = None,
    now: datetime | None = None,
    unsecured_nquads: str | Exception | None = None,
) -> VerificationOutcome:
    """Verify every Data Integrity proof on ``document``.

    ``unsecured_nquads``: the canonical N-Quads of ``document`` without its proof, when the caller has them
    (canonicalised once, bounded, by :mod:`microcred.verification.canonical`), or the error canonicalising it
    raised; every proof that is not part of a chain signs that same document, so it is canonicalised once, not
    once per proof.

    ``resolve_key`` maps a verification method id to an Ed25519 public key (for example
    :func:`microcred.crypto.did_key.resolve_key`, or a did:web resolver, combined with
    :func:`chain_resolvers`). ``expected_challenge`` and ``expected_domain`` are checked when given.
    ``now`` (default: the current time) is compared with a proof's ``expires``.
    """
    raw = document.get("proof")
    if raw is None or raw == []:
        return VerificationOutcome(False, VerificationCode.NO_PROOF, "document has no proof")
    proofs = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(p, Mapping) for p in proofs):
        return VerificationOutcome(False, VerificationCode.MALFORMED_PROOF, "proof must be an object or a list of them")
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    expect = _Expectations(
        expected_proof_purpose, expected_challenge, expected_domain, now or datetime.now(UTC)
    )
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    by_id = {p["id"]: p for p in proofs if isinstance(p.get("id"), str)}

    outcomes: list[VerificationOutcome] = []
    for proof in proofs:
        previous = proof.get("previousProof")
        if previous is None:
            if unsecured_nquads is None and len(proofs) > 1 and _is_rdfc(proof):
                # canonicalised once for the whole proof set (an error is reported per proof, as before)
                with contextlib.suppress(RemoteContextRefused, ContextIntegrityError, CanonicalizationError):
                    unsecured_nquads = canonize(unsecured)
            outcomes.append(_verify_one(proof, unsecured, resolve_key, expect, unsecured_nquads))
            continue
        # Proof chain: this proof signed the document together with the proofs it names.
        wanted = previous if isinstance(previous, list) else [previous]
        if not all(isinstance(w, str) and w in by_id for w in wanted):
            outcomes.append(
                VerificationOutcome(False, VerificationCode.MALFORMED_PROOF, f"previousProof {previous!r} not found")
            )
            continue
        chained = {**unsecured, "proof": [by_id[w] for w in wanted]}
        outcomes.append(_verify_one(proof, chained, resolve_key, expect))
    return _aggregate(outcomes)
