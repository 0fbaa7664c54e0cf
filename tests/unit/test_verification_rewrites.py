"""Property: no JSON-LD rewrite of a credential or presentation that must not verify makes it verify.

A Data Integrity proof signs the RDF dataset, and many JSON texts share one dataset. Each base document below
is signed and has exactly one thing wrong with it (revoked, suspended, expired, not yet valid, signed by a key
that is not the issuer's, signed for the wrong purpose; presentations with a revoked credential or signed for
the wrong purpose). Hypothesis applies one to three meaning-preserving (or nearly so) rewrites: keys as full
IRIs, values as expanded value objects, ``@type`` for ``type`` and IRIs as types, inline-context aliases,
``@graph`` wrapping, one value vs an array, ``@id`` for ``id``, ``@set`` / ``@list``, duplicated status entries
and a node split in two objects that share an id. The verdict must never be ``valid``.

The two rewrites of issue 14 are checked explicitly too, including that the rewritten document has the same
canonical N-Quads (so its signature still verifies: only the reading can save the verdict).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.jsonld.loader import canonize
from microcred.verification import CheckId, CheckStatus, Verdict, verify
from microcred.verification.checks import Reason
from tests.harness.factories import ISSUED_AT
from tests.unit.test_verification_presentation import HOLDER_KEY, LEARNER_DID, presentation
from tests.verifier_support import NOW, World

CRED = "https://www.w3.org/2018/credentials#"
SEC = "https://w3id.org/security#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
# Full IRIs of the terms the rewrites touch (VC 2.0, Data Integrity, Bitstring Status List).
IRIS = {"credentialStatus": CRED + "credentialStatus", "validFrom": CRED + "validFrom",
        "validUntil": CRED + "validUntil", "issuer": CRED + "issuer", "credentialSubject": CRED + "credentialSubject",
        "holder": CRED + "holder", "verifiableCredential": CRED + "verifiableCredential",
        "statusPurpose": "https://www.w3.org/ns/credentials/status#statusPurpose",
        "statusListIndex": "https://www.w3.org/ns/credentials/status#statusListIndex",
        "statusListCredential": "https://www.w3.org/ns/credentials/status#statusListCredential",
        "proofPurpose": SEC + "proofPurpose", "name": "https://schema.org/name"}
TYPE_IRIS = {"VerifiableCredential": CRED + "VerifiableCredential",
             "VerifiablePresentation": CRED + "VerifiablePresentation",
             "BitstringStatusListEntry": "https://www.w3.org/ns/credentials/status#BitstringStatusListEntry"}

WORLD = World()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(b"\x09" * 32)
OTHER_DID = did_key_from_public_key(OTHER_KEY.public_key())
WORLD.revocation.set(11)
WORLD.suspension.set(12)
WORLD.publish()


def resigned(change: Callable[[dict[str, Any]], None], index: int = 4242, *, purpose: str = "assertionMethod",
             key: Ed25519PrivateKey | None = None, vm: str | None = None) -> dict[str, Any]:
    """A platform credential, changed by ``change`` before it is signed."""
    doc = WORLD.credential(index)
    doc.pop("proof")
    change(doc)
    return sign_eddsa_rdfc_2022(doc, key or WORLD.issuer_key, vm or WORLD.vm, proof_purpose=purpose,
                                created=ISSUED_AT)


def _nothing(doc: dict[str, Any]) -> None:
    return None


BASES: dict[str, dict[str, Any]] = {
    "revoked": WORLD.credential(11),
    "suspended": WORLD.credential(12),
    "expired": resigned(lambda d: d.update(validUntil=(NOW - timedelta(days=1)).isoformat().replace("+00:00", "Z"))),
    "not-yet-valid": resigned(lambda d: d.update(validFrom=(NOW + timedelta(days=1)).isoformat().replace("+00:00",
                                                                                                           "Z"))),
    "wrong-issuer": resigned(_nothing, key=OTHER_KEY, vm=verification_method_id(OTHER_DID)),
    "wrong-purpose": resigned(_nothing, purpose="authentication"),
    "presentation-revoked": presentation([WORLD.credential(11)]),
    "presentation-wrong-purpose": sign_eddsa_rdfc_2022(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
         "holder": LEARNER_DID, "verifiableCredential": [WORLD.credential(4242)]},
        HOLDER_KEY, verification_method_id(LEARNER_DID), proof_purpose="assertionMethod", challenge="c-123",
        domain="employer.example"),
}


async def _verdict(doc: Any) -> Any:
    return await verify(doc, WORLD.ports(cache=None), NOW, challenge="c-123", domain="employer.example")


@pytest.mark.parametrize("name", sorted(BASES))
async def test_every_base_document_is_signed_and_not_valid(name: str) -> None:
    report = await _verdict(BASES[name])
    signature = report.check(CheckId.SIGNATURE)
    assert report.verdict is not Verdict.VALID
    if name != "wrong-purpose" and name != "presentation-wrong-purpose":
        assert signature is not None and signature.status is CheckStatus.VALID, report.to_dict()


# ------------------------------------------------------------------------------------------------ rewrites

Doc = dict[str, Any]


def _objects(node: Any) -> list[Doc]:
    """Every JSON object in ``node`` outside ``@context`` (the node itself included)."""
    found: list[Doc] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(v for k, v in item.items() if k != "@context")
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _target(draw: st.DrawFn, doc: Doc, wanted: Callable[[Doc], list[str]]) -> tuple[Doc, str] | None:
    """A random (object, key) pair among the objects of ``doc`` where ``wanted`` lists candidate keys."""
    choices = [(obj, key) for obj in _objects(doc) for key in wanted(obj)]
    return draw(st.sampled_from(choices)) if choices else None


def iri_key(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: [k for k in o if k in IRIS])
    if hit:
        obj, key = hit
        obj[IRIS[key]] = obj.pop(key)


def expanded_value(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: [k for k in o if k in ("validFrom", "validUntil", "created")])
    if hit:
        obj, key = hit
        value = {"@value": obj.pop(key), "@type": XSD_DATETIME}
        obj[draw(st.sampled_from([key, IRIS.get(key, key)]))] = value


def type_coercion(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: ["type"] if "type" in o else [])
    if hit:
        obj, _ = hit
        types = obj.pop("type")
        if draw(st.booleans()):
            obj["@type"] = types
        else:
            listed = types if isinstance(types, list) else [types]
            obj["type"] = [TYPE_IRIS.get(t, t) if isinstance(t, str) else t for t in listed]  # already rewritten: kept


def inline_alias(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: [k for k in o if k in IRIS])
    if hit:
        obj, key = hit
        alias = "x" + key
        context = doc["@context"] if isinstance(doc["@context"], list) else [doc["@context"]]
        doc["@context"] = [*context, {alias: {"@id": IRIS[key]}}]
        obj[alias] = obj.pop(key)


def graph_wrap(draw: st.DrawFn, doc: Doc) -> None:
    body = {k: doc.pop(k) for k in list(doc) if k not in ("@context", "proof")}
    doc["@graph"] = [body] if draw(st.booleans()) else body


def array_toggle(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: [k for k in o if k not in ("@context",)])
    if hit:
        obj, key = hit
        value = obj[key]
        obj[key] = value[0] if isinstance(value, list) and len(value) == 1 else [value]


def at_id(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: ["id"] if "id" in o else [])
    if hit:
        obj, _ = hit
        obj["@id"] = obj.pop("id")


def set_or_list(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: [k for k in o if k not in ("@context", "id", "type")])
    if hit:
        obj, key = hit
        value = obj[key]
        obj[key] = {draw(st.sampled_from(["@set", "@list"])): value if isinstance(value, list) else [value]}


def duplicate_status(draw: st.DrawFn, doc: Doc) -> None:
    hit = _target(draw, doc, lambda o: ["credentialStatus"] if "credentialStatus" in o else [])
    if hit:
        obj, _ = hit
        entries = obj["credentialStatus"] if isinstance(obj["credentialStatus"], list) else [obj["credentialStatus"]]
        first = copy.deepcopy(entries[0])
        if draw(st.booleans()):
            first = {**first, "id": first.get("id", "https://status.example/x#1")}
        obj["credentialStatus"] = [*entries, first]


def split_node(draw: st.DrawFn, doc: Doc) -> None:
    """Move a top-level property into a nested object that carries the document's id (same RDF node)."""
    movable = [k for k in doc if k in ("credentialStatus", "validUntil", "validFrom", "issuer")]
    own = doc.get("id")
    subject = doc.get("credentialSubject")
    if not movable or not isinstance(own, str) or not isinstance(subject, dict):
        return
    key = draw(st.sampled_from(movable))
    subject["isPartOf" if draw(st.booleans()) else "related"] = {"id": own, key: doc.pop(key)}


