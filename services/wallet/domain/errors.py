"""The wallet's error tree. HTTP status codes are attached only in :mod:`services.wallet.api.problems`.

::

    WalletError                      (retriable=False)
    ├── NotAuthenticated             no, malformed, expired or untrusted bearer token
    │   └── ProviderUnavailable      the identity provider's key set could not be fetched (retriable)
    ├── NotPermitted                 the token lacks a required scope
    ├── NotFound                     unknown, or not the caller's (never tells which)
    ├── ShareGone                    a share link was withdrawn or has expired
    ├── Unavailable                  the read model is being rebuilt from Kafka (retriable)
    ├── Conflict                     the request contradicts the wallet's state (e.g. no holder key yet)
    └── Unprocessable                the request is well formed but cannot be accepted
        └── ImportRejected           an imported credential did not verify (carries the failing reason)
"""

from __future__ import annotations

from typing import ClassVar

from microcred import errors


class WalletError(errors.MicrocredError):
    """Base of every error the wallet reports to a caller; ``code`` is a stable machine-readable name."""

    retriable: ClassVar[bool] = False
    code: ClassVar[str] = "WALLET_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        # Not super(): the shared kinds a subclass also derives from (InvalidArgument) take other arguments.
        Exception.__init__(self, message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance override of the class default


class NotAuthenticated(WalletError, errors.Unauthenticated):
    """The caller did not present a valid bearer token."""

    code = "NOT_AUTHENTICATED"


class ProviderUnavailable(NotAuthenticated, errors.Unavailable):
    """The identity provider's keys could not be obtained, so no token can be checked right now."""

    retriable = True
    code = "PROVIDER_UNAVAILABLE"


class NotPermitted(WalletError, errors.PermissionDenied):
    """The caller is authenticated but lacks the scope the operation needs."""

    code = "NOT_PERMITTED"


class NotFound(WalletError, errors.NotFound):
    """The thing does not exist or belongs to someone else (the answer is the same on purpose)."""

    code = "NOT_FOUND"


class ShareGone(WalletError, errors.Gone):
    """A share link existed but was withdrawn or has expired."""

    code = "SHARE_GONE"


class Unavailable(WalletError, errors.Unavailable):
    """The wallet cannot answer reliably right now (its read model is lost or being rebuilt): try again soon."""

    retriable = True
    code = "WALLET_REBUILDING"
    retry_after = 2.0  # seconds: a rebuild by replay takes seconds


class Conflict(WalletError, errors.FailedPrecondition):
    """The operation does not fit the wallet's current state."""

    code = "CONFLICT"


class Unprocessable(WalletError, errors.InvalidArgument):
    """The request is well formed but its content cannot be accepted."""

    code = "UNPROCESSABLE"


class ImportRejected(Unprocessable):
    """An imported credential was refused; ``code`` says why (e.g. INVALID_SIGNATURE, KEY_NOT_FOUND)."""

    code = "IMPORT_REJECTED"
