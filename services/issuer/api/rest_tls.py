"""HTTPS for the issuer's REST API: the server's certificate, an optional client certificate, and the ASGI TLS
extension so the application can read which verified certificate the caller presented.

uvicorn does not put the peer certificate in the ASGI scope; :class:`TlsHttpProtocol` adds it as the ASGI "TLS"
extension (``scope["extensions"]["tls"]["client_cert_chain"]``, PEM strings) for every request of the
connection. Otherwise it is the services' own HTTP protocol (:mod:`microcred.http_protocol`: httptools parsing,
each response written in one send, which over TLS is also one TLS record instead of two). The certificate is
only there when the handshake verified it against the platform CA (the SSL context's ``CERT_OPTIONAL``: no
certificate is allowed, a bad one fails the handshake). :class:`RestServer` runs an app that way (TLS 1.2+,
``server.crt``/``server.key``, client certificates checked against ``ca.crt``).
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import uvicorn

from microcred.http_protocol import CoalescingHttpToolsProtocol
from microcred.http_service import EmbeddedUvicorn

__all__ = ["RestServer", "TlsHttpProtocol", "client_certificate_pem"]


class TlsHttpProtocol(CoalescingHttpToolsProtocol):
    """The services' HTTP protocol, adding the ASGI TLS extension with the verified client certificate."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope.get("type") == "http":
                scope.setdefault("extensions", {})["tls"] = {"client_cert_chain": chain}
            await inner(scope, receive, send)

        self.app = app


def client_certificate_pem(scope: Any) -> bytes | None:
    """The verified client certificate of the request (PEM), or None."""
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    return chain[0].encode() if chain else None


class RestServer:
    """uvicorn serving ``app`` over TLS on ``host:port`` (0: a free port) inside the running event loop."""

    def __init__(self, app: Any, host: str, port: int, tls_dir: Path) -> None:
        config = uvicorn.Config(app, host=host, port=port, http=TlsHttpProtocol, lifespan="off", log_config=None,
                                access_log=False, ssl_certfile=str(tls_dir / "server.crt"),
                                ssl_keyfile=str(tls_dir / "server.key"), ssl_ca_certs=str(tls_dir / "ca.crt"),
                                ssl_cert_reqs=ssl.CERT_OPTIONAL)
        self._server = EmbeddedUvicorn(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        port: int = self._server.servers[0].sockets[0].getsockname()[1]
        return port

    async def start(self, timeout: float = 10.0) -> None:
        """Bind and serve; raises RuntimeError when the server does not come up within ``timeout``."""
        self._task = asyncio.create_task(self._server.serve(), name="issuer-rest")
        for _ in range(int(timeout / 0.02)):
            if self._server.started:
                return
            if self._task.done():
                break
            await asyncio.sleep(0.02)
        raise RuntimeError("the issuer REST API did not start (port taken, or bad TLS files?)")

    async def stop(self) -> None:
        """Stop serving (in-flight requests finish first)."""
        self._server.should_exit = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