REWRITES = [iri_key, expanded_value, type_coercion, inline_alias, graph_wrap, array_toggle, at_id, set_or_list,
            duplicate_status, split_node]


@st.composite
def rewritten(draw: st.DrawFn) -> tuple[str, Doc, list[str]]:
    name = draw(st.sampled_from(sorted(BASES)))
    doc = copy.deepcopy(BASES[name])
    applied = []
    for rewrite in draw(st.lists(st.sampled_from(REWRITES), min_size=1, max_size=3)):
        # Presentations: rewrite the presentation or the credential inside it.
        target = doc
        if "verifiableCredential" in doc and isinstance(doc["verifiableCredential"], list) and draw(st.booleans()):
            target = doc["verifiableCredential"][0]
        if isinstance(target, dict) and "@context" in target:
            rewrite(draw, target)
            applied.append(rewrite.__name__)
    return name, doc, applied


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=rewritten())
async def test_no_rewrite_makes_a_bad_document_valid(case: tuple[str, Doc, list[str]]) -> None:
    name, doc, applied = case
    report = await _verdict(doc)
    assert report.verdict is not Verdict.VALID, (name, applied, report.to_dict())


# ------------------------------------------------------------------------------------- the two from issue 14


def credential_status_as_iri(doc: Doc) -> Doc:
    """Issue 14: ``credentialStatus`` renamed to its full IRI."""
    out = copy.deepcopy(doc)
    out[IRIS["credentialStatus"]] = out.pop("credentialStatus")
    return out


