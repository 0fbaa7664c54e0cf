"""The keyed learner pseudonym: what routing, status and audit records name instead of the learner.

``pseudonym = "lp_" + hex(HMAC-SHA256(secret, canonical identifier))``. The secret is derived from the privacy
KEK (:mod:`microcred.privacy.wrapping`), so nobody without it can test whether a pseudonym is a given person's
(a plain hash of an e-mail address can be reversed by hashing a list of addresses). The canonical identifier is
the learner's DID when the credential names one, else ``mailto:`` and the lower-cased e-mail address: one learner
is one pseudonym across all the credentials issued to the same identifier.
"""

from __future__ import annotations

import hmac

from microcred.credential.identifiers import normalise_email

__all__ = ["PREFIX", "Pseudonymizer", "canonical_identifier", "is_pseudonym"]

PREFIX = "lp_"
_HEX_LEN = 64


def canonical_identifier(did: str = "", email: str = "") -> str:
    """The identifier a learner's pseudonym is computed from: the DID, else ``mailto:`` + the e-mail (lower
    case, trimmed); ValueError when there is neither."""
    did, email = did.strip(), normalise_email(email)
    if did:
        return did
    if email:
        return "mailto:" + email
    raise ValueError("a learner needs a DID or an e-mail address to have a pseudonym")


def is_pseudonym(value: str) -> bool:
    """True for a string shaped like a learner pseudonym (``lp_`` + 64 lower-case hex digits)."""
    body = value[len(PREFIX):]
    return value.startswith(PREFIX) and len(body) == _HEX_LEN and all(c in "0123456789abcdef" for c in body)


class Pseudonymizer:
    """Computes learner pseudonyms under one platform secret (never shown in a repr)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the pseudonym secret must be at least 32 bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "Pseudonymizer()"

    def of_identifier(self, identifier: str) -> str:
        """The pseudonym of a canonical identifier (:func:`canonical_identifier`)."""
        # hmac.digest: the one-shot C path, the same MAC as hmac.new(...).hexdigest() without the HMAC object
        return PREFIX + hmac.digest(self._secret, identifier.encode("utf-8"), "sha256").hex()

    def of(self, *, did: str = "", email: str = "") -> str:
        """The pseudonym of the learner a DID or e-mail names (ValueError when neither is given)."""
        return self.of_identifier(canonical_identifier(did, email))
