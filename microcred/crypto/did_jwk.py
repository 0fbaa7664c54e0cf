"""did:jwk: a DID that *is* a public JWK (https://github.com/quartzjer/did-jwk, the method specification).

``did:jwk:<base64url of the JWK's UTF-8 JSON>``; its one verification method is ``#0`` (the spec: "``#0`` is the
only valid value", whatever ``kid`` the JWK holds). Reading one is local, nothing is fetched; the spec's Read:

1. remove the prefix, 2. base64url-decode (unpadded; :func:`~microcred.sdjwt.jose.b64url_decode`), 3. parse as
UTF-8 JSON (:func:`~microcred.sdjwt.jose.strict_json_loads`: no duplicate names), 4. validate the JWK: a public key
only (the spec: a private JWK "must be rejected by all implementations"), of a type this platform signs with (EC
P-256/384/521 or Ed25519, :func:`~microcred.sdjwt.jose.jwk_to_public_key`, which also refuses Ed25519 keys anyone
could sign for), and a signing key: ``use`` absent or ``sig`` (an ``enc`` key is listed under ``keyAgreement``
only, never ``authentication`` or ``assertionMethod``).

Several serialisations of one key are several DIDs (the spec: "implementations should always store the fully
serialized ``did:jwk:`` URI"): the DID a holder names is kept as it came, never rebuilt from its key.
Hand-written (a few lines over ``jose``): the PyPI DID resolvers that know did:jwk come with network resolution
and stacks of their own.
"""

from __future__ import annotations

from typing import Any

from microcred.sdjwt.jose import JoseError, PublicKey, b64url_decode, jwk_to_public_key, strict_json_loads

__all__ = ["DID_JWK_PREFIX", "MAX_DID_JWK_LENGTH", "DidJwkError", "did_jwk_of", "public_key_from_did_jwk",
           "read_did_jwk"]

DID_JWK_PREFIX = "did:jwk:"
#: An EC P-521 JWK is under 300 characters; room for a few extra members, never megabytes.
MAX_DID_JWK_LENGTH = 2048
#: JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class DidJwkError(ValueError):
    """A did:jwk DID (URL) that cannot be read as a public signing key, with the reason."""


def did_jwk_of(did_url: str) -> tuple[str, dict[str, Any]]:
    """The DID (without fragment) and its JWK for a did:jwk DID or DID URL (fragment absent or ``0``)."""
    if not did_url.startswith(DID_JWK_PREFIX):
        raise DidJwkError("not a did:jwk DID")
    if len(did_url) > MAX_DID_JWK_LENGTH:
        raise DidJwkError(f"a did:jwk longer than {MAX_DID_JWK_LENGTH} characters is refused")
    did, hashed, fragment = did_url.partition("#")
    if hashed and fragment != "0":
        raise DidJwkError("a did:jwk has one verification method, #0")
    try:
        jwk = strict_json_loads(b64url_decode(did[len(DID_JWK_PREFIX):]))
    except (JoseError, ValueError) as exc:
        raise DidJwkError(f"the did:jwk is not a base64url JSON JWK: {exc}") from exc
    if not isinstance(jwk, dict):
        raise DidJwkError("the did:jwk does not hold a JSON object")
    private = sorted(_PRIVATE_MEMBERS & set(jwk))
    if private:
        raise DidJwkError(f"the did:jwk holds private key material ({', '.join(private)}): refused")
    if jwk.get("use", "sig") != "sig":
        raise DidJwkError("the did:jwk's key is for encryption (use: enc), not signatures")
    return did, jwk


def read_did_jwk(did_url: str) -> tuple[str, PublicKey]:
    """The DID (without fragment) and the public signing key a did:jwk DID (URL) holds (:func:`did_jwk_of`'s
    checks, then a usable key), decoded once."""
    did, jwk = did_jwk_of(did_url)
    try:
        return did, jwk_to_public_key(jwk)
    except JoseError as exc:
        raise DidJwkError(f"the did:jwk's key: {exc}") from exc


def public_key_from_did_jwk(did_url: str) -> PublicKey:
    """The public signing key a did:jwk DID (URL) holds (:func:`read_did_jwk`)."""
    return read_did_jwk(did_url)[1]