def valid_until_as_value_object(doc: Doc) -> Doc:
    """Issue 14: ``validUntil`` under its IRI as an expanded value object."""
    out = copy.deepcopy(doc)
    out[IRIS["validUntil"]] = {"@value": out.pop("validUntil"), "@type": XSD_DATETIME}
    return out


def _unsecured(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k != "proof"}


@pytest.mark.parametrize(("base", "rewrite", "reason"), [
    ("revoked", credential_status_as_iri, Reason.REVOKED),
    ("expired", valid_until_as_value_object, Reason.EXPIRED),
])
async def test_the_issue_rewrites_keep_the_signed_data_and_are_refused(base: str, rewrite: Any,
                                                                      reason: Reason) -> None:
    original = BASES[base]
    changed = rewrite(original)
    assert canonize(_unsecured(changed)) == canonize(_unsecured(original))  # same signed data
    before = await _verdict(original)
    assert before.verdict is Verdict.INVALID and reason in {c.reason_code for c in before.checks}
    after = await _verdict(changed)
    fmt = after.check(CheckId.FORMAT)
    assert after.verdict is not Verdict.VALID
    assert fmt is not None and (fmt.status, fmt.reason_code) == (CheckStatus.INVALID, Reason.NOT_COMPACTED)


async def test_a_replayed_expired_status_list_with_its_expiry_rewritten_is_not_read() -> None:
    """A status list is signed data too: an old (expired) list replayed with ``validUntil`` under its IRI
    keeps its signature; read as JSON it would look current, so a since-revoked credential would pass."""
    world = World()
    world.publish(NOW - timedelta(hours=2))  # the lists expired an hour ago
    for url, signed in list(world.status.lists.items()):
        world.status.lists[url] = valid_until_as_value_object(signed)
    report = await verify(world.credential(7), world.ports(), NOW)
    for check in (CheckId.REVOCATION, CheckId.SUSPENSION):
        result = report.check(check)
        assert result is not None and result.status is CheckStatus.UNKNOWN, result
        assert "NOT_COMPACTED" in str(result.details.get("problem")), result
    assert report.verdict is not Verdict.VALID
