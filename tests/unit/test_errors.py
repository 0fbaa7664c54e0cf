"""One error vocabulary (microcred.errors): every service's errors are kinds of it, mapped by one table each."""

from __future__ import annotations

import pytest
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred import errors
from microcred.model.errors import FieldViolation
from services.issuer.application.ports import SigningUnavailable, StatusIndexUnavailable, StoreNotReady
from services.revocation import domain as revocation
from services.revocation.application import ReadModelUnavailable
from services.verifier.application import ShareGone, ShareNotFound, WalletUnavailable
from services.wallet.domain import errors as wallet


@pytest.mark.parametrize("error", [StoreNotReady("x"), StatusIndexUnavailable("x"), SigningUnavailable("x"),
                                   ReadModelUnavailable("x"), wallet.Unavailable("x"), WalletUnavailable("x")])
def test_retry_later_is_spelled_once(error: Exception) -> None:
    assert isinstance(error, errors.Unavailable) and error.retriable  # type: ignore[attr-defined]
    assert errors.grpc_code(error) == code_pb2.UNAVAILABLE and errors.http_status(error) == 503


@pytest.mark.parametrize(("error", "code", "status"), [
    (revocation.InvalidArgument([FieldViolation("reason", "is required")]), code_pb2.INVALID_ARGUMENT, 422),
    (revocation.NotFound("x"), code_pb2.NOT_FOUND, 404),
    (revocation.PermissionDenied("x"), code_pb2.PERMISSION_DENIED, 403),
    (revocation.FailedPrecondition("x"), code_pb2.FAILED_PRECONDITION, 409),
    (wallet.NotAuthenticated("x"), code_pb2.UNAUTHENTICATED, 401),
    (wallet.ProviderUnavailable("x"), code_pb2.UNAVAILABLE, 503),  # retriable wins over "not authenticated"
    (wallet.NotPermitted("x"), code_pb2.PERMISSION_DENIED, 403),
    (wallet.NotFound("x"), code_pb2.NOT_FOUND, 404),
    (wallet.ShareGone("x"), code_pb2.NOT_FOUND, 410),
    (wallet.Conflict("x"), code_pb2.FAILED_PRECONDITION, 409),
    (wallet.ImportRejected("x", code="INVALID_SIGNATURE"), code_pb2.INVALID_ARGUMENT, 422),
    (ShareNotFound("t"), code_pb2.NOT_FOUND, 404),
    (ShareGone("t"), code_pb2.NOT_FOUND, 410),
    (errors.AlreadyExists("x"), code_pb2.ALREADY_EXISTS, 409),
    (ValueError("not ours"), code_pb2.UNKNOWN, 500),
    (wallet.WalletError("x"), code_pb2.UNKNOWN, 500),
])
def test_one_table_per_edge(error: Exception, code: int, status: int) -> None:
    assert (errors.grpc_code(error), errors.http_status(error)) == (code, status)


def test_kinds_keep_their_own_data() -> None:
    bad = revocation.InvalidArgument([FieldViolation("reason", "is required")])
    assert bad.violations[0].field == "reason" and str(bad) == "reason: is required"
    rejected = wallet.ImportRejected("the signature does not verify", code="INVALID_SIGNATURE")
    assert rejected.message == "the signature does not verify" and rejected.code == "INVALID_SIGNATURE"
    assert rejected.violations == () and str(rejected) == "the signature does not verify"
    assert wallet.Unavailable("x").retry_after == 2.0 and wallet.ProviderUnavailable("x").retry_after is None
