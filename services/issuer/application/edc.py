"""EDC format at issuance: render + JAdES-seal the items of a chunk that asked for ``CREDENTIAL_FORMAT_EDC``.

The seal key is the issuer's document key from the
:class:`~services.issuer.application.ports.DocumentSigning` port (in development the P-256 key derived from the
issuer's key-store key and certified by the platform PKI, the same key and ``x5c`` as its SD-JWT VCs; in production
the port is backed by a PKCS#11 HSM or a remote QSCD holding a qualified seal certificate, docs/elm-edc.md).
Rendering and sealing cost a few milliseconds per credential (SHACL is not run here: it is the test gate and the
verifier's FORMAT check, see docs/elm-edc.md), so a chunk is sealed in one worker thread, off the event loop.
Each EDC names its credential's Token Status List entry as ``credentialStatus`` (:mod:`microcred.elm.status`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec

from microcred.elm.issue import elm_issuer, sealed_edc
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import registry_pb2
from microcred.sdjwt.issue import IssuerKey, StatusReference

__all__ = ["seal_edcs"]


def _seal_all(key: IssuerKey, issuer: registry_pb2.Issuer, credentials: Mapping[str, pb.MicroCredential],
              now: datetime, statuses: Mapping[str, StatusReference]) -> dict[str, tuple[str, str]]:
    sealer = elm_issuer(issuer, key.iss)
    if not isinstance(key.key, ec.EllipticCurvePrivateKey):  # JAdES seals here are ES256/384/512
        return {cid: ("", "the issuer's document key is not an EC key") for cid in credentials}
    out: dict[str, tuple[str, str]] = {}
    for cid, mc in credentials.items():
        status = statuses.get(cid)
        if status is None:  # never an EDC its issuer could not revoke or suspend (docs/elm-edc.md)
            out[cid] = ("", "the credential has no Token Status List entry to name as its credentialStatus")
            continue
        try:
            out[cid] = (sealed_edc(mc, issuer=sealer, credential_id=cid, issued_at=now, key=key.key,
                                   x5c=key.x5c, status=status), "")
        except ValueError as exc:  # e.g. one organisation id naming two organisations (they would merge in RDF)
            out[cid] = ("", str(exc))
    return out


async def seal_edcs(key: IssuerKey, issuer: registry_pb2.Issuer, credentials: Mapping[str, pb.MicroCredential],
                    now: datetime, statuses: Mapping[str, StatusReference]) -> dict[str, tuple[str, str]]:
    """``(sealed EDC JSON text, error)`` per credential id (exactly one of the two is non-empty); ``statuses``:
    each credential's Token Status List entry (its revocation list's token list, at its revocation index), sealed
    as its ``credentialStatus``. A credential without one gets an error, not an EDC that cannot be revoked."""
    if not credentials:
        return {}
    return await asyncio.to_thread(_seal_all, key, issuer, dict(credentials), now, dict(statuses))
