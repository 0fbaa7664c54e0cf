"""``mcred agency register|list``, ``mcred issuer register|list|show|rotate-key|retire-key``,
``mcred accreditation ...`` and ``mcred credential get``: the trust registry and issued credentials over the
platform's mTLS gRPC APIs.

::

    mcred agency register ie-qqi --name "Quality and Qualifications Ireland" --country IE --tls-dir platform/
    mcred issuer register uni-a --name "University A" --country IE --pin-cert uni-a/uni-a.crt --tls-dir ie-qqi/
    mcred accreditation grant uni-a --max-eqf 7 --framework "ESG 2015" --body "QQI" \\
        --decision QQI/2026/17 --valid-from 2026-01-01 --tls-dir ie-qqi/
    mcred issuer show uni-a --tls-dir ie-qqi/ --json
    mcred credential get urn:uuid:... --tls-dir uni-a/

The platform operator registers agencies; an agency operator registers, accredits and manages its own issuers;
an issuer reads itself and its credentials. The registry assigns the issuer's did:web and generates its keys
in the platform key store (so no DID or key is asked for here). Exit codes as in
:mod:`microcred.cli.grpc_client`.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp

from microcred.cli.audit import parse_moment
from microcred.cli.grpc_client import CERT_NAME, JSON, TLS_DIR, connect, emit, fail, run_call, to_dict
from microcred.cli.registry import agency_app, fingerprint, issuer_app
from microcred.gen.microcred.v1 import elements_pb2, issuer_pb2, issuer_pb2_grpc, registry_pb2, registry_pb2_grpc
from microcred.registry.logo import MAX_LOGO_BYTES

__all__ = ["accreditation_app", "agency_list", "credential_get", "issuer_retire_key"]

accreditation_app = typer.Typer(help="Accreditation decisions about issuers (agency operators).",
                                no_args_is_help=True)
SERVER = typer.Option("127.0.0.1:50051", "--server", envvar="MICROCRED_ISSUER_TARGET",
                      help="issuer service host:port (it hosts the registry)")
_TYPES = {"institutional-qa": elements_pb2.ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE,
          "programme-qa": elements_pb2.ACCREDITATION_TYPE_PROGRAM_QUALITY_ASSURANCE,
          "institutional-license": elements_pb2.ACCREDITATION_TYPE_INSTITUTIONAL_LICENSE,
          "programme-license": elements_pb2.ACCREDITATION_TYPE_PROGRAM_LICENSE}


def _organisation(name: str, country: str | None, homepage: str | None,
                  identifiers: list[str]) -> elements_pb2.Organisation:
    org = elements_pb2.Organisation(legal_name=elements_pb2.LangString(values={"en": name}))
    if country:
        org.country.code = country.upper()
    if homepage:
        org.homepage = homepage
    for item in identifiers:
        scheme, sep, value = item.partition("=")
        if not sep:
            fail(f"--identifier {item!r}: write SCHEME=VALUE, e.g. registration=12345")
        org.identifiers.add(scheme=scheme.strip(), value=value.strip())
    return org


def _timestamp(text: str, option: str) -> Timestamp:
    """An ISO date or date-time option as a protobuf Timestamp (parsed as ``mcred audit`` parses its own)."""
    moment = parse_moment(text, option)
    assert moment is not None  # the options passed here are never empty
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _registry(server: str, tls_dir: Path, cert_name: str | None, rpc: str, request: Any) -> Any:
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> Any:
        return await getattr(registry_pb2_grpc.RegistryServiceStub(channel), rpc)(request, timeout=30)

    return run_call(server, tls, call)


def _issuer_text(issuer: registry_pb2.Issuer) -> str:
    name = issuer.organisation.legal_name.values.get("en", "")
    lines = [f"{issuer.issuer_id}: {name} (agency {issuer.agency_id}, {issuer.organisation.country.code})",
             f"  DID {issuer.did}"]
    for vm in issuer.verification_methods:
        retired = f", retired {vm.retired_at.ToDatetime(tzinfo=UTC).isoformat()}" if vm.HasField("retired_at") else ""
        lines.append(f"  key {vm.id}{retired}")
    for acc in issuer.accreditations:
        status = registry_pb2.AccreditationStatus.Name(acc.status).removeprefix("ACCREDITATION_STATUS_").lower()
        lines.append(f"  accreditation {acc.accreditation_id}: EQF up to {acc.max_eqf_level}, {status}, "
                     f"{acc.framework}, decision {acc.decision_reference}")
    return "\n".join(lines)


@agency_app.command("register")
def agency_register(agency_id: str = typer.Argument(..., help="the agency's id, e.g. ie-qqi"),
                    name: str = typer.Option(..., "--name", help="legal name (English)"),
                    country: str | None = typer.Option(None, "--country", help="ISO 3166-1 alpha-2, e.g. IE"),
                    homepage: str | None = typer.Option(None, "--homepage"),
                    identifier: list[str] = typer.Option([], "--identifier", help="SCHEME=VALUE (repeatable)"),
                    server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                    as_json: bool = JSON) -> None:
    """Register an agency (platform operator's certificate)."""
    response = _registry(server, tls_dir, cert_name, "RegisterAgency", registry_pb2.RegisterAgencyRequest(
        agency_id=agency_id, organisation=_organisation(name, country, homepage, identifier)))
    emit(to_dict(response.agency), as_json, f"registered agency {response.agency.agency_id}")


@agency_app.command("list")
def agency_list(server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                as_json: bool = JSON) -> None:
    """Every registered agency (platform operator's certificate; every page).

    \b
    Examples:
      mcred agency list --tls-dir pki/
      mcred agency list --tls-dir pki/ --json
    """
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> list[registry_pb2.Agency]:
        stub, agencies, token = registry_pb2_grpc.RegistryServiceStub(channel), [], ""
        while True:
            page = await stub.ListAgencies(registry_pb2.ListAgenciesRequest(page_token=token), timeout=30)
            agencies.extend(page.agencies)
            token = page.next_page_token
            if not token:
                return agencies

    agencies = run_call(server, tls, call)
    lines = [f"{a.agency_id}: {a.organisation.legal_name.values.get('en', '')}"
             + (f" ({a.organisation.country.code})" if a.organisation.country.code else "") for a in agencies]
    emit([to_dict(a) for a in agencies], as_json, "\n".join(lines) or "no agencies registered")


_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def _logo(path: Path) -> tuple[bytes, str]:
    """A logo file's bytes and media type (from its suffix; the registry checks the image itself)."""
    media_type = _LOGO_TYPES.get(path.suffix.lower())
    if media_type is None:
        fail(f"--logo: {path.name} is not a .png or .jpg file")
    try:
        with path.open("rb") as file:
            data = file.read(MAX_LOGO_BYTES + 1)
    except OSError as exc:
        fail(f"--logo: {exc}")
    if len(data) > MAX_LOGO_BYTES:
        fail(f"--logo: {path.name} is larger than {MAX_LOGO_BYTES} bytes (256 kB)")
    return data, media_type


@issuer_app.command("register")
def issuer_register(issuer_id: str = typer.Argument(..., help="the issuer's id, e.g. uni-a"),
                    name: str = typer.Option(..., "--name", help="legal name (English)"),
                    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2, e.g. IE"),
                    homepage: str | None = typer.Option(None, "--homepage"),
                    identifier: list[str] = typer.Option([], "--identifier", help="SCHEME=VALUE (repeatable)"),
                    pin_cert: list[Path] = typer.Option([], "--pin-cert", help="a client certificate (PEM) the "
                                                        "issuer will use; only pinned ones may issue (repeatable)"),
                    logo: Path | None = typer.Option(None, "--logo", help="the issuer's logo, a .png or .jpg "
                                                     "file (at most 256 kB, 1024 px a side)"),
                    server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                    as_json: bool = JSON) -> None:
    """Register an issuer under your agency; the registry gives it a did:web and its first signing key."""
    try:
        pins = [fingerprint(path.read_bytes()) for path in pin_cert]
    except (OSError, ValueError) as exc:
        fail(f"--pin-cert: {exc}")
    logo_data, logo_type = _logo(logo) if logo is not None else (b"", "")
    response = _registry(server, tls_dir, cert_name, "RegisterIssuer", registry_pb2.RegisterIssuerRequest(
        issuer_id=issuer_id, organisation=_organisation(name, country, homepage, identifier),
        client_certificate_sha256=pins, logo=logo_data, logo_media_type=logo_type))
    emit(to_dict(response.issuer), as_json, _issuer_text(response.issuer))


@issuer_app.command("show")
def issuer_show(issuer_id: str = typer.Argument(...), server: str = SERVER, tls_dir: Path = TLS_DIR,
                cert_name: str | None = CERT_NAME, as_json: bool = JSON) -> None:
    """One issuer: its DID, keys and accreditations."""
    response = _registry(server, tls_dir, cert_name, "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id=issuer_id))
    emit(to_dict(response.issuer), as_json, _issuer_text(response.issuer))


@issuer_app.command("list")
def issuer_list(server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                as_json: bool = JSON) -> None:
    """Your agency's issuers (every page)."""
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> list[registry_pb2.Issuer]:
        stub, issuers, token = registry_pb2_grpc.RegistryServiceStub(channel), [], ""
        while True:
            page = await stub.ListIssuers(registry_pb2.ListIssuersRequest(page_token=token), timeout=30)
            issuers.extend(page.issuers)
            token = page.next_page_token
            if not token:
                return issuers

    issuers = run_call(server, tls, call)
    emit([to_dict(i) for i in issuers], as_json,
         "\n".join(_issuer_text(i) for i in issuers) or "no issuers registered")


@issuer_app.command("rotate-key")
def issuer_rotate_key(issuer_id: str = typer.Argument(...),
                      retire_at: str | None = typer.Option(None, "--retire-at", help="when the current key stops "
                                                           "signing (ISO date-time; default now)"),
                      server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                      as_json: bool = JSON) -> None:
    """Give an issuer a new signing key and retire the current one (credentials signed before stay valid)."""
    request = registry_pb2.RotateIssuerKeyRequest(issuer_id=issuer_id)
    if retire_at:
        request.retire_at.CopyFrom(_timestamp(retire_at, "--retire-at"))
    response = _registry(server, tls_dir, cert_name, "RotateIssuerKey", request)
    emit(to_dict(response.issuer), as_json, _issuer_text(response.issuer))


@issuer_app.command("retire-key")
def issuer_retire_key(issuer_id: str = typer.Argument(...),
                      key: str = typer.Argument(..., help="the key to retire: its DID URL (did:web:...#key-1, as "
                                                          "`mcred issuer show` lists it) or just its fragment (key-1)"),
                      retire_at: str | None = typer.Option(None, "--retire-at", help="when it stops signing (ISO "
                                                           "date-time; default now)"),
                      server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                      as_json: bool = JSON) -> None:
    """Retire one signing key of an issuer without adding a new one (credentials signed before stay valid).

    \b
    Examples:
      mcred issuer retire-key uni-a key-1 --tls-dir ie-qqi/
      mcred issuer retire-key uni-a did:web:trust.example:issuers:uni-a#key-1 --retire-at 2026-12-31T00:00:00Z \\
          --tls-dir ie-qqi/ --json

    The issuer's last current key is never retired (FAILED_PRECONDITION): rotate it instead (rotate-key).
    """
    if "#" not in key:  # a bare fragment: the issuer's DID comes from the registry
        found = _registry(server, tls_dir, cert_name, "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id=issuer_id))
        key = f"{found.issuer.did}#{key}"
    request = registry_pb2.RetireIssuerKeyRequest(issuer_id=issuer_id, verification_method_id=key)
    if retire_at:
        request.retire_at.CopyFrom(_timestamp(retire_at, "--retire-at"))
    response = _registry(server, tls_dir, cert_name, "RetireIssuerKey", request)
    emit(to_dict(response.issuer), as_json, _issuer_text(response.issuer))


@accreditation_app.command("grant")
def accreditation_grant(issuer_id: str = typer.Argument(...),
                        max_eqf: int = typer.Option(..., "--max-eqf", min=1, max=8, help="highest EQF level"),
                        framework: str = typer.Option(..., "--framework", help="QA framework, e.g. ESG 2015"),
                        body: str = typer.Option(..., "--body", help="the accrediting body's legal name"),
                        decision: str = typer.Option(..., "--decision", help="the decision's reference"),
                        valid_from: str = typer.Option(..., "--valid-from", help="ISO date"),
                        valid_until: str | None = typer.Option(None, "--valid-until", help="ISO date"),
                        kind: str = typer.Option("institutional-qa", "--type",
                                                 help=f"one of {', '.join(_TYPES)}"),
                        accreditation_id: str | None = typer.Option(None, "--id", help="default: generated"),
                        server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                        as_json: bool = JSON) -> None:
    """Record an accreditation decision: the issuer may issue up to --max-eqf from --valid-from."""
    if kind not in _TYPES:
        fail(f"--type: {kind!r} is not one of {', '.join(_TYPES)}")
    acc = registry_pb2.Accreditation(
        accreditation_id=accreditation_id or "", type=_TYPES[kind], framework=framework,
        accrediting_body=elements_pb2.Organisation(legal_name=elements_pb2.LangString(values={"en": body})),
        max_eqf_level=max_eqf,  # type: ignore[arg-type]  # EQF levels are numbered 1-8 in the enum
        decision_reference=decision, valid_from=_timestamp(valid_from, "--valid-from"))
    if valid_until:
        acc.valid_until.CopyFrom(_timestamp(valid_until, "--valid-until"))
    response = _registry(server, tls_dir, cert_name, "AccreditIssuer",
                         registry_pb2.AccreditIssuerRequest(issuer_id=issuer_id, accreditation=acc))
    emit(to_dict(response.accreditation), as_json,
         f"accreditation {response.accreditation.accreditation_id} recorded for {issuer_id}")


def _change(issuer_id: str, accreditation_id: str, reason: str, withdraw: bool, server: str, tls_dir: Path,
            cert_name: str | None, as_json: bool) -> None:
    rpc, request_type = (("WithdrawAccreditation", registry_pb2.WithdrawAccreditationRequest) if withdraw
                         else ("SuspendAccreditation", registry_pb2.SuspendAccreditationRequest))
    response = _registry(server, tls_dir, cert_name, rpc, request_type(
        issuer_id=issuer_id, accreditation_id=accreditation_id, reason=reason))
    emit(to_dict(response.accreditation), as_json,
         f"accreditation {accreditation_id} of {issuer_id} {'withdrawn' if withdraw else 'suspended'}")


@accreditation_app.command("suspend")
def accreditation_suspend(issuer_id: str = typer.Argument(...), accreditation_id: str = typer.Argument(...),
                          reason: str = typer.Option(..., "--reason"), server: str = SERVER,
                          tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME, as_json: bool = JSON) -> None:
    """Suspend an accreditation: the issuer cannot issue under it until a new decision is recorded."""
    _change(issuer_id, accreditation_id, reason, False, server, tls_dir, cert_name, as_json)


@accreditation_app.command("withdraw")
def accreditation_withdraw(issuer_id: str = typer.Argument(...), accreditation_id: str = typer.Argument(...),
                           reason: str = typer.Option(..., "--reason"), server: str = SERVER,
                           tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME, as_json: bool = JSON) -> None:
    """Withdraw an accreditation for good."""
    _change(issuer_id, accreditation_id, reason, True, server, tls_dir, cert_name, as_json)


@accreditation_app.command("list")
def accreditation_list(issuer_id: str = typer.Argument(...), server: str = SERVER, tls_dir: Path = TLS_DIR,
                       cert_name: str | None = CERT_NAME, as_json: bool = JSON) -> None:
    """An issuer's accreditations, with their status."""
    response = _registry(server, tls_dir, cert_name, "GetIssuer", registry_pb2.GetIssuerRequest(issuer_id=issuer_id))
    issuer = response.issuer
    emit([to_dict(a) for a in issuer.accreditations], as_json,
         "\n".join(_issuer_text(issuer).splitlines()[2 + len(issuer.verification_methods):]) or "no accreditations")


def credential_get(credential_id: str = typer.Argument(..., help="the credential id (urn:uuid:...)"),
                   server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
                   as_json: bool = JSON) -> None:
    """One of your issued credentials: the signed credential JSON (and, with --json, its EU elements)."""
    tls = connect(tls_dir, cert_name)

    async def call(channel: grpc.aio.Channel) -> issuer_pb2.GetCredentialResponse:
        return await issuer_pb2_grpc.IssuerServiceStub(channel).GetCredential(  # type: ignore[no-any-return]
            issuer_pb2.GetCredentialRequest(credential_id=credential_id), timeout=30)

    response = run_call(server, tls, call)
    emit(to_dict(response), as_json, response.credential.credential_json)
