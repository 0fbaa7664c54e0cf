"""gRPC over mutual TLS for every gRPC service: server construction, health, reflection, caller identity.

``create_server`` follows the grpc examples' idiom: it returns the server and the bound port so that tests can
bind port 0, and it registers ``grpc.health.v1`` and server reflection for the named services.

Kubernetes' built-in gRPC probe cannot present a client certificate, so a service may also open a *health
port*: a second, plaintext server that carries nothing but ``grpc.health.v1`` (same servicer, so the same
statuses). Business RPCs and reflection exist only on the mutual-TLS port.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import status_pb2  # type: ignore[import-untyped, attr-defined, unused-ignore]
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from opentelemetry.instrumentation.grpc.filters import negate, service_name

from microcred.metrics import GrpcMetricsInterceptor
from microcred.pki import Identity, identity_from_pem


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of a TLS endpoint: the CA that signs peers, our certificate and our key."""

    ca: bytes
    cert: bytes
    key: bytes

    @classmethod
    def from_dir(cls, directory: Path, name: str = "server") -> TlsFiles:
        """Read ``ca.crt``, ``NAME.crt`` and ``NAME.key`` from ``directory``."""
        return cls((directory / "ca.crt").read_bytes(), (directory / f"{name}.crt").read_bytes(),
                   (directory / f"{name}.key").read_bytes())


@dataclass
class GrpcServer:
    """A started-or-not asyncio gRPC server, its port and its health servicer."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: tuple[str, ...]
    health_server: grpc.aio.Server | None = None
    health_port: int | None = None

    async def start(self) -> None:
        """Start serving and mark every service SERVING."""
        await self.server.start()
        if self.health_server is not None:
            await self.health_server.start()
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float = 5.0) -> None:
        """Report NOT_SERVING, let running calls finish for ``grace`` seconds, then stop."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(0)


def create_server(
    tls: TlsFiles,
    address: str,
    service_names: Sequence[str],
    register: Callable[[grpc.aio.Server], None],
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    health_address: str | None = None,
) -> GrpcServer:
    """Build a TLS gRPC server that requires client certificates signed by ``tls.ca``.

    With ``health_address``, also a plaintext server there with only ``grpc.health.v1`` (for kubelet probes).
    """
    credentials = grpc.ssl_server_credentials([(tls.key, tls.cert)], root_certificates=tls.ca,
                                              require_client_auth=True)
    # Health probes would drown real calls in traces: they are not traced.
    tracing = aio_server_interceptor(filter_=negate(service_name(health.SERVICE_NAME)))  # type: ignore[no-untyped-call]
    metrics = GrpcMetricsInterceptor(service_names[0].rsplit(".", 1)[-1] if service_names else "grpc")
    # SO_REUSEPORT off: gRPC turns it on by default, and then a second server on a taken port binds silently
    # and shares its traffic. A taken port must fail loudly instead.
    server = grpc.aio.server(interceptors=[tracing, metrics, *interceptors],
                             options=[("grpc.max_receive_message_length", 16 * 1024 * 1024),
                                      ("grpc.so_reuseport", 0)])
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    register(server)
    reflection.enable_server_reflection([health.SERVICE_NAME, reflection.SERVICE_NAME, *service_names], server)
    port = server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"could not bind gRPC server to {address}")
    health_server, health_port = None, None
    if health_address is not None:
        health_server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, health_server)
        health_port = health_server.add_insecure_port(health_address)
        if health_port == 0:
            raise OSError(f"could not bind the gRPC health port to {health_address}")
    return GrpcServer(server, port, health_servicer, tuple(service_names), health_server, health_port)


def client_channel(target: str, tls: TlsFiles, *, server_name: str | None = None) -> grpc.aio.Channel:
    """An asyncio channel presenting ``tls.cert`` as client certificate and trusting ``tls.ca``.

    ``target`` is any gRPC target: ``host:port``, ``dns:///host:port`` (every address the name resolves to, e.g.
    a headless Kubernetes service), or a list of replicas ``ipv4:10.0.0.1:50051,10.0.0.2:50051`` (``ipv6:`` with
    ``[addr]:port``). See :func:`channel_options` for the name the server's certificate must carry and how calls
    are spread.
    """
    credentials = grpc.ssl_channel_credentials(root_certificates=tls.ca, private_key=tls.key,
                                               certificate_chain=tls.cert)
    interceptors = aio_client_interceptors()  # type: ignore[no-untyped-call]
    return grpc.aio.secure_channel(target, credentials, options=channel_options(target, server_name),
                                   interceptors=interceptors)


def channel_options(target: str, server_name: str | None = None) -> list[tuple[str, str]]:
    """Channel options for ``target``.

    * The name the server certificate is checked against: ``server_name`` when given; for a list of addresses
      (``ipv4:``/``ipv6:``) the first one's host, since gRPC would otherwise check the whole list text as a host
      name and refuse every replica ("Hostname Verification Check failed"); else the target's own host.
    * Several addresses (a list, or a ``dns:`` name that may resolve to several) are used in turn
      (``round_robin``): calls spread over the replicas, and a replica that is down is skipped while the others
      answer, instead of every call going to the first address (``pick_first``, gRPC's default).
    """
    scheme, _, rest = target.partition(":")
    addresses = rest.split(",") if scheme in ("ipv4", "ipv6") else []
    name = server_name or (_host(addresses[0]) if len(addresses) > 1 else None)
    options = [("grpc.ssl_target_name_override", name), ("grpc.default_authority", name)] if name else []
    if len(addresses) > 1 or scheme == "dns":
        options.append(("grpc.lb_policy_name", "round_robin"))
    return options


def _host(address: str) -> str:
    """The host of ``addr:port`` or ``[v6addr]:port`` (an address without a port is its own host)."""
    address = address.strip()
    if address.startswith("["):
        return address[1:address.index("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def caller_identity(context: grpc.aio.ServicerContext[object, object]) -> Identity | None:
    """The identity in the caller's verified client certificate, or None when there is none."""
    pems = context.auth_context().get("x509_pem_cert")
    if not pems:
        return None
    return identity_from_pem(pems[0])


async def abort_with_details(context: Any, code: int, message: str, *details: Message) -> NoReturn:
    """Abort the call with a ``google.rpc.Status`` carrying ``details`` (e.g. ``BadRequest`` field violations)."""
    packed = []
    for detail in details:
        item = any_pb2.Any()
        item.Pack(detail)
        packed.append(item)
    await context.abort_with_status(rpc_status.to_status(status_pb2.Status(code=code, message=message,
                                                                           details=packed)))
    raise AssertionError("abort_with_status returned")  # pragma: no cover
