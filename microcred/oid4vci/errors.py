"""OAuth 2.0 / OpenID4VCI 1.0 error codes and the error every check here raises.

Token endpoint (RFC 6749 §5.2, OpenID4VCI §6.3): ``invalid_request`` (a ``tx_code`` missing or not expected
too), ``invalid_grant`` (unknown, used, expired or withdrawn pre-authorized code; wrong ``tx_code``),
``unsupported_grant_type``. Credential endpoint (§8.3.1.2): ``invalid_credential_request``,
``unknown_credential_configuration``, ``unknown_credential_identifier``, ``invalid_proof``, ``invalid_nonce``,
``credential_request_denied`` (refused for good: the wallet stops asking), ``invalid_encryption_parameters`` (an
encrypted request or response asked of an issuer that encrypts neither); deferred credential endpoint (§9.3):
``invalid_transaction_id``; the bearer token (RFC 6750 §3.1): ``invalid_token``; DPoP (RFC 9449 §7.1):
``invalid_dpop_proof``. A description is sent in the characters RFC 6749 §5.2 allows (:func:`error_description`),
whatever a check wrote.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "CREDENTIAL_REQUEST_DENIED", "INVALID_CREDENTIAL_REQUEST", "INVALID_DPOP_PROOF", "INVALID_ENCRYPTION_PARAMETERS",
    "INVALID_GRANT", "INVALID_NONCE", "INVALID_PROOF", "INVALID_REQUEST", "INVALID_TOKEN", "INVALID_TRANSACTION_ID",
    "TEMPORARILY_UNAVAILABLE", "UNKNOWN_CREDENTIAL_CONFIGURATION", "UNKNOWN_CREDENTIAL_IDENTIFIER",
    "UNSUPPORTED_GRANT_TYPE", "OAuthError", "error_description", "proof_nonce",
]

INVALID_REQUEST = "invalid_request"
INVALID_GRANT = "invalid_grant"
UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
INVALID_TOKEN = "invalid_token"
INVALID_DPOP_PROOF = "invalid_dpop_proof"
INVALID_CREDENTIAL_REQUEST = "invalid_credential_request"
UNKNOWN_CREDENTIAL_CONFIGURATION = "unknown_credential_configuration"
UNKNOWN_CREDENTIAL_IDENTIFIER = "unknown_credential_identifier"
INVALID_PROOF = "invalid_proof"
INVALID_NONCE = "invalid_nonce"
CREDENTIAL_REQUEST_DENIED = "credential_request_denied"
INVALID_TRANSACTION_ID = "invalid_transaction_id"
INVALID_ENCRYPTION_PARAMETERS = "invalid_encryption_parameters"
#: RFC 6749 §4.1.2.1 (the authorization endpoint's), also answered with 503 by the token endpoint and the offer
#: by reference while the issuer cannot tell yet whether a code may be spent (offers being rebuilt).
TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"


#: Characters an ``error_description`` may not hold, and what stands for them: RFC 6749 §5.2 and OpenID4VCI
#: §8.3.1.2 allow only ``%x20-21 / %x23-5B / %x5D-7E`` (printable ASCII without ``"`` and ``\``).
_DESCRIPTION_STAND_INS = str.maketrans({
    '"': "'", "\\": "/", "\u00a7": "section ", "\u2018": "'", "\u2019": "'", "\u201c": "'", "\u201d": "'",
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u2192": "->", "\u00a0": " ", "\t": " ", "\n": " ", "\r": " "})


def error_description(text: str) -> str:
    """``text`` as an ``error_description`` may carry it (``%x20-21 / %x23-5B / %x5D-7E``): ``"`` becomes ``'``,
    ``\\`` ``/``, ``§`` ``section ``, typographic quotes and dashes their ASCII forms, a letter with an accent the
    letter (NFKD), and anything else (other scripts, control characters) ``?``."""
    text = text.translate(_DESCRIPTION_STAND_INS)
    if text.isascii() and text.isprintable():
        return text
    plain = unicodedata.normalize("NFKD", text).translate(_DESCRIPTION_STAND_INS)  # a full-width " is a "
    return "".join(c if " " <= c <= "~" else "?" for c in plain if not unicodedata.combining(c))


class OAuthError(Exception):
    """An OAuth/OpenID4VCI error: ``error`` (the code), ``description`` (no personal data), HTTP ``status``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        """The JSON error body (RFC 6749 §5.2), its description in the characters it may hold
        (:func:`error_description`)."""
        return {"error": self.error, "error_description": error_description(self.description)}


#: The longest ``c_nonce`` this issuer could have handed out is far shorter; a longer one is no nonce of ours.
MAX_NONCE = 256


def proof_nonce(value: object, missing: str) -> str:
    """The ``c_nonce`` a key proof names (``value``: its ``nonce`` claim or ``challenge``). A proof without one is
    ``invalid_proof`` (§8.3.1.2: "at least one of the key proofs does not contain a c_nonce value"), saying
    ``missing``; ``invalid_nonce`` is for a nonce that is there but not live (unknown, expired or used), which the
    store decides, or one longer than any this issuer gives."""
    if not isinstance(value, str) or not value:
        raise OAuthError(INVALID_PROOF, missing)
    if len(value) > MAX_NONCE:
        raise OAuthError(INVALID_NONCE, "the proof's nonce is not a c_nonce from this issuer's nonce endpoint")
    return value
