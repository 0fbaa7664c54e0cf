"""The links a correction leaves outside the issuer: who may revoke as superseded (revocation rules), and what
the wallet keeps and shows of the replaced and the replacing credential."""

from __future__ import annotations

import pytest

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.pki import ROLE_AGENCY, ROLE_ISSUER, ROLE_SERVICE, Identity
from services.revocation.domain import (
    CredentialRecord,
    InvalidArgument,
    PermissionDenied,
    authorize_supersede,
    validate_supersede,
)
from services.wallet.adapters.store import parse_record, record_fields
from services.wallet.domain.credentials import CredentialStatus, EuElements, HeldCredential, StatusChange
from services.wallet.domain.credentials import Identity as Learner
from services.wallet.events.changes import change_of

OLD = CredentialRecord("urn:uuid:old", "uni-a", "ie-qqi")


def test_only_a_platform_service_may_supersede_and_only_for_the_credentials_issuer() -> None:
    authorize_supersede(Identity("issuer-service", "platform", ROLE_SERVICE), OLD, "uni-a")
    with pytest.raises(PermissionDenied, match="not issued by 'uni-b'"):
        authorize_supersede(Identity("issuer-service", "platform", ROLE_SERVICE), OLD, "uni-b")
    for identity in (Identity("uni-a", "ie-qqi", ROLE_ISSUER), Identity("op", "ie-qqi", ROLE_AGENCY)):
        with pytest.raises(PermissionDenied, match="only platform services"):
            authorize_supersede(identity, OLD, "uni-a")


def test_a_supersession_request_names_every_bad_field() -> None:
    validate_supersede("urn:uuid:old", "urn:uuid:new", "uni-a", "issuer:uni-a@ie-qqi")
    with pytest.raises(InvalidArgument) as caught:
        validate_supersede("urn:uuid:old", "urn:uuid:old", "", "a\nb")
    assert [v.field for v in caught.value.violations] == ["superseded_by", "issuer_id", "actor"]


def test_the_wallet_keeps_the_replacement_of_a_superseded_credential() -> None:
    revoked = events_pb2.CredentialRevoked(credential_id="urn:uuid:old", issuer_id="uni-a", reason="superseded",
                                           superseded_by="urn:uuid:new")
    change = change_of(new_envelope(revoked), revoked, b"k" * 32, None)
    assert change == StatusChange("urn:uuid:old", revoked=True, reason="superseded", superseded_by="urn:uuid:new")


def test_the_wallet_shows_both_ends_of_a_correction() -> None:
    old = HeldCredential("urn:uuid:old", "uni-a", None, EuElements("t"), Learner())
    new = HeldCredential("urn:uuid:new", "uni-a", None, EuElements("t"), Learner(), replaces="urn:uuid:old")
    fields = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in record_fields(old).items()}
    shown = parse_record(fields, {b"revoked": b"1", b"reason": b"superseded", b"superseded_by": b"urn:uuid:new"})
    assert shown.status is CredentialStatus.REVOKED and shown.replaced_by == "urn:uuid:new"
    assert shown.meta_json()["replaced_by"] == "urn:uuid:new" and shown.meta_json()["replaces"] is None
    fields = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in record_fields(new).items()}
    shown = parse_record(fields, {})
    assert shown.replaces == "urn:uuid:old" and shown.replaced_by is None
    assert shown.meta_json()["replaces"] == "urn:uuid:old"
