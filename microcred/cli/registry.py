"""``mcred agency ...`` and ``mcred issuer ...``: the certificate side of tenancy.

One platform CA signs every certificate. A client certificate names its holder: CN = subject id, O = agency id,
OU = role (``agency`` for agency operators, ``issuer`` for issuers, ``service`` for the platform operator).

::

    mcred agency init-ca --out pki/                      # platform CA, gRPC server cert, platform operator cert
    mcred agency cert ie-qqi --ca-dir pki/ --out ie-qqi/  # an agency operator's client certificate
    mcred issuer cert uni-a --agency ie-qqi --ca-dir pki/ --out uni-a/

Each output directory gets ``ca.crt`` next to the new ``NAME.crt``/``NAME.key`` (key mode 0600), so a client can
use ``TlsFiles.from_dir(out, NAME)`` directly. Nothing is ever overwritten. The issuer command prints the
certificate's SHA-256 fingerprint, which the agency may record with ``RegisterIssuer``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from rich.console import Console

from microcred import pki
from microcred.registry.domain import ID_PATTERN

agency_app = typer.Typer(help="Agencies: register and list (platform operator); the platform CA and agency "
                        "operator certificates.", no_args_is_help=True)
issuer_app = typer.Typer(help="Issuers: register, list, show, rotate and retire keys (agency operators); issuer "
                        "client certificates.", no_args_is_help=True)
console = Console()

CA_DIR = typer.Option(Path(".run/pki"), "--ca-dir", envvar="MICROCRED_CA_DIR",
                      help="directory holding the platform CA (ca.crt, ca.key)")


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 (hex) of a certificate's DER encoding."""
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def _check_id(value: str, what: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not a valid {what} id (letters, digits, '.', '_', '-')")
    return value


def _load_ca(ca_dir: Path) -> pki.CertifiedKey:
    if not (ca_dir / "ca.crt").exists() or not (ca_dir / "ca.key").exists():
        console.print(f"[red]no platform CA in {ca_dir}[/red]: run `mcred agency init-ca --out {ca_dir}` first")
        raise typer.Exit(1)
    return pki.CertifiedKey.read(ca_dir, "ca")


def _write_client(ca: pki.CertifiedKey, out: Path, name: str, subject: str, agency: str, role: str,
                  days: int) -> pki.CertifiedKey:
    if (out / f"{name}.crt").exists() or (out / f"{name}.key").exists():
        console.print(f"[red]{out / name}.crt or .key exists[/red]; refusing to overwrite")
        raise typer.Exit(1)
    cert = pki.create_client_cert(ca, subject, agency, role, days=days)
    cert_path, key_path = cert.write(out, name)
    if not (out / "ca.crt").exists():
        (out / "ca.crt").write_bytes(ca.cert_pem)
    console.print(f"wrote {cert_path} and {key_path} (CN={subject}, O={agency}, OU={role})")
    return cert


def issue_platform_material(out: Path, hosts: list[str], days: int = 3650) -> list[str]:
    """Create what is missing in ``out``: CA, server certificate, platform operator certificate; list what was made."""
    made = []
    if (out / "ca.crt").exists() != (out / "ca.key").exists():
        raise FileExistsError(f"{out} holds only half of a CA (ca.crt or ca.key); fix it by hand")
    if not (out / "ca.crt").exists():
        pki.create_ca("microcred platform CA", days=days).write(out, "ca")
        made.append("ca")
    ca = pki.CertifiedKey.read(out, "ca")
    if not (out / "server.crt").exists():
        pki.create_server_cert(ca, "microcred-services", hosts=hosts or None).write(out, "server")
        made.append("server")
    if not (out / "platform-operator.crt").exists():
        pki.create_client_cert(ca, "platform-operator", pki.ROLE_PLATFORM, pki.ROLE_SERVICE).write(
            out, "platform-operator")
        made.append("platform-operator")
    return made


@agency_app.command("init-ca")
def init_ca(out: Path = typer.Option(..., "--out", help="directory for the platform PKI (MICROCRED_TLS_DIR)"),
            host: list[str] = typer.Option([], "--host", help="server certificate host (repeat; default "
                                                               "localhost and 127.0.0.1)"),
            days: int = typer.Option(3650, help="CA validity in days")) -> None:
    """Create the platform CA, the services' server certificate and the platform operator certificate, if missing."""
    try:
        made = issue_platform_material(out, host, days)
    except FileExistsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if made:
        console.print(f"created {', '.join(made)} in {out}")
    else:
        console.print(f"{out} already holds the platform CA, server and operator certificates; nothing to do")
    console.print(f"keep {out / 'ca.key'} secret: it signs every certificate of the platform")


@agency_app.command("cert")
def agency_cert(agency_id: str = typer.Argument(..., help="agency id (certificate O)"),
                out: Path = typer.Option(..., "--out", help="directory for the operator's certificate"),
                ca_dir: Path = CA_DIR,
                operator: str = typer.Option("", help="operator id (certificate CN; default AGENCY_ID-operator)"),
                days: int = typer.Option(365, help="validity in days")) -> None:
    """Issue an agency operator's client certificate (OU=agency)."""
    _check_id(agency_id, "agency")
    subject = _check_id(operator or f"{agency_id}-operator", "operator")
    _write_client(_load_ca(ca_dir), out, agency_id, subject, agency_id, pki.ROLE_AGENCY, days)


@issuer_app.command("cert")
def issuer_cert(issuer_id: str = typer.Argument(..., help="issuer id (certificate CN)"),
                agency: str = typer.Option(..., "--agency", help="the issuer's agency id (certificate O)"),
                out: Path = typer.Option(..., "--out", help="directory for the issuer's certificate"),
                ca_dir: Path = CA_DIR,
                days: int = typer.Option(365, help="validity in days")) -> None:
    """Issue an issuer's client certificate (OU=issuer) and print its SHA-256 fingerprint."""
    _check_id(issuer_id, "issuer")
    _check_id(agency, "agency")
    cert = _write_client(_load_ca(ca_dir), out, issuer_id, issuer_id, agency, pki.ROLE_ISSUER, days)
    console.print(f"sha256 fingerprint: {fingerprint(cert.cert_pem)}")
