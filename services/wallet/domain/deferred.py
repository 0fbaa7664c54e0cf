"""Deferred issuance in our wallet (OpenID4VCI 1.0 §8.3, §9; issue 20): the issuer answered the credential request
with a ``transaction_id`` instead of the credential, and the wallet collects it later. Pure: what is kept, how
the issuer's answers read, and when to ask again.

Written from the specification, not from our issuer's code. A Credential Issuer defers when it cannot issue at
once (ours does when the award says "not before" a date). The pre-authorized code is spent by then, so what the
wallet keeps (:class:`DeferredIssuance`: the access token, the redemption's DPoP key, the transaction) is the
learner's only way to the credential: it is kept durably (sealed, on the wallet's own topic) until the credential
is collected, refused, or :data:`KEEP_SECONDS` pass.

The issuer's answers (§9.2, §9.3): 200 with ``credentials`` (collected); 202 with ``transaction_id`` and
``interval`` (not yet; earlier drafts said 400 ``issuance_pending``, read the same); 400
``invalid_transaction_id`` or ``credential_request_denied``, or 401 (the token is no longer valid): gone for good.
An issuer that cannot answer now (unreachable, 5xx, 429) is asked again; any other error ends the wait.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from services.wallet.domain.offers import ISSUER_ANSWER_INVALID, OfferError

__all__ = ["DEFAULT_INTERVAL", "DEFERRED_EXPIRED", "DEFERRED_GONE", "KEEP_SECONDS", "DeferredIssuance",
           "bounded_interval", "deferred_answer", "deferred_request", "deferred_verdict", "transaction_ref"]

# Codes the page explains in plain language (api/offer_text.py).
DEFERRED_GONE = "OFFER_DEFERRED_GONE"  # the issuer will not give it any more (refused, forgotten, token gone)
DEFERRED_EXPIRED = "OFFER_DEFERRED_EXPIRED"  # the wallet waited KEEP_SECONDS
#: How long the wallet keeps asking before it gives up (an issuer may defer for days: an award "not before" a
#: course's end).
KEEP_SECONDS = 30 * 24 * 3600
#: The wait when an issuer names none, and the bounds put on the one it names (seconds).
DEFAULT_INTERVAL, MIN_INTERVAL, MAX_INTERVAL = 5, 1, 24 * 3600
MAX_TRANSACTION_ID = 1024
#: Errors after which the transaction will never give the credential (§9.3, RFC 6750 §3.1).
GONE_ERRORS = frozenset({"invalid_transaction_id", "credential_request_denied", "invalid_token"})
PENDING_ERRORS = frozenset({"issuance_pending"})


def transaction_ref(credential_issuer: str, transaction_id: str) -> str:
    """The record's id: SHA-256 (hex) of the issuer and the transaction (the transaction_id itself is a secret)."""
    return hashlib.sha256(f"{credential_issuer}\n{transaction_id}".encode()).hexdigest()


@dataclass(frozen=True)
class DeferredIssuance:
    """What the wallet keeps to collect a deferred credential: who owes it, how to ask, and how to check it.

    ``dpop_key_pem``: the redemption's DPoP private key (PKCS#8 PEM), empty when the token is a Bearer token;
    ``holder_did``: the holder key the wallet proved (the credential must be bound to it). Times are Unix
    seconds."""

    account_id: str
    credential_issuer: str
    configuration_id: str
    format: str
    transaction_id: str
    access_token: str
    dpop_key_pem: str
    holder_did: str
    display: tuple[Mapping[str, Any], ...]  # the configuration's display entries, to name it to the learner
    issuer_display: tuple[Mapping[str, Any], ...]  # the issuer's, likewise
    interval: int
    created_at: int
    expires_at: int

    def __repr__(self) -> str:  # the token, the key and the transaction are secrets: never in a log line
        return f"DeferredIssuance(ref={self.ref[:12]}…, issuer={self.credential_issuer!r})"

    @property
    def ref(self) -> str:
        """The record's id (:func:`transaction_ref`)."""
        return transaction_ref(self.credential_issuer, self.transaction_id)

    def to_json(self) -> bytes:
        """The record, as it is sealed."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> DeferredIssuance:
        """A record :meth:`to_json` wrote."""
        fields = json.loads(raw)
        for name in ("display", "issuer_display"):
            fields[name] = tuple(d for d in fields.get(name, ()) if isinstance(d, Mapping))
        return cls(**fields)


def bounded_interval(value: Any) -> int:
    """The issuer's ``interval`` as whole seconds within the wallet's bounds (a hostile issuer cannot make the
    wallet ask every millisecond, nor never again)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return DEFAULT_INTERVAL
    return int(min(MAX_INTERVAL, max(MIN_INTERVAL, value)))


def deferred_answer(response: Any) -> tuple[str, int]:
    """(``transaction_id``, ``interval``) of a deferred credential response (§8.3)."""
    transaction = response.get("transaction_id") if isinstance(response, Mapping) else None
    if not isinstance(transaction, str) or not 0 < len(transaction) <= MAX_TRANSACTION_ID:
        raise OfferError(ISSUER_ANSWER_INVALID, "credential response: deferred without a usable transaction_id")
    return transaction, bounded_interval(response.get("interval"))


def deferred_request(transaction_id: str) -> dict[str, str]:
    """The deferred credential request (§9.1)."""
    return {"transaction_id": transaction_id}


def deferred_verdict(status: int, body: Any) -> str:
    """What a deferred credential endpoint's answer means: ``issued`` (200: read the credentials), ``pending``
    (ask again after the interval), ``gone`` (it will never come: drop the transaction) or ``error`` (any other
    error answer, read as the credential endpoint's are: an issuer that cannot answer now is asked again)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if status == 200:
        return "issued"
    if status == 202 or (status == 400 and error in PENDING_ERRORS):
        return "pending"
    if status == 401 or (status == 400 and error in GONE_ERRORS):
        return "gone"
    return "error"
