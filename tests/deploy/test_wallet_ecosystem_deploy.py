"""The deployment files wire the wallet ecosystem (issues 19-21): OpenID4VCI over HTTPS on the issuer, the
document-signing CA that certifies SD-JWT VC keys, the Token Status List signer, the OpenID4VP request signer,
the wallet's trusted issuers and the trust anchors, in docker-compose.yml and in the Helm chart.

Each service's environment, as compose gives it and as the chart renders it, is loaded into that service's own
``Settings`` with the files the deployment mounts put where it mounts them (a development PKI from
``mcred dev pki`` stands in for the Secrets), so a setting the service does not know, a value it refuses or a
path that no mount provides fails here rather than at a container's start. Signing keys must be mounted only into
the service that signs with them.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from microcred.infra.platform import ensure_dev_pki

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
CHART = ROOT / "deploy" / "k8s" / "microcred"
SERVICES = ("issuer", "revocation", "wallet", "verifier")
HELM_VERSION = "v3.22.0"  # as scripts/validate-deploy.sh builds it
SIGNING_KEYS = {"document-signing-ca": "issuer", "token-status": "revocation", "oid4vp": "verifier"}
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _settings(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's Settings read from exactly ``env`` (nothing else of this process's MICROCRED_ environment)."""
    for name in list(os.environ):
        if name.startswith("MICROCRED_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return importlib.import_module(f"services.{service}.config").Settings()


def _image_env() -> dict[str, str]:
    """The MICROCRED_ settings the image itself sets (the Dockerfile's ENV), under what compose and the chart give."""
    return dict(re.findall(r"^\s+(MICROCRED_\w+)=(\S+?)\s*\\?$", (ROOT / "Dockerfile").read_text(), re.M))


def _locate(service: str, name: str, value: str, mounts: dict[str, Path]) -> str:
    """A path under /etc/microcred/ (a mounted directory, or a file in one) where this test put its content."""
    if value in mounts:
        return str(mounts[value])
    directory = str(Path(value).parent)
    assert directory in mounts, f"{service}: {name}={value} but nothing is mounted at {directory}"
    return str(mounts[directory] / Path(value).name)


def _same_key(cert_file: Path, key_file: Path) -> bool:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(cert.public_key().public_bytes(*raw) == key.public_key().public_bytes(*raw))


def _check_wallet_ecosystem(settings: dict[str, Any], ca_pem: bytes) -> None:
    """What each service must have for issuing and verifying SD-JWT VCs over OpenID4VCI / OpenID4VP."""
    issuer, revocation, wallet, verifier = (settings[s] for s in SERVICES)
    assert issuer.rest_port == 8443 and issuer.rest_host == "0.0.0.0"
    assert issuer.oid4vci_issuer_url and issuer.oid4vci_issuer_url.startswith("https://")
    assert _same_key(issuer.document_signing_ca_cert_file, issuer.document_signing_ca_key_file)
    ca = x509.load_pem_x509_certificate(issuer.document_signing_ca_cert_file.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert _same_key(revocation.token_status_cert_file, revocation.token_status_key_file)
    assert _same_key(verifier.oid4vp_signing_cert_file, verifier.oid4vp_signing_key_file)
    assert verifier.oid4vp_client_host and verifier.oid4vp_client_id_prefix == "x509_hash"
    assert verifier.token_status_url_prefixes and verifier.token_status_url_prefixes[0].endswith("/token-status/")
    # the Token Status List signer and the issuers' SD-JWT VC keys chain to what the verifier and the wallet trust
    for anchors in (verifier.x509_trust_anchors_file, wallet.x509_trust_anchors_file):
        assert anchors.read_bytes().strip() == ca_pem.strip()
    assert wallet.wallet_trusted_issuers == [issuer.oid4vci_issuer_url]


# ---------------------------------------------------------------------------------------------- compose


def _interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` (the default) and ``${VAR:?message}`` (a stand-in secret)."""
    def one(match: re.Match[str]) -> str:
        return base64.b64encode(b"k" * 32).decode() if match.group(2) == "?" else match.group(3) or ""
    return _INTERPOLATION.sub(one, value)


def _compose_files(pki: Path, root: Path) -> dict[str, Path]:
    """What pki-init copies, by volume: the mount points' contents under ``root``."""
    copies = {"tls": {n: n for n in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")},
              "document-signing-ca": {"tls.crt": "ca.crt", "tls.key": "ca.key"},
              "token-status": {"tls.crt": "token-status.crt", "tls.key": "token-status.key"},
              "oid4vp": {"tls.crt": "oid4vp.crt", "tls.key": "oid4vp.key"}}
    out = {}
    for directory, files in copies.items():
        (root / directory).mkdir(parents=True)
        for name, source in files.items():
            shutil.copy(pki / source, root / directory / name)
        out[f"/etc/microcred/{directory}"] = root / directory
    return out


def test_pki_init_copies_what_dev_pki_makes(tmp_path: Path) -> None:
    ensure_dev_pki(tmp_path)
    script = yaml.safe_load(COMPOSE.read_text())["services"]["pki-init"]["command"][0]
    named = set(re.findall(r"(?<![\w*.-])([\w-]+\.(?:crt|key))\b", script)) - {"tls.crt", "tls.key"}
    assert {"ca.crt", "ca.key", "token-status.crt", "token-status.key", "oid4vp.crt", "oid4vp.key"} <= named
    assert sorted(n for n in named if not (tmp_path / n).is_file()) == []


def test_compose_wires_the_wallet_ecosystem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pki = ensure_dev_pki(tmp_path / "pki")
    mounts = _compose_files(pki, tmp_path / "mounted")
    compose = yaml.safe_load(COMPOSE.read_text())
    settings = {}
    for service in SERVICES:
        spec = compose["services"][service]
        mounted = {path: mounts[path] for path in (v.split(":")[1] for v in spec.get("volumes", []))
                   if path in mounts}
        env = _image_env()
        for name, raw in spec["environment"].items():
            value = _interpolate(str(raw))
            env[name] = _locate(service, name, value, mounted) if value.startswith("/etc/microcred/") else value
        env["MICROCRED_DATA_DIR"] = str(tmp_path / service)
        env["MICROCRED_KEYSTORE_DIR"] = str(tmp_path / service / "keys")
        settings[service] = _settings(service, env, monkeypatch)
        # a signing key's volume is mounted into the service that signs with it, and nowhere else
        for volume, owner in SIGNING_KEYS.items():
            named = {v.split(":")[0] for v in spec.get("volumes", [])}
            assert (f"{volume}-signer" in named or volume in named) == (service == owner), (service, volume)
    _check_wallet_ecosystem(settings, (pki / "ca.crt").read_bytes())
    assert settings["verifier"].status_url_prefixes == ["http://revocation:8082/status/"]
    assert "127.0.0.1:8443:8443" in compose["services"]["issuer"]["ports"]


# ---------------------------------------------------------------------------------------------- the chart


def _helm() -> str:
    """helm as scripts/validate-deploy.sh finds it, building it through the script when it is missing."""
    cached = Path(os.environ.get("MICROCRED_CACHE", Path.home() / ".cache" / "microcred")) / "tools" \
        / f"helm-{HELM_VERSION}" / "helm"
    for candidate in (os.environ.get("MICROCRED_HELM"), shutil.which("helm"), str(cached)):
        if candidate and Path(candidate).is_file():
            return candidate
    subprocess.run(["bash", str(ROOT / "scripts" / "validate-deploy.sh"), str(CHART)], cwd=ROOT, check=True,
                   capture_output=True, timeout=1200)
    return str(cached)


def _render(*values: str) -> list[dict[str, Any]]:
    args = [a for v in values for a in ("-f", str(CHART / "ci" / v))]
    command = [_helm(), "template", "microcred", str(CHART), "--namespace", "microcred", "--kube-version", "1.37.0"]
    out = subprocess.run([*command, *args], capture_output=True, text=True, check=True, timeout=120).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _workload(docs: list[dict[str, Any]], service: str) -> tuple[dict[str, Any], dict[str, Any]]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith(service)]
    pod = deployment["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def _chart_files(pki: Path, root: Path, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Path]:
    """The mounted Secrets and ConfigMaps, their keys filled from the development PKI (KEKs: random)."""
    secrets = {"microcred-document-signing-ca": {"tls.crt": "ca.crt", "tls.key": "ca.key"},
               "microcred-token-status-signer": {"tls.crt": "token-status.crt", "tls.key": "token-status.key"},
               "microcred-oid4vp-signer": {"tls.crt": "oid4vp.crt", "tls.key": "oid4vp.key"}}
    volumes = {v["name"]: v for v in pod["volumes"]}
    out = {}
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        directory = root / mount["name"]
        directory.mkdir(parents=True, exist_ok=True)
        source = volume.get("secret", {}).get("secretName") or volume.get("configMap", {}).get("name")
        for item in (volume.get("secret") or volume.get("configMap") or {}).get("items", []):
            target = directory / item["path"]
            if item["key"] == "ca.pem":  # the trust anchors and the issuers' TLS CA: the development CA
                shutil.copy(pki / "ca.crt", target)
            elif source in secrets:
                shutil.copy(pki / secrets[source][item["key"]], target)
            else:
                target.write_text(base64.b64encode(os.urandom(32)).decode())
        out[mount["mountPath"]] = directory
    return out


def _chart_settings(docs: list[dict[str, Any]], pki: Path, root: Path, monkeypatch: pytest.MonkeyPatch,
                    signers: bool = True) -> dict[str, Any]:
    (configmap,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-env")]
    settings = {}
    for service in SERVICES:
        pod, container = _workload(docs, service)
        mounts = _chart_files(pki, root / service, pod, container)
        env = {**_image_env(), **configmap["data"]}
        for item in container["env"]:
            value = item.get("value")
            if value is None:  # from a Secret (the wallet's e-mail index key)
                value = base64.b64encode(os.urandom(32)).decode()
            elif value.startswith("/etc/microcred/"):
                value = _locate(service, item["name"], value, mounts)
            env[item["name"]] = value
        env["MICROCRED_DATA_DIR"] = str(root / service / "data")
        env.pop("MICROCRED_KAFKA_SSL_CAFILE", None)  # Strimzi's Secrets: not what this test is about
        env.pop("MICROCRED_KAFKA_SSL_CERTFILE", None)
        env.pop("MICROCRED_KAFKA_SSL_KEYFILE", None)
        env["MICROCRED_KAFKA_SECURITY_PROTOCOL"] = "PLAINTEXT"
        env["MICROCRED_REDIS_URL"] = "redis://redis:6379/0"
        settings[service] = _settings(service, env, monkeypatch)
        signing = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v} & {
            "microcred-document-signing-ca", "microcred-token-status-signer", "microcred-oid4vp-signer"}
        owner = {"issuer": {"microcred-document-signing-ca"}, "revocation": {"microcred-token-status-signer"},
                 "verifier": {"microcred-oid4vp-signer"}}.get(service, set()) if signers else set()
        assert signing == owner, f"{service} mounts signing keys {sorted(signing)}"
    return settings


@pytest.mark.timeout(1200)
def test_chart_wires_the_wallet_ecosystem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pki = ensure_dev_pki(tmp_path / "pki")
    docs = _render("test-values.yaml", "wallet-ecosystem-values.yaml")
    settings = _chart_settings(docs, pki, tmp_path / "mounted", monkeypatch)
    _check_wallet_ecosystem(settings, (pki / "ca.crt").read_bytes())
    assert settings["verifier"].oid4vp_public_url == "https://verify.example.eu"
    (service,) = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "issuer"]
    assert {"name": "https", "port": 8443, "targetPort": "https", "protocol": "TCP", "appProtocol": "https"} \
        in service["spec"]["ports"]
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    issuer_ports = [p["port"] for rule in policies["microcred-issuer-ingress"]["ingress"] for p in rule["ports"]]
    assert issuer_ports == [50051, 8443]
    egress = policies["microcred-wallet-internet-egress"]["egress"]
    assert [p["port"] for rule in egress for p in rule["ports"]] == [443, 8443]


@pytest.mark.timeout(1200)
def test_chart_without_the_optional_signers_renders_without_them(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pki = ensure_dev_pki(tmp_path / "pki")
    docs = _render("test-values.yaml")
    settings = _chart_settings(docs, pki, tmp_path / "mounted", monkeypatch, signers=False)
    assert settings["issuer"].rest_port == 8443 and settings["issuer"].document_signing_ca_cert_file is None
    assert settings["revocation"].token_status_cert_file is None
    assert settings["verifier"].oid4vp_signing_cert_file is None and settings["wallet"].wallet_trusted_issuers == []


def test_chart_refuses_a_rest_port_without_the_issuer_url(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(json.dumps({"services": {"issuer": {"oid4vciIssuerUrl": ""}}}))
    result = subprocess.run([_helm(), "template", "microcred", str(CHART), "--kube-version", "1.37.0",
                             "-f", str(CHART / "ci" / "test-values.yaml"),
                             "-f", str(values)], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode != 0 and "oid4vciIssuerUrl is required" in result.stderr
