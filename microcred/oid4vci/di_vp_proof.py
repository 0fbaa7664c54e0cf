"""``di_vp`` key proofs (OpenID4VCI 1.0 §8.2, Appendix F.2), for the ``ldp_vc`` configuration.

A W3C Verifiable Presentation secured with a Data Integrity proof shows possession of the holder's key: the
proof's ``proofPurpose`` is ``authentication``, its ``domain`` the Credential Issuer identifier, its ``challenge``
the ``c_nonce`` from the nonce endpoint (required: this issuer has one), its ``cryptosuite`` one of
:data:`DI_VP_CRYPTOSUITES` (what the metadata lists), and it verifies with the key of its ``verificationMethod``,
a did:key or did:jwk DID URL resolved locally (never fetched). The credential is bound to that DID (its
``credentialSubject.id``); a ``holder``, when present, must be it (F.2: "equivalent to the controller identifier
part ... of the verificationMethod").

What is read of the presentation (``holder``, the proof's options) must be what was signed, so the presentation
must pass the platform's compaction rule first (:func:`microcred.jsonld.compacted.compaction_problem`: no
aliases, no ``@graph``, flat proofs, bounded size); the proof-less presentation is then canonicalised by the
caller's :class:`~microcred.verification.canonical.Canonicalizer` (in a child process with a deadline where the
caller runs one: a hostile document never blocks the issuer) and the signature checked by
:func:`microcred.crypto.data_integrity.verify_data_integrity`. Every failure is ``invalid_proof`` naming what is
wrong; the nonce is returned for the caller to spend atomically, as for ``jwt`` proofs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.crypto.data_integrity import verify_data_integrity
from microcred.jsonld.compacted import Limits, compaction_problem
from microcred.jsonld.loader import CanonicalizationError, ContextIntegrityError, RemoteContextRefused, TooComplex
from microcred.oid4vci.errors import INVALID_PROOF, OAuthError, proof_nonce
from microcred.oid4vci.holder_did import holder_did_public_key
from microcred.sdjwt.jose import public_jwk
from microcred.verification.canonical import Canonicalizer
from microcred.verification.document import as_list, parse_datetime

__all__ = ["DI_VP_CRYPTOSUITES", "DiVpProof", "check_di_vp_proof"]

#: The cryptosuites a ``di_vp`` proof may use (``proof_signing_alg_values_supported``): those this platform
#: verifies for holders' Ed25519 keys.
DI_VP_CRYPTOSUITES: tuple[str, ...] = ("eddsa-rdfc-2022",)
#: A key proof is a presentation of no credential: a small fraction of the limits a credential gets.
_LIMITS = Limits(max_depth=8, max_objects=32, max_values=128, max_blank_nodes=8, max_proofs=1, max_embedded=0)


@dataclass(frozen=True)
class DiVpProof:
    """A checked ``di_vp`` proof: the holder's DID (the controller of the proof's verification method), its
    public JWK, and the nonce (``challenge``) to spend."""

    did: str
    jwk: dict[str, Any]
    nonce: str


def _fail(description: str) -> OAuthError:
    return OAuthError(INVALID_PROOF, f"di_vp: {description}")


def _proof_options(vp: Any, audience: str, now: datetime, max_age: float, skew: float
                   ) -> tuple[Mapping[str, Any], str, str, Ed25519PublicKey]:
    """The proof, the nonce it names, the holder's DID and key, once everything but the signature is right."""
    if not isinstance(vp, dict):
        raise _fail("a proof must be a Verifiable Presentation (a JSON object)")
    refused = compaction_problem(vp, _LIMITS)
    if refused is not None:
        raise _fail(f"{refused.path or 'the presentation'}: {refused.problem}")
    if "VerifiablePresentation" not in as_list(vp.get("type")):
        raise _fail("type must include VerifiablePresentation")
    proofs = as_list(vp.get("proof"))
    if len(proofs) != 1 or not isinstance(proofs[0], Mapping):
        raise _fail("the presentation must carry exactly one proof")
    proof = proofs[0]
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") not in DI_VP_CRYPTOSUITES:
        raise _fail(f"the proof must be a DataIntegrityProof with cryptosuite {' or '.join(DI_VP_CRYPTOSUITES)}")
    if proof.get("proofPurpose") != "authentication":
        raise _fail("proofPurpose must be authentication")
    if proof.get("domain") != audience:
        raise _fail("domain must be this Credential Issuer's identifier")
    nonce = proof_nonce(proof.get("challenge"), "di_vp: the proof's challenge must be the c_nonce from the nonce "
                                                "endpoint")
    created = parse_datetime(proof.get("created"))
    if created is None:
        raise _fail("created is required (an XML Schema dateTime with a time zone)")
    age = (now - created).total_seconds()
    if age > max_age or age < -skew:
        raise _fail(f"created is outside the accepted window ({int(max_age)} s old, {int(skew)} s ahead)")
    method = proof.get("verificationMethod")
    if not isinstance(method, str):
        raise _fail("verificationMethod must be a did:key or did:jwk DID URL")
    did, key = holder_did_public_key(method)
    if not isinstance(key, Ed25519PublicKey):
        raise _fail(f"the verification method's key is not an Ed25519 key ({DI_VP_CRYPTOSUITES[0]})")
    holder = vp.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if holder is not None and holder_id != did:
        raise _fail("holder must be the controller of the proof's verificationMethod")
    return proof, nonce, did, key


async def check_di_vp_proof(vp: Any, *, audience: str, now: datetime, canon: Canonicalizer,
                            max_age: float = 300.0, skew: float = 60.0) -> DiVpProof:
    """Check one ``di_vp`` proof for ``audience`` at ``now`` (module docstring); raise ``invalid_proof`` (a
    missing challenge too) naming what is wrong."""
    proof, nonce, did, key = _proof_options(vp, audience, now, max_age, skew)
    try:
        processed = await canon.process({k: v for k, v in vp.items() if k != "proof"})
    except RemoteContextRefused as exc:
        raise _fail(f"a context this issuer does not hold: {exc}") from exc
    except TooComplex as exc:
        raise _fail("the presentation is too complex to canonicalise") from exc
    except (CanonicalizationError, ContextIntegrityError, ValueError) as exc:
        raise _fail(f"the presentation cannot be canonicalised ({type(exc).__name__})") from exc
    method = proof["verificationMethod"]
    outcome = verify_data_integrity(vp, lambda vm: key if vm == method else None,
                                    expected_proof_purpose="authentication", expected_challenge=nonce,
                                    expected_domain=audience, now=now, unsecured_nquads=processed.nquads)
    if outcome.verified is not True:
        raise _fail(f"the proof does not verify ({outcome.code.value}: {outcome.message})")
    return DiVpProof(did, public_jwk(key), nonce)
