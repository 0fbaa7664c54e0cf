"""Pinned offline JSON-LD loader and RDFC-1.0 canonicalisation."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pyld.jsonld import JsonLdProcessor

from microcred.jsonld import loader
from microcred.jsonld.loader import (
    CanonicalizationError,
    ContextIntegrityError,
    RemoteContextRefused,
    UnsafeJsonLdError,
    canonize,
    document_loader,
    get_context,
)

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def _json(rel: str) -> Any:
    return json.loads((VECTORS / rel).read_text(encoding="utf-8"))


def _text(rel: str) -> str:
    return (VECTORS / rel).read_text(encoding="utf-8")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail loudly if anything tries to open a socket."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


# ------------------------------------------------------------------------------------------- manifest

REQUIRED_URLS = [
    V2,
    V1,
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://www.w3.org/ns/credentials/status/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    OB303,
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]


def test_manifest_covers_required_contexts() -> None:
    assert set(REQUIRED_URLS) <= loader.allowed_context_urls()


def test_every_manifest_file_matches_its_pinned_hash() -> None:
    package = resources.files("microcred.jsonld.contexts")
    for url, entry in loader.manifest().items():
        data = package.joinpath(entry.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256, url
        assert entry.source and entry.license
    loader.verify_all_contexts()


def test_pinned_hashes_of_key_contexts() -> None:
    # STANDARDS.md: the v2 hash is the one in the REC; OB 3.0.3 must be the published (unpatched) copy.
    m = loader.manifest()
    assert m[V2].sha256 == "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    assert m[OB303].sha256.startswith("ef2fa9c7846d")
    assert m["https://www.w3.org/ns/credentials/status/v1"].sha256.startswith("fda5add35323")


def test_tampered_context_file_is_detected() -> None:
    entry = loader.manifest()[V2]
    with pytest.raises(ContextIntegrityError, match="sha256"):
        loader._load_verified.__wrapped__(entry.file, "0" * 64)


def test_get_context_returns_private_copies() -> None:
    first = get_context(V2)
    first["@context"]["id"] = "tampered"
    assert get_context(V2)["@context"]["id"] == "@id"


# ------------------------------------------------------------------------------------------- refusal


@pytest.mark.parametrize(
    "url",
    [
        "https://w3id.org/citizenship/v4rc1",
        "http://www.w3.org/ns/credentials/v2",  # same path over http is a different URL
        "https://www.w3.org/ns/credentials/v2/",
        "https://evil.example/context.json",
        "file:///etc/passwd",
    ],
)
def test_loader_refuses_unknown_urls(url: str, no_network: None) -> None:
    with pytest.raises(RemoteContextRefused) as info:
        document_loader(url, {})
    assert info.value.url == url


def test_canonize_refuses_remote_context_without_network(no_network: None) -> None:
    doc = _json("vc-di-eddsa/eddsa-rdfc-2022/employ/signedDataInt.json")
    doc.pop("proof")
    with pytest.raises(RemoteContextRefused) as info:
        canonize(doc)
    assert info.value.url == "https://w3id.org/citizenship/v4rc1"


def test_canonize_refuses_nested_remote_context(no_network: None) -> None:
    doc = _json("ob3/linked-data-proof-ob-signed.json")
    doc.pop("proof")
    doc["credentialSubject"]["@context"] = "https://evil.example/ctx.jsonld"
    with pytest.raises(RemoteContextRefused):
        canonize(doc)


def test_document_loader_marks_documents_static() -> None:
    remote = document_loader(V2, {})
    assert remote["tag"] == "static"  # required for pyld to share resolved contexts across calls
    assert remote["documentUrl"] == V2


def test_contexts_are_loaded_once_then_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _json("ob3/linked-data-proof-ob-signed.json")
    doc.pop("proof")
    canonize(doc)
    calls: list[str] = []
    real = loader.document_loader

    def counting(url: str, options: Any = None) -> dict[str, Any]:
        calls.append(url)
        return real(url, options)

    monkeypatch.setattr(loader, "document_loader", counting)
    for _ in range(5):
        canonize(doc)
    assert calls == []


# --------------------------------------------------------------------------------------- canonical forms


def test_w3c_vector_document_and_proof_config() -> None:
    doc = _json("vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json")
    doc.pop("proof")
    assert canonize(doc) == _text("vc-di-eddsa/eddsa-rdfc-2022/canonDocDataInt.txt")
    config = _json("vc-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json")
    assert canonize(config) == _text("vc-di-eddsa/eddsa-rdfc-2022/proofCanonDataInt.txt")


def test_ob3_vector_document_and_proof_config() -> None:
    doc = _json("ob3/linked-data-proof-ob-signed.json")
    proof = doc.pop("proof")
    assert canonize(doc) == _text("ob3/test-vectors/obv3p0/document-canon.txt")
    config = {k: v for k, v in proof.items() if k != "proofValue"} | {"@context": doc["@context"]}
    assert canonize(config) == _text("ob3/test-vectors/obv3p0/proof-canon.txt")


@pytest.mark.parametrize(
    "rel",
    [
        "ob3/test-vectors/obv3p0/document-canon.txt",
        "ob3/test-vectors/clrv2p0/document-canon.txt",
        "vc-di-eddsa/eddsa-rdfc-2022/employ/canonDocDataInt.txt",
    ],
)
def test_canonical_nquads_are_a_fixed_point(rel: str) -> None:
    # Canonicalising already-canonical N-Quads (pyld's parser, our guarded URDNA2015) changes nothing.
    nquads = _text(rel)
    dataset = JsonLdProcessor.parse_nquads(nquads)
    assert loader._GuardedURDNA2015().main(dataset, {"format": "application/n-quads"}) == nquads


def test_expand_uses_pinned_contexts() -> None:
    doc = _json("ob3/linked-data-proof-ob-signed.json")
    expanded = loader.expand(doc)
    assert expanded[0]["@type"] == [
        "https://www.w3.org/2018/credentials#VerifiableCredential",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
    ]


# ------------------------------------------------------------------------------------------- safe mode


def _vc11(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [V1],
        "id": "urn:uuid:0d5b1a4c-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example",
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject"},
        **extra,
    }


def test_safe_mode_rejects_undefined_term() -> None:
    # VC 1.1 has no @vocab: an undefined term would be silently dropped from the signed data.
    with pytest.raises(UnsafeJsonLdError, match="not defined by any context"):
        canonize(_vc11(favouriteColour="blue"))


def test_safe_mode_rejects_relative_type_and_id() -> None:
    with pytest.raises(UnsafeJsonLdError, match="relative @type"):
        canonize(_vc11(type=["VerifiableCredential", "MicroCredential"]))
    with pytest.raises(UnsafeJsonLdError, match="relative @id"):
        canonize(_vc11(id="credential-1"))


def test_v2_undefined_term_is_rejected_too() -> None:
    # The final VC 2.0 context has no @vocab, so an undefined term would be dropped: safe mode refuses.
    doc = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example",
        "credentialSubject": {"favouriteColour": "blue"},
    }
    with pytest.raises(UnsafeJsonLdError, match="favouriteColour"):
        canonize(doc)


def test_relative_iri_is_not_resolved_against_a_default_base() -> None:
    # pyld resolves relative IRIs against http://example.org/base/ when the base is "". Other
    # processors do not, so such a document would canonicalise differently elsewhere: refuse it.
    doc = _json("ob3/linked-data-proof-ob-signed.json")
    doc.pop("proof")
    doc["issuer"]["id"] = "issuers/565049"
    with pytest.raises(UnsafeJsonLdError, match="relative @id"):
        canonize(doc)


def test_invalid_jsonld_is_a_canonicalization_error() -> None:
    with pytest.raises(CanonicalizationError):
        canonize({"@context": [V2, {"@version": 9.9}], "type": "VerifiableCredential"})


def test_dataset_poisoning_is_aborted_quickly() -> None:
    # A clique of blank nodes makes URDNA2015 explore every permutation; the guard stops it early.
    n = 10
    nodes = [
        {"@id": f"_:b{i}", "http://example.org/p": [{"@id": f"_:b{j}"} for j in range(n) if j != i]}
        for i in range(n)
    ]
    start = time.perf_counter()
    with pytest.raises(CanonicalizationError, match="poisoning"):
        canonize({"@graph": nodes})
    assert time.perf_counter() - start < 5


def test_identical_anonymous_objects_still_canonicalise() -> None:
    # Two indistinguishable blank nodes need Hash N-Degree Quads but are far below the guard.
    doc = {
        "@context": [V2, OB303],
        "type": ["Achievement"],
        "id": "https://example.org/a",
        "name": "x",
        "alignment": [
            {"type": ["Alignment"], "targetName": "EQF 6", "targetUrl": "http://data.europa.eu/snb/eqf/6"},
            {"type": ["Alignment"], "targetName": "EQF 6", "targetUrl": "http://data.europa.eu/snb/eqf/6"},
        ],
    }
    assert "_:c14n0" in canonize(doc)
