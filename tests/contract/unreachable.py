"""A revocation-service stub that cannot reach anything, for the contracts' "the backend is down" cases."""

from __future__ import annotations

import socket

import grpc

from microcred import pki
from microcred.gen.microcred.v1 import revocation_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel

__all__ = ["unreachable_revocation"]


def unreachable_revocation(ca: pki.CertifiedKey) -> tuple[revocation_pb2_grpc.RevocationServiceStub, grpc.aio.Channel]:
    """A stub (with the issuer service's certificate under ``ca``) on a port nothing listens on any more, and its
    channel for the caller to close."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cert = pki.create_client_cert(ca, "issuer-service", "platform", pki.ROLE_SERVICE)
    channel = client_channel(f"127.0.0.1:{port}", TlsFiles(ca.cert_pem, cert.cert_pem, cert.key_pem))
    return revocation_pb2_grpc.RevocationServiceStub(channel), channel
