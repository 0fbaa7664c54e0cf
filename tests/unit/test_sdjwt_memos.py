"""What SD-JWT verification remembers (a validated x5c chain, a verified Status List Token) never changes an
answer: outside the chain's validity, with other anchors, for another subject, past exp, or for other bytes,
the full check runs and refuses as before."""

from __future__ import annotations

import datetime as dt

import pytest

from microcred import pki
from microcred.sdjwt.x5c import ChainError, load_certificates, validate_x5c
from microcred.status.errors import StatusListValidityError, StatusVerificationError
from microcred.status.token_status_list import TokenStatusList, status_list_token, verify_status_list_token
from tests.harness.sd_jwt import LIST_URI, NOW, make_world


def test_a_remembered_chain_is_used_only_inside_its_validity_and_for_the_same_anchors() -> None:
    sd = make_world()
    x5c = list(sd.issuer.x5c)
    leaf, _ = validate_x5c(x5c, sd.anchors, NOW)
    assert validate_x5c(x5c, sd.anchors, NOW + dt.timedelta(minutes=1))[0] == leaf  # remembered
    with pytest.raises(ChainError) as late:
        validate_x5c(x5c, sd.anchors, leaf.not_valid_after_utc + dt.timedelta(seconds=1))
    assert late.value.reason == "CHAIN_UNTRUSTED"
    with pytest.raises(ChainError) as early:
        validate_x5c(x5c, sd.anchors, leaf.not_valid_before_utc - dt.timedelta(seconds=1))
    assert early.value.reason == "CHAIN_UNTRUSTED"
    other = tuple(load_certificates(pki.create_ca("another CA").cert_pem))
    with pytest.raises(ChainError) as foreign:
        validate_x5c(x5c, other, NOW)
    assert foreign.value.reason == "CHAIN_UNTRUSTED"
    with pytest.raises(ChainError):
        validate_x5c(x5c, (), NOW)


def test_a_remembered_token_is_judged_again_on_subject_time_and_bytes() -> None:
    sd = make_world()
    token = status_list_token(TokenStatusList(1024, bits=2), uri=LIST_URI, signer=sd.issuer, now=NOW, ttl=60,
                              lifetime=600)
    first = verify_status_list_token(token, expected_uri=LIST_URI, trust_anchors=sd.anchors, now=NOW)
    again = verify_status_list_token(token, expected_uri=LIST_URI, trust_anchors=sd.anchors, now=NOW)
    assert again.status_list is first.status_list  # decoded once
    with pytest.raises(StatusVerificationError):
        verify_status_list_token(token, expected_uri=LIST_URI + "-other", trust_anchors=sd.anchors, now=NOW)
    with pytest.raises(StatusListValidityError):
        verify_status_list_token(token, expected_uri=LIST_URI, trust_anchors=sd.anchors,
                                 now=NOW + dt.timedelta(hours=1))
    with pytest.raises(StatusVerificationError):  # a remembered token, other anchors: the chain is checked again
        verify_status_list_token(token, expected_uri=LIST_URI, now=NOW,
                                 trust_anchors=tuple(load_certificates(pki.create_ca("another CA").cert_pem)))
    head, payload, signature = token.split(".")
    forged = ".".join([head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    with pytest.raises(StatusVerificationError):
        verify_status_list_token(forged, expected_uri=LIST_URI, trust_anchors=sd.anchors, now=NOW)
