"""Issuing an SD-JWT VC (``typ: dc+sd-jwt``): the EU micro-credential, or any claims marked with Sd.

Pure apart from the random salts and decoys (``rng``, injectable) and the clock (``now``, a parameter).

* Header: ``typ: dc+sd-jwt``, ``alg`` from the key, ``x5c`` = the issuer's certificate chain, leaf first (HAIP).
* Always in clear (SD-JWT VC §2.2.2.3 forbids disclosing them selectively): ``iss``, ``nbf``, ``exp``,
  ``vct``, ``vct#integrity``, ``cnf``, ``status``; ``iat`` too, the signing time.
* Holder binding: with a holder JWK, ``cnf: {jwk}`` (only the public members are accepted); without one the
  credential is a bearer credential with no ``cnf`` (:attr:`IssuedSdJwtVc.holder_bound` says which), or, with
  ``require_holder_key``, issuance is refused.
* Status: ``status.status_list {idx, uri}`` of a Token Status List entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.sdjwt.claims import micro_credential_claims
from microcred.sdjwt.core import DEFAULT_HASH, DecoyPolicy, Disclosure, Randomness, SdJwtParts, conceal
from microcred.sdjwt.jose import PrivateKey, jwk_to_public_key, numeric_date, public_jwk, sign_jws
from microcred.sdjwt.type_metadata import VCT, integrity, type_metadata_bytes

__all__ = ["SD_JWT_VC_TYP", "HolderKeyMissing", "IssuedSdJwtVc", "IssuerKey", "SdJwtChunk", "SdJwtJob",
           "StatusReference", "issue_micro_credential", "issue_sd_jwt_vc"]

SD_JWT_VC_TYP = "dc+sd-jwt"


class HolderKeyMissing(ValueError):
    """A holder-bound credential was required but no holder key was given."""


@dataclass(frozen=True)
class IssuerKey:
    """The issuer's identifier (``iss``), signing key and ``x5c`` chain (base64 DER, leaf first)."""

    iss: str
    key: PrivateKey
    x5c: tuple[str, ...]
    kid: str | None = None
    """Written in the header when set: the key's id in the issuer's JWT VC Issuer Metadata (SD-JWT VC §3.5,
    recommended), :func:`microcred.sdjwt.issuer_metadata.key_id`."""


@dataclass(frozen=True, slots=True)
class StatusReference:
    """A Token Status List entry: the list token's URI and the credential's index in it."""

    uri: str
    idx: int

    def claim(self) -> dict[str, Any]:
        """The ``status`` claim value."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


class SdJwtJob(NamedTuple):
    """One SD-JWT VC to issue beside a credential's Data Integrity job: its Token Status List entry and the
    holder's public JWK (None: no ``cnf``). Plain data (a tuple), so that a chunk travels to the issuer's signing
    worker processes cheaply."""

    status_uri: str
    status_idx: int
    holder_jwk: Mapping[str, Any] | None


class SdJwtChunk(NamedTuple):
    """The SD-JWT VCs of one signing chunk: the issuer's ``iss`` and ``x5c`` (public parts only: the signing
    worker derives the key itself, see :mod:`services.issuer.adapters.document_signing`), the signing time and,
    per Data Integrity job in order, an :class:`SdJwtJob` or None (that credential in Data Integrity only)."""

    iss: str
    x5c: tuple[str, ...]
    now: datetime
    jobs: tuple[SdJwtJob | None, ...]


@dataclass(frozen=True)
class IssuedSdJwtVc:
    """An issued SD-JWT VC: the compact form (with every Disclosure), its signed payload and Disclosures."""

    compact: str
    payload: Mapping[str, Any]
    disclosures: tuple[Disclosure, ...]

    @property
    def holder_bound(self) -> bool:
        """Whether the credential carries the holder's key (``cnf``)."""
        return "cnf" in self.payload

    def parts(self) -> SdJwtParts:
        """The compact form split into the Issuer-signed JWT and Disclosures."""
        jwt, *rest = self.compact.split("~")
        return SdJwtParts(jwt, tuple(d for d in rest if d), None)


def issue_sd_jwt_vc(claims: Mapping[str, Any], *, issuer: IssuerKey, vct: str, now: datetime,
                    vct_integrity: str | None = None, not_before: datetime | None = None,
                    expires: datetime | None = None, status: StatusReference | None = None,
                    holder_jwk: Mapping[str, Any] | None = None, rng: Randomness | None = None,
                    decoys: DecoyPolicy | None = None, alg: str = DEFAULT_HASH) -> IssuedSdJwtVc:
    """Sign ``claims`` (values marked with Sd become Disclosures) as an SD-JWT VC of type ``vct``."""
    clear: dict[str, Any] = {"iss": issuer.iss, "iat": numeric_date(now)}
    if not_before is not None:
        clear["nbf"] = numeric_date(not_before)
    if expires is not None:
        clear["exp"] = numeric_date(expires)
    clear["vct"] = vct
    if vct_integrity:
        clear["vct#integrity"] = vct_integrity
    if holder_jwk is not None:
        clear["cnf"] = {"jwk": public_jwk(jwk_to_public_key(holder_jwk))}
    if status is not None:
        clear["status"] = status.claim()
    clashes = sorted(set(clear) & set(claims))
    if clashes:
        raise ValueError(f"claims may not set the registered claims {clashes}")
    payload, disclosures = conceal({**clear, **claims}, alg=alg, rng=rng, decoys=decoys)
    header: dict[str, Any] = {"typ": SD_JWT_VC_TYP}
    if issuer.kid:
        header["kid"] = issuer.kid
    if issuer.x5c:
        header["x5c"] = list(issuer.x5c)
    issuer_jwt = sign_jws(header, payload, issuer.key)
    compact = SdJwtParts(issuer_jwt, tuple(d.encoded for d in disclosures), None).serialize()
    return IssuedSdJwtVc(compact, payload, tuple(disclosures))


def issue_micro_credential(mc: pb.MicroCredential, *, issuer: IssuerKey, now: datetime,
                           status: StatusReference | None = None, holder_jwk: Mapping[str, Any] | None = None,
                           require_holder_key: bool = False, rng: Randomness | None = None,
                           decoys: DecoyPolicy | None = None) -> IssuedSdJwtVc:
    """The *validated* micro-credential ``mc`` as an SD-JWT VC of the platform's type :data:`VCT`.

    ``valid_from``/``valid_until`` become ``nbf``/``exp``; ``vct#integrity`` covers the shipped Type Metadata.
    Raises :class:`HolderKeyMissing` when ``require_holder_key`` is set and ``holder_jwk`` is None.
    """
    if require_holder_key and holder_jwk is None:
        raise HolderKeyMissing("a holder-bound SD-JWT VC needs the holder's public key")
    not_before = mc.valid_from.ToDatetime(tzinfo=UTC) if mc.HasField("valid_from") else None
    expires = mc.valid_until.ToDatetime(tzinfo=UTC) if mc.HasField("valid_until") else None
    return issue_sd_jwt_vc(micro_credential_claims(mc), issuer=issuer, vct=VCT, now=now,
                           vct_integrity=_vct_integrity(), not_before=not_before, expires=expires,
                           status=status, holder_jwk=holder_jwk, rng=rng, decoys=decoys)


@cache
def _vct_integrity() -> str:
    """``vct#integrity`` of the shipped Type Metadata (read and hashed once per process, not per credential)."""
    return integrity(type_metadata_bytes())
