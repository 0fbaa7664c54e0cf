"""How a learner's identifiers are compared and hashed, in one place for every service.

Issuers hash a learner's e-mail address into the credential (OB 3.0 ``identifier`` with an ``identityHash``); the
wallet finds the credentials of a signed-in learner by hashing their verified address the same way; the issuer's
OpenID4VCI sign-in compares the address a login vouches for with the award's. All of them must agree on the
address's form, or a learner's own credential is not found, or someone else's is: :func:`normalise_email`.
"""

from __future__ import annotations

import hashlib

__all__ = ["identity_hash", "normalise_email"]


def normalise_email(email: str) -> str:
    """The form in which e-mail addresses are compared and hashed: trimmed and in lower case (the local part's
    case is, in practice, never significant for the mailboxes learners use)."""
    return email.strip().lower()


def identity_hash(value: str, salt: str) -> str:
    """OB 3.0 ``identityHash``: ``"sha256$"`` + hex(sha256(value + salt))."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
