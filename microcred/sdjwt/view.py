"""An SD-JWT VC as something JSON-LD code can hold and read: the VC 2.0 envelope, and a readable OB 3.0 view.

* :func:`enveloped` / :func:`compact_of`: a compact SD-JWT VC as a VC Data Model 2.0
  ``EnvelopedVerifiableCredential`` (§4.13: ``id`` is a ``data:application/dc+sd-jwt,`` URL), so a wallet, a share
  link or a presentation carries it beside Data Integrity credentials, and back.
* :func:`ob3_view`: the disclosed claims read back into the protobuf model
  (:func:`~microcred.sdjwt.claims.read_micro_credential`) and laid out as our unsigned OB 3.0 credential, so that
  the EU elements, the learner's identifiers and the summary are read by the same code as for Data Integrity
  credentials (one model, every format). The view is **not** a verification: it reads a credential that was
  verified already (on import, or by the gateway), and nothing in it is signed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from microcred.credential.ob3 import render_achievement_credential
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.sdjwt.claims import read_micro_credential
from microcred.sdjwt.core import SdJwtError, disclose, split_sd_jwt
from microcred.sdjwt.jose import JoseError, parse_jws
from microcred.sdjwt.verify import looks_like_sd_jwt

__all__ = ["ENVELOPE_PREFIX", "compact_of", "enveloped", "ob3_view", "sd_jwt_id", "view_of_claims"]

ENVELOPE_PREFIX = "data:application/dc+sd-jwt,"
_VC2 = "https://www.w3.org/ns/credentials/v2"
_MAX_JWT = 200_000


def enveloped(compact: str) -> dict[str, Any]:
    """The VC 2.0 ``EnvelopedVerifiableCredential`` holding ``compact``."""
    return {"@context": [_VC2], "id": ENVELOPE_PREFIX + compact.strip(), "type": "EnvelopedVerifiableCredential"}


def compact_of(document: Any) -> str | None:
    """The compact SD-JWT in ``document``: a string of that shape, or an enveloped credential holding one."""
    if isinstance(document, str):
        return document if looks_like_sd_jwt(document) else None
    if isinstance(document, Mapping) and document.get("type") == "EnvelopedVerifiableCredential":
        data = document.get("id")
        if isinstance(data, str) and data.startswith(ENVELOPE_PREFIX):
            text = data[len(ENVELOPE_PREFIX):]
            return text if looks_like_sd_jwt(text) else None
    return None


def sd_jwt_id(document: Any) -> str | None:
    """A short, stable id for the SD-JWT VC in ``document``: ``urn:sd-jwt:`` + the SHA-256 of its Issuer-signed JWT
    (the same whatever the holder discloses); None when ``document`` holds none. An enveloped credential's own
    ``id`` is the whole ``data:`` URL, too long (and full of ``/``) to name it in a URL path."""
    compact = compact_of(document)
    if compact is None:
        return None
    return "urn:sd-jwt:" + hashlib.sha256(compact.split("~", 1)[0].encode()).hexdigest()


def view_of_claims(claims: Mapping[str, Any], issuer: str | None, credential_id: str,
                   mc: pb.MicroCredential | None = None) -> dict[str, Any] | None:
    """Processed claims as our unsigned OB 3.0 layout with ``credential_id``; None when they are too far from
    the model to lay out. ``mc``: the claims already read into the model (by a caller that needs it too), so
    they are not read twice."""
    mc = read_micro_credential(claims) if mc is None else mc
    try:
        profile = {"id": issuer or "urn:unknown", "type": ["Profile"],
                   "name": claims.get("issuing_authority") or issuer or ""}
        valid_from = mc.valid_from.ToDatetime(tzinfo=UTC) if mc.HasField("valid_from") else _issued(mc)
        return render_achievement_credential(mc, credential_id=credential_id, issuer=profile, status_entries=(),
                                             valid_from=valid_from)
    except Exception:  # a view is a courtesy: the caller shows what it can
        return None


def ob3_view(document: Any) -> dict[str, Any] | None:
    """The readable view of an (already verified) SD-JWT VC, or None when ``document`` holds none or it cannot
    be read. Its ``id`` is ``urn:sd-jwt:`` + the SHA-256 of the Issuer-signed JWT (stable whatever is disclosed)."""
    compact = compact_of(document)
    if compact is None:
        return None
    try:
        parts = split_sd_jwt(compact)
        jws = parse_jws(parts.issuer_jwt, max_length=_MAX_JWT)
        processed = disclose(jws.payload, parts.disclosures)
    except (SdJwtError, JoseError):
        return None
    issuer = jws.payload.get("iss")
    return view_of_claims(processed.claims, issuer if isinstance(issuer, str) else None, str(sd_jwt_id(compact)))


def _issued(mc: pb.MicroCredential) -> datetime:
    return mc.issued_at.ToDatetime(tzinfo=UTC) if mc.HasField("issued_at") else datetime.fromtimestamp(0, UTC)
