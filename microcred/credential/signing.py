"""Fast ``eddsa-rdfc-2022`` signing of many credentials, byte-identical to the reference signer.

:class:`FastSigner` produces exactly what :func:`microcred.crypto.data_integrity.sign_eddsa_rdfc_2022` does
(same proof object, same ``proofValue``: Ed25519 is deterministic) but canonicalises the document through a
:class:`~microcred.credential.canon.TemplateCanonicalizer` and caches the proof configuration's N-Quads,
which repeat for every credential signed by one key within the same second.

:func:`render_and_sign` is the unit of work the issuer service runs, inline or in a worker process: it renders
the Open Badges 3.0 credentials of a batch, signs them and returns their JSON text. Everything it takes and
returns is plain, picklable data.

:func:`sign_document` secures one caller-supplied document (the CLI and the issuer's REST ``/credentials/issue``):
it refuses a document that breaks the VC data model (:class:`~microcred.vcdm.DataModelError`, rule named) and
adds the Data Integrity context when the document's contexts do not define the proof terms (VC 1.1).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred import vcdm
from microcred.credential.canon import TemplateCanonicalizer
from microcred.credential.jsontext import compact
from microcred.credential.ob3 import achievement_key, render_achievement, render_achievement_credential
from microcred.crypto.data_integrity import EDDSA_RDFC_2022, sign_eddsa_jcs_2022, sign_eddsa_rdfc_2022
from microcred.crypto.multikey import encode_base58btc
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.jsonld import loader
from microcred.jsonld.loader import CanonicalizationError, RemoteContextRefused

__all__ = ["DATA_INTEGRITY_V2", "FastSigner", "IssueJob", "SigningError", "dumps", "render_and_sign", "sign_document",
           "signing_stats", "warm_up", "with_proof_context"]

#: The Data Integrity context; the VC 2.0 context already includes its terms.
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
_PROOF_CONTEXTS = frozenset({vcdm.VC_V2, DATA_INTEGRITY_V2, "https://w3id.org/security/data-integrity/v1"})
_SUITES = {EDDSA_RDFC_2022: sign_eddsa_rdfc_2022, "eddsa-jcs-2022": sign_eddsa_jcs_2022}


class SigningError(ValueError):
    """The document could not be signed (its JSON-LD cannot be canonicalised in safe mode, or a bad option)."""


def with_proof_context(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with the Data Integrity context appended when none of its contexts defines the proof terms.

    Data Integrity §4.2 ("Add Proof"): a VC 1.1 document's contexts do not define ``DataIntegrityProof``,
    ``cryptosuite`` or ``proofValue``; the signer SHOULD add the Data Integrity context rather than fail."""
    contexts = document.get("@context")
    listed = contexts if isinstance(contexts, list) else [contexts]
    if any(c in _PROOF_CONTEXTS for c in listed if isinstance(c, str)):
        return dict(document)
    return {**document, "@context": [*listed, DATA_INTEGRITY_V2]}


def sign_document(document: Mapping[str, Any], private_key: Ed25519PrivateKey, verification_method: str, *,
                  created: str | None = None, cryptosuite: str = EDDSA_RDFC_2022,
                  proof_purpose: str = "assertionMethod") -> dict[str, Any]:
    """``document`` validated against the VC data model and secured with a Data Integrity proof.

    Raises :class:`~microcred.vcdm.DataModelError` (the rule is named) when the document breaks the data model,
    and :class:`SigningError` when it cannot be signed; errors propagate, nothing is signed half-way. A document
    that already has a proof gets one more (a proof set)."""
    suite = _SUITES.get(cryptosuite)
    if suite is None:
        raise SigningError(f"unsupported cryptosuite {cryptosuite[:100]!r} (supported: {', '.join(_SUITES)})")
    vcdm.require_valid(document)
    try:
        return suite(with_proof_context(document), private_key, verification_method, proof_purpose=proof_purpose,
                     created=created)
    except (RemoteContextRefused, CanonicalizationError) as exc:
        raise SigningError(str(exc)[:500]) from None


def dumps(document: Mapping[str, Any]) -> str:
    """The JSON text of a signed credential as we store and publish it (compact, UTF-8, key order kept)."""
    return compact(document)


@lru_cache(maxsize=1024)
def _proof_config_hash(context: str, created: str, verification_method: str, purpose: str) -> bytes:
    config = {
        "@context": json.loads(context), "type": "DataIntegrityProof", "cryptosuite": EDDSA_RDFC_2022,
        "created": created, "verificationMethod": verification_method, "proofPurpose": purpose,
    }
    return hashlib.sha256(loader.canonize(config).encode()).digest()


class FastSigner:
    """Signs JSON-LD documents with ``eddsa-rdfc-2022`` using per-shape canonicalisation templates."""

    def __init__(self, canonicalizer: TemplateCanonicalizer | None = None) -> None:
        self.canonicalizer = canonicalizer or TemplateCanonicalizer()

    def sign(self, document: Mapping[str, Any], private_key: Ed25519PrivateKey, verification_method: str,
             created: str, proof_purpose: str = "assertionMethod") -> dict[str, Any]:
        """Return ``document`` (which must have no proof) with a DataIntegrityProof added.

        ``created`` is an XML Schema dateTimeStamp (e.g. ``2025-03-14T10:00:00Z``).
        """
        if "proof" in document:
            raise ValueError("document is already signed")
        proof_hash = _proof_config_hash(compact(document.get("@context")), created, verification_method,
                                        proof_purpose)
        hash_data = proof_hash + hashlib.sha256(self.canonicalizer.canonize(document).encode()).digest()
        proof = {
            "type": "DataIntegrityProof", "cryptosuite": EDDSA_RDFC_2022, "created": created,
            "verificationMethod": verification_method, "proofPurpose": proof_purpose,
            "proofValue": encode_base58btc(private_key.sign(hash_data)),
        }
        return {**document, "proof": proof}


class IssueJob(NamedTuple):
    """One credential to render and sign (picklable: the model travels as bytes; a tuple, because a chunk's
    jobs are pickled to the signing workers and a frozen dataclass pickles several times slower)."""

    micro_credential: bytes
    credential_id: str
    status_entries: tuple[Mapping[str, Any], ...]
    valid_from: datetime
    salt: str


_signer: FastSigner | None = None
# Rendered achievements by achievement_key: one per cohort, shared (and frozen) across its credentials.
_achievements: OrderedDict[bytes, dict[str, Any]] = OrderedDict()
_ACHIEVEMENTS_KEPT = 64


def _process_signer() -> FastSigner:
    global _signer  # one signer (and template cache) per process
    if _signer is None:
        _signer = FastSigner()
    return _signer


def _achievement(signer: FastSigner, mc: pb.MicroCredential, issuer_id: str) -> dict[str, Any]:
    """The cohort's rendered achievement (rendered once, then shared; never modified afterwards)."""
    key = achievement_key(mc, issuer_id)
    achievement = _achievements.get(key)
    if achievement is None:
        achievement = render_achievement(mc, issuer_id)
        _achievements[key] = achievement
        while len(_achievements) > _ACHIEVEMENTS_KEPT:
            _achievements.popitem(last=False)
    else:
        _achievements.move_to_end(key)
    signer.canonicalizer.freeze(achievement)
    return achievement


def render_and_sign(jobs: Sequence[IssueJob], issuer: Mapping[str, Any], seed: bytes, verification_method: str,
                    created: str) -> list[tuple[str, str]]:
    """Render and sign each job's credential; return ``(signed JSON, "")`` or ``("", error)`` per job, in order.

    ``seed`` is the issuer's 32-byte Ed25519 private key seed: it stays inside the issuer service (this
    function runs in the service's own process or its worker processes) and is never logged. One job that
    cannot be signed (e.g. JSON-LD safe mode refuses a value) does not affect the others.
    """
    started = time.process_time()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    signer = _process_signer()
    out: list[tuple[str, str]] = []
    for job in jobs:
        try:
            mc = pb.MicroCredential.FromString(job.micro_credential)
            document = render_achievement_credential(mc, credential_id=job.credential_id, issuer=issuer,
                                                     status_entries=job.status_entries, valid_from=job.valid_from,
                                                     salt=job.salt,
                                                     achievement=_achievement(signer, mc, str(issuer["id"])))
            out.append((dumps(signer.sign(document, key, verification_method, created)), ""))
        except Exception as exc:  # reported per item; never carries key material
            out.append(("", f"{type(exc).__name__}: {exc}"))
    _totals["jobs"] += len(jobs)
    _totals["cpu_seconds"] += time.process_time() - started
    return out


_totals: dict[str, float] = {"jobs": 0, "cpu_seconds": 0.0}


def signing_stats() -> dict[str, float]:
    """This process's signing totals: jobs, CPU seconds, and the canonicaliser's counters."""
    canon = _process_signer().canonicalizer.stats
    return {**_totals, "fast": canon.fast, "fallback": canon.fallback, "templates": canon.templates,
            "unsafe_shapes": canon.unsafe_shapes}


def warm_up() -> None:
    """Import and initialise everything signing needs (worker process initializer)."""
    _process_signer()
    loader.verify_all_contexts()
