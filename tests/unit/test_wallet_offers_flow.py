"""The wallet's OpenID4VCI use case (:class:`services.wallet.application.offers.CredentialOffers`) over in-memory
twins of its ports: an issuer that answers as the specification says (and records what it was sent), the
learner's holder keys, a verifier, the account's imports. The running services are in
tests/integration/test_wallet_oid4vci_offers.py; these check the rules the flow must keep on its own."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred import pki
from microcred.crypto.did_key import verification_method_id
from microcred.oid4vci.signed_metadata import sign_issuer_metadata, wants_signed
from microcred.sdjwt.issue import IssuerKey
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.view import compact_of, sd_jwt_id
from microcred.sdjwt.x5c import load_certificates, x5c_header
from services.wallet.application.offers import CredentialOffers
from services.wallet.application.ports import ImportVerdict
from services.wallet.domain import credential_offer as co
from services.wallet.domain import issuer_metadata as im
from services.wallet.domain import offers as o
from services.wallet.domain.accounts import Account, CredentialKey, HolderKey
from services.wallet.domain.credentials import EuElements, HeldCredential, Identity, Source
from services.wallet.domain.offer_authorization import PendingAuthorization
from tests.harness.sd_jwt import make_world

ISSUER = "https://issuer.example"
AS = "https://login.issuer.example/realms/learners"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
OFFER_URI = f"{ISSUER}/offers/1"
LINK = "openid-credential-offer://?credential_offer_uri=" + quote(OFFER_URI, safe="")
JWT_ES256: dict[str, Any] = {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}


class FakeIssuer:
    """A Credential Issuer answering from the specification's shapes; ``bind`` picks the key it binds to."""

    def __init__(self, *, tx_code: str | None = None, deferred: bool = False, bind_to_proof: bool = True,
                 dpop: bool = False, dpop_nonces: bool = False, separate_as: bool = False,
                 proof_types: dict[str, Any] | None = JWT_ES256, details: list[Any] | None = None,
                 identifier: str = ISSUER, binding: list[str] | None = ("jwk",)) -> None:  # type: ignore[assignment]
        self.tx_code, self.deferred, self.bind_to_proof, self.dpop = tx_code, deferred, bind_to_proof, dpop
        # the token response's authorization_details (§6.2; None: not sent): then the credential request must
        # name the first credential_identifier given for "mc" (§8.2)
        self.details = details
        self.requested: list[dict[str, Any]] = []  # what each credential request named, without its proofs
        self.identifier = identifier  # the Credential Issuer Identifier as offer and metadata spell it
        self.nonce_answer = o.IssuerReply(200, {"c_nonce": "n-1"})  # the nonce endpoint's
        self.notification_status = 204
        # the configuration's proof_types_supported and cryptographic_binding_methods_supported (None: not listed,
        # both None: no key binding, §12.2.4)
        self.proof_types, self.binding = proof_types, binding
        # RFC 9449 §8, §9: proofs must carry the server's nonce (the token endpoint's and the others' apart)
        self.dpop_nonces = dpop_nonces
        # §12.2.4: the issuer relies on an authorization server of its own origin (as EUDI issuers do)
        self.server = AS if separate_as else ISSUER
        self.server_metadata: dict[str, Any] = {}  # more of the authorization server's metadata (RFC 8414)
        self.offer_changes: dict[str, Any] = {}  # over the offer's members (None: left out)
        self.scope: str | None = None  # the configuration's scope (§5.1.2)
        self.pushed: list[dict[str, str]] = []  # the pushed authorization requests (RFC 9126)
        self.trusted: list[str] = []  # the servers the wallet was told to trust too
        self.nonce_refusals: list[str] = []
        self.dpop_jwks: list[dict[str, Any]] = []  # the key of each DPoP proof received, in order
        self.calls: list[tuple[str, str, Any]] = []
        self.world = make_world()
        self.notified: list[Mapping[str, Any]] = []
        self.compact = ""
        self.proof_jwk: dict[str, Any] = {}  # the holder key the credential request proved
        # the deferred credential endpoint's answers, in order (None: the credential, bound to proof_jwk)
        self.deferred_answers: list[o.IssuerReply | None] = []
        self.credential_refusal: o.IssuerReply | None = None  # the credential endpoint's answer instead
        # signs its metadata with this key for a wallet whose Accept names application/jwt (None: JSON only)
        self.metadata_key: IssuerKey | None = None
        self.accepts: list[tuple[str, str]] = []  # (URL, Accept header) of each GET

    def trust(self, authorization_server: str) -> None:
        self.trusted.append(authorization_server)

    async def get(self, url: str, accept: str = "application/json") -> o.IssuerReply:
        self.calls.append(("GET", url, None))
        self.accepts.append((url, accept))
        grant: dict[str, Any] = {"pre-authorized_code": "code-1"}
        if self.tx_code:
            grant["tx_code"] = {"length": len(self.tx_code), "input_mode": "numeric"}
        documents: dict[str, Any] = {
            OFFER_URI: {k: v for k, v in {"credential_issuer": self.identifier, "credential_configuration_ids": ["mc"],
                                           "grants": {o.PRE_AUTHORIZED_GRANT: grant}, **self.offer_changes}.items()
                        if v is not None},
            f"{ISSUER}/.well-known/openid-credential-issuer": {
                "credential_issuer": self.identifier, "credential_endpoint": f"{ISSUER}/credential",
                "nonce_endpoint": f"{ISSUER}/nonce", "notification_endpoint": f"{ISSUER}/notification",
                **({"deferred_credential_endpoint": f"{ISSUER}/deferred"} if self.deferred else {}),
                **({"authorization_servers": [AS]} if self.server == AS else {}),
                "display": [{"name": "Issuer", "locale": "en"}],
                "credential_configurations_supported": {"mc": {
                    "format": "dc+sd-jwt", **({"scope": self.scope} if self.scope else {}),
                    **({"cryptographic_binding_methods_supported": list(self.binding)}
                       if self.binding is not None else {}),
                    **({"proof_types_supported": self.proof_types} if self.proof_types is not None else {})}}},
            # an issuer of its own serves RFC 8414's address; the separate server only OpenID Connect's
            (f"{AS}/.well-known/openid-configuration" if self.server == AS
             else o.well_known(ISSUER, "oauth-authorization-server")): {
                "issuer": self.server, "token_endpoint": f"{self.server}/token",
                "authorization_endpoint": f"{self.server}/authorize",
                "pushed_authorization_request_endpoint": f"{self.server}/par",
                **({"dpop_signing_alg_values_supported": ["ES256"]} if self.dpop else {}), **self.server_metadata},
        }
        if url not in documents:
            return o.IssuerReply(404, None)
        if url.endswith("/openid-credential-issuer") and self.metadata_key and wants_signed(accept):
            token = sign_issuer_metadata(documents[url], self.metadata_key, NOW)
            return o.IssuerReply(200, token, media_type="application/jwt")
        return o.IssuerReply(200, documents[url])

    def _dpop(self, proof: str | None, url: str, token: str | None) -> o.IssuerReply | None:
        """Check the proof; an answer asking for the server's nonce when nonces are required and it lacks it."""
        assert proof is not None, url
        header = jwt.get_unverified_header(proof)
        assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
        claims = jwt.decode(proof, jwt.PyJWK(header["jwk"]).key, algorithms=["ES256"])
        assert claims["htm"] == "POST" and claims["htu"] == url and claims["jti"]
        assert ("ath" in claims) is (token is not None)
        self.dpop_jwks.append(header["jwk"])
        wanted = "as-nonce" if url.endswith("/token") else "rs-nonce"
        if not self.dpop_nonces or claims.get("nonce") == wanted:
            return None
        self.nonce_refusals.append(url)
        if url.endswith("/token"):
            return o.IssuerReply(400, {"error": "use_dpop_nonce"}, dpop_nonce=wanted)
        return o.IssuerReply(401, None, dpop_nonce=wanted, www_authenticate=(
            'DPoP algs="ES256", error="use_dpop_nonce", error_description="Resource server requires nonce, '
            'in DPoP proof"'))

    async def post_form(self, url: str, form: Mapping[str, str], dpop: str | None = None) -> o.IssuerReply:
        self.calls.append(("POST", url, dict(form)))
        if url.endswith("/par"):
            self.pushed.append(dict(form))
            return o.IssuerReply(201, {"request_uri": "urn:ietf:params:oauth:request_uri:1", "expires_in": 60})
        if form.get("pre-authorized_code") != "code-1" or form.get("tx_code") != self.tx_code:
            return o.IssuerReply(400, {"error": "invalid_grant", "error_description": "no"})
        if self.dpop and (asked := self._dpop(dpop, url, None)) is not None:
            return asked
        return o.IssuerReply(200, {"access_token": "at", "token_type": "DPoP" if dpop else "Bearer",
                                   "expires_in": 300,
                                   **({"authorization_details": self.details} if self.details is not None else {})})

    async def post_json(self, url: str, body: Mapping[str, Any] | None, access_token: str | None = None,
                        dpop: str | None = None) -> o.IssuerReply:
        self.calls.append(("POST", url, body))
        if url.endswith("/nonce"):
            return self.nonce_answer
        assert access_token == "at"
        if self.dpop:
            if (asked := self._dpop(dpop, url, access_token)) is not None:
                return asked
        else:
            assert dpop is None
        if url.endswith("/notification"):
            assert body is not None
            self.notified.append(body)
            return o.IssuerReply(self.notification_status, None)
        assert body is not None
        if url.endswith("/deferred"):
            assert body == {"transaction_id": "t-1"}
            answer = self.deferred_answers.pop(0)
            if answer is not None:
                return answer
            self.compact = self.world.issue(holder_jwk=self.proof_jwk or None).compact
            return o.IssuerReply(200, {"credentials": [{"credential": self.compact}], "notification_id": "note-2"})
        self.requested.append({k: v for k, v in body.items() if k != "proofs"})
        if self.binding is None:  # §8.2: no proofs asked, none sent; the credential bound to no key
            assert "proofs" not in body
            if self.deferred:
                return o.IssuerReply(202, {"transaction_id": "t-1", "interval": 5})
            self.compact = self.world.issue().compact
            return o.IssuerReply(200, {"credentials": [{"credential": self.compact}], "notification_id": "note-1"})
        [proof] = body["proofs"]["jwt"]
        if self.credential_refusal is not None:
            return self.credential_refusal
        if self.deferred:
            self.proof_jwk = jwt.get_unverified_header(proof)["jwk"]
            return o.IssuerReply(202, {"transaction_id": "t-1", "interval": 5})
        jwk = jwt.get_unverified_header(proof)["jwk"]
        claims = jwt.decode(proof, jwt.PyJWK(jwk).key, algorithms=["ES256"], options={
            "verify_iat": False, "verify_aud": False})
        assert claims["aud"] == self.identifier  # exactly, no normalisation (§12.2.4, Appendix F.1)
        assert claims["nonce"] == "n-1" and "iss" not in claims
        if not self.bind_to_proof:
            jwk = public_jwk(ec.generate_private_key(ec.SECP256R1()))
        self.compact = self.world.issue(holder_jwk=jwk).compact
        return o.IssuerReply(200, {"credentials": [{"credential": self.compact}], "notification_id": "note-1"})


class Keys:
    """The learner's holder keys (one Ed25519 key to start with: not usable for SD-JWT VC proofs); ``made``: the
    DIDs of the keys made for one credential and published (and not forgotten), in order; ``discarded``: those
    deleted unpublished."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PrivateKey | ec.EllipticCurvePrivateKey] = {
            "did:key:ed": Ed25519PrivateKey.generate()}
        self.made: list[str] = []
        self.unpublished: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.discarded: list[str] = []
        self.forgotten: list[str] = []  # published, then deleted: what was bound to them was not kept
        self.forget_fails = False  # as when Kafka is down

    async def for_account(self, aid: str, *, credential_keys: bool = False) -> list[HolderKey]:
        return [HolderKey(did, verification_method_id(did), did in self.made) for did in sorted(self.keys)
                if credential_keys or did not in self.made]

    async def jose_key(self, aid: str, did: str) -> Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
        return self.keys[did]

    async def make_for_credential(self, aid: str) -> CredentialKey:
        did = f"did:key:zp256-{len(self.made) + len(self.discarded)}"
        self.unpublished[did] = ec.generate_private_key(ec.SECP256R1())
        return CredentialKey(HolderKey(did, verification_method_id(did), True), self.unpublished[did], did)

    async def publish_for_credential(self, aid: str, key: CredentialKey) -> None:
        self.keys[key.holder.did] = self.unpublished.pop(key.holder.did)
        self.made.append(key.holder.did)

    async def discard(self, key: CredentialKey) -> None:
        del self.unpublished[key.key_id]
        self.discarded.append(key.key_id)

    async def forget_for_credential(self, aid: str, did: str) -> bool:
        if self.forget_fails:
            raise ConnectionError("the wallet topic is unavailable")
        if did not in self.made:
            return False
        self.made.remove(did)
        del self.keys[did]
        self.forgotten.append(did)
        return True


class Verifier:
    def __init__(self, accepted: bool = True) -> None:
        self.accepted, self.seen = accepted, 0

    async def verify(self, document: Mapping[str, Any], now: datetime) -> ImportVerdict:
        self.seen += 1
        assert compact_of(document) is not None  # the SD-JWT VC as a VC 2.0 envelope, as imports are
        code = "VALID" if self.accepted else "SIGNATURE_INVALID"
        return ImportVerdict(self.accepted, code, "checked", ("revocation",))


class Held:
    """The account's imports, and the credentials issued to it over Kafka (``issued``)."""

    def __init__(self) -> None:
        self.imported: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
        self.issued: list[HeldCredential] = []

    async def add_imported(self, aid: str, document: Mapping[str, object], check: Mapping[str, object]) -> None:
        self.imported.append((document, check))

    async def of(self, account: Account) -> list[HeldCredential]:
        imported = [HeldCredential(str(sd_jwt_id(d)), ISSUER, None, EuElements("t"), Identity(),
                                   source=Source.IMPORTED, document=d, import_check=c) for d, c in self.imported]
        return [*self.issued, *imported]


class Attempts:
    """The pending authorization store's twin: each attempt taken once."""

    def __init__(self) -> None:
        self.kept: dict[str, PendingAuthorization] = {}

    async def put(self, pending: PendingAuthorization) -> None:
        self.kept[pending.state] = pending

    async def take(self, state: str) -> PendingAuthorization | None:
        return self.kept.pop(state, None)


def flow(issuer: FakeIssuer, keys: Keys | None = None, verifier: Verifier | None = None,
         held: Held | None = None, trusted: tuple[str, ...] = (ISSUER,),
         metadata_trust: o.MetadataTrust | None = None) -> tuple[CredentialOffers, Keys, Held]:
    keys, held = keys or Keys(), held or Held()
    offers = CredentialOffers(trusted, issuer, keys, verifier or Verifier(), held, held,  # type: ignore[arg-type]
                              lambda: NOW, Attempts(), metadata_trust=metadata_trust)
    return offers, keys, held


ACCOUNT = Account("acc-1", "ola@example.org", {})


async def test_an_offer_is_redeemed_with_a_new_p256_key_verified_kept_and_notified() -> None:
    issuer = FakeIssuer(tx_code="123456")
    offers, keys, held = flow(issuer)
    seen = await offers.inspect(LINK)
    assert seen.offer.tx_code == co.TxCode(6) and seen.configuration.configuration_id == "mc"
    received = await offers.accept(ACCOUNT, LINK, "123456")
    assert received.notified and received.pending == 0
    [credential] = received.credentials
    assert credential.credential_id == sd_jwt_id(issuer.compact)
    [(document, check)] = held.imported
    assert compact_of(document) == issuer.compact
    assert check["received_by"] == "openid4vci" and check["received_from"] == ISSUER
    assert check["unknown_checks"] == ["revocation"]  # said, never hidden
    [made] = keys.made  # a P-256 key made for this credential (the Ed25519 key cannot sign an ES256 proof)
    assert isinstance(keys.keys[made], ec.EllipticCurvePrivateKey)
    assert issuer.notified == [{"notification_id": "note-1", "event": "credential_accepted"}]
    token_calls = [c for c in issuer.calls if c[1].endswith("/token")]
    assert token_calls == [("POST", f"{ISSUER}/token", {"grant_type": o.PRE_AUTHORIZED_GRANT,
                                                        "pre-authorized_code": "code-1", "tx_code": "123456"})]


async def test_every_credential_received_is_bound_to_a_key_of_its_own() -> None:
    """No two of a learner's credentials carry the same ``cnf``: a verifier shown both cannot link them by it."""
    keys = Keys()
    bound = []
    for _ in range(3):
        issuer = FakeIssuer()
        offers, _, _ = flow(issuer, keys=keys)
        await offers.accept(ACCOUNT, LINK, None)
        bound.append(jwt.decode(issuer.compact.split("~")[0], options={"verify_signature": False})["cnf"]["jwk"])
    assert len(keys.made) == 3 and len({jwk["x"] for jwk in bound}) == 3
    assert [jwk["x"] for jwk in bound] == [public_jwk(keys.keys[did])["x"] for did in keys.made]
    assert [k.did for k in await keys.for_account(ACCOUNT.account_id)] == ["did:key:ed"]  # none listed as made


async def test_a_refused_credential_request_leaves_no_key() -> None:
    """The key proved for a credential is published only once the issuer answered with something bound to it."""
    for refusal in (o.IssuerReply(400, {"error": "invalid_proof"}), o.IssuerReply(503, {"error": "server_error"})):
        issuer, keys = FakeIssuer(), Keys()
        issuer.credential_refusal = refusal
        offers, _, held = flow(issuer, keys=keys)
        with pytest.raises(o.OfferError):
            await offers.accept(ACCOUNT, LINK, None)
        assert keys.made == [] and keys.unpublished == {} and len(keys.discarded) == 1
        assert await keys.for_account(ACCOUNT.account_id, credential_keys=True) == \
            await keys.for_account(ACCOUNT.account_id)
        assert held.imported == []
    keys = Keys()  # a deferred answer this wallet cannot keep (no store): nothing will be bound to the key
    offers, _, _ = flow(FakeIssuer(deferred=True), keys=keys)
    with pytest.raises(o.OfferError):
        await offers.accept(ACCOUNT, LINK, None)
    assert keys.made == [] and len(keys.discarded) == 1


async def test_a_credential_bound_to_another_key_or_failing_verification_is_not_kept_and_the_issuer_is_told() -> None:
    for issuer, verifier in ((FakeIssuer(bind_to_proof=False), Verifier()), (FakeIssuer(), Verifier(False))):
        offers, keys, held = flow(issuer, verifier=verifier)
        with pytest.raises(o.OfferError) as caught:
            await offers.accept(ACCOUNT, LINK, None)
        assert caught.value.code == o.CREDENTIAL_REJECTED
        assert held.imported == []
        assert issuer.notified == [{"notification_id": "note-1", "event": "credential_failure"}]
        # the key made for it is gone again: nothing the wallet keeps is bound to it
        assert keys.made == [] and len(keys.forgotten) == 1 and keys.forgotten[0] not in keys.keys


async def test_a_key_that_cannot_be_deleted_leaves_the_rejection_as_the_answer(
        caplog: pytest.LogCaptureFixture) -> None:
    keys = Keys()
    keys.forget_fails = True
    offers, keys, held = flow(FakeIssuer(bind_to_proof=False), keys=keys)
    with pytest.raises(o.OfferError) as caught:
        await offers.accept(ACCOUNT, LINK, None)
    assert caught.value.code == o.CREDENTIAL_REJECTED  # not the key store's failure
    assert held.imported == [] and keys.forgotten == [] and len(keys.made) == 1  # the key stays, unused
    assert [r.__dict__.get("error") for r in caplog.records if "could not be deleted" in r.getMessage()] == [
        "ConnectionError"]
    assert not [r for r in caplog.records if keys.made[0] in r.getMessage() or r.exc_info]


async def test_a_credential_already_issued_over_kafka_is_not_kept_twice() -> None:
    issuer = FakeIssuer()

    class Arrived(Held):
        async def of(self, account: Account) -> list[HeldCredential]:
            # the issuer's CredentialIssued (same Issuer-signed JWT) is filed before the wallet looks
            return [HeldCredential("urn:uuid:issued-1", "uni", None, EuElements("t"), Identity(),
                                   sd_jwt_vc=issuer.compact)]

    arrived = Arrived()
    offers, _, _ = flow(issuer, held=arrived)
    received = await offers.accept(ACCOUNT, LINK, None)
    assert [c.credential_id for c in received.credentials] == ["urn:uuid:issued-1"]
    assert arrived.imported == []
    assert issuer.notified[-1]["event"] == "credential_accepted"


async def test_wrong_missing_and_malformed_codes_and_deferred_answers() -> None:
    offers, _, held = flow(FakeIssuer(tx_code="123456"))
    for code, expected in ((None, o.TX_CODE_REQUIRED), ("12345", o.TX_CODE_FORMAT), ("654321", o.TX_CODE_WRONG)):
        with pytest.raises(o.OfferError) as caught:
            await offers.accept(ACCOUNT, LINK, code)
        assert caught.value.code == expected
    offers, _, held = flow(FakeIssuer(deferred=True))
    with pytest.raises(o.OfferError) as caught:
        await offers.accept(ACCOUNT, LINK, None)
    assert caught.value.code == o.UNSUPPORTED and "deferred" in caught.value.detail
    assert held.imported == []


async def test_untrusted_offers_are_refused_without_calling_anyone() -> None:
    issuer = FakeIssuer()
    offers, _, _ = flow(issuer)
    by_value = {"credential_issuer": "https://other.example", "credential_configuration_ids": ["mc"],
                "grants": {o.PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c"}}}
    for link in ("openid-credential-offer://?credential_offer_uri=" + quote("https://other.example/o/1", safe=""),
                 "openid-credential-offer://?credential_offer=" + quote(json.dumps(by_value))):
        with pytest.raises(o.OfferError) as caught:
            await offers.inspect(link)
        assert caught.value.code == o.ISSUER_NOT_TRUSTED
    assert issuer.calls == []
    nobody, _, _ = flow(issuer, trusted=())
    with pytest.raises(o.OfferError) as caught:
        await nobody.inspect(LINK)
    assert caught.value.code == o.ISSUER_NOT_TRUSTED and issuer.calls == []


async def test_an_issuer_requiring_key_attestations_is_told_apart_before_the_code_is_spent() -> None:
    """This wallet's keys are not attested by a wallet provider (OpenID4VCI Appendix D): an issuer that requires
    key attestations is refused before the token request, so the offer stays open for a wallet that can."""
    for proof_types in ({"jwt": {"proof_signing_alg_values_supported": ["ES256"], "key_attestations_required": {}}},
                        {"attestation": {"proof_signing_alg_values_supported": ["ES256"],
                                         "key_attestations_required": {"key_storage": ["iso_18045_high"]}}}):
        issuer = FakeIssuer(proof_types=proof_types)
        offers, keys, held = flow(issuer)
        with pytest.raises(o.OfferError) as caught:
            await offers.accept(ACCOUNT, LINK, None)
        assert caught.value.code == o.KEY_ATTESTATION_REQUIRED and "key attestations" in caught.value.detail
        assert not [c for c in issuer.calls if c[0] == "POST"] and keys.made == [] and held.imported == []
    # a jwt proof type that only allows key attestations (not requiring them) is taken as before
    issuer = FakeIssuer(proof_types={"jwt": {"proof_signing_alg_values_supported": ["ES256"]},
                                     "attestation": {"proof_signing_alg_values_supported": ["ES256"],
                                                     "key_attestations_required": {}}})
    offers, _, held = flow(issuer)
    assert (await offers.accept(ACCOUNT, LINK, None)).credentials and len(held.imported) == 1


async def test_dpop_is_used_when_the_server_offers_it_with_one_fresh_key_per_redemption() -> None:
    issuer = FakeIssuer(dpop=True)
    offers, keys, held = flow(issuer)
    assert (await offers.inspect(LINK)).dpop
    received = await offers.accept(ACCOUNT, LINK, None)
    assert received.notified and len(held.imported) == 1
    # token, credential, notification: each with a proof by the same key, which is not the holder key
    assert len(issuer.dpop_jwks) == 3 and all(j == issuer.dpop_jwks[0] for j in issuer.dpop_jwks)
    holder = public_jwk(keys.keys[keys.made[0]])
    assert issuer.dpop_jwks[0]["x"] != holder["x"]
    second = FakeIssuer(dpop=True)
    again, _, _ = flow(second, keys=keys)
    await again.accept(ACCOUNT, LINK, None)
    assert second.dpop_jwks[0]["x"] != issuer.dpop_jwks[0]["x"]  # another redemption, another key


async def test_a_server_that_wants_dpop_nonces_gets_them_once_asked_and_each_server_its_own() -> None:
    """RFC 9449 §8 (token endpoint: 400 use_dpop_nonce) and §9 (resource server: 401 with a DPoP challenge): the
    request is sent once more with the nonce the answer carried; a nonce once learnt is used from then on."""
    issuer = FakeIssuer(dpop=True, dpop_nonces=True)
    offers, _, held = flow(issuer)
    received = await offers.accept(ACCOUNT, LINK, None)
    assert received.notified and len(held.imported) == 1
    # asked once by the authorization server and once by the resource server; the notification used the nonce
    assert issuer.nonce_refusals == [f"{ISSUER}/token", f"{ISSUER}/credential"]
    assert issuer.notified == [{"notification_id": "note-1", "event": "credential_accepted"}]


async def test_a_server_asking_for_a_nonce_without_giving_one_or_again_is_not_asked_forever() -> None:
    class Stubborn(FakeIssuer):
        async def post_form(self, url: str, form: Mapping[str, str], dpop: str | None = None) -> o.IssuerReply:
            self.calls.append(("POST", url, dict(form)))
            return o.IssuerReply(400, {"error": "use_dpop_nonce"}, dpop_nonce=self.given)

    for given in ("", "same-nonce", "bad nonce with spaces"):
        issuer = Stubborn(dpop=True)
        issuer.given = given  # type: ignore[attr-defined]
        offers, _, held = flow(issuer)
        with pytest.raises(o.OfferError) as caught:
            await offers.accept(ACCOUNT, LINK, None)
        assert caught.value.code == o.ISSUER_REFUSED and "use_dpop_nonce" in caught.value.detail
        token_calls = [c for c in issuer.calls if c[1].endswith("/token")]
        assert len(token_calls) == (2 if given == "same-nonce" else 1) and held.imported == []


async def test_an_issuer_relying_on_its_own_authorization_server_is_redeemed_there() -> None:
    """§12.2.4 ``authorization_servers`` (RFC 8414 metadata at the server's own well-known address, path
    inserted): the token is asked there, with DPoP and its nonces as anywhere; the credential at the issuer."""
    issuer = FakeIssuer(separate_as=True, dpop=True, dpop_nonces=True)
    offers, _, held = flow(issuer)
    seen = await offers.inspect(LINK)
    assert seen.server_id == AS and seen.token_endpoint == f"{AS}/token" and issuer.trusted == [AS]
    received = await offers.accept(ACCOUNT, LINK, None)
    assert received.notified and len(held.imported) == 1
    assert [c[1] for c in issuer.calls if c[0] == "POST"][:2] == [f"{AS}/token"] * 2  # once more with the nonce
    asked = [c[1] for c in issuer.calls if c[0] == "GET" and "login." in c[1]]
    assert asked[:3] == ["https://login.issuer.example/.well-known/oauth-authorization-server/realms/learners",
                         f"{AS}/.well-known/oauth-authorization-server", f"{AS}/.well-known/openid-configuration"]
    assert issuer.nonce_refusals == [f"{AS}/token", f"{ISSUER}/credential"]  # each server its own nonce


METADATA_CA = pki.create_ca("Agency document-signing CA", agency="agency-ie", not_before=NOW - timedelta(days=1))


def metadata_key(identifier: str = ISSUER, ca: pki.CertifiedKey = METADATA_CA) -> IssuerKey:
    private = ec.generate_private_key(ec.SECP256R1())
    cert = pki.create_signing_cert(ca, issuer_uri=identifier, common_name="metadata", key=private,
                                   not_before=NOW - timedelta(minutes=5))
    return IssuerKey(identifier, private, tuple(x5c_header([cert.cert_pem])))


async def test_signed_metadata_is_asked_for_checked_and_used_when_the_wallet_has_anchors() -> None:
    issuer = FakeIssuer()
    issuer.metadata_key = metadata_key()
    trust = o.MetadataTrust(tuple(load_certificates(METADATA_CA.cert_pem)), required=True)
    offers, _, held = flow(issuer, metadata_trust=trust)
    received = await offers.accept(ACCOUNT, LINK, None)
    assert received.credentials and held.imported
    metadata_gets = [a for u, a in issuer.accepts if u.endswith("/openid-credential-issuer")]
    assert metadata_gets and all(a.startswith("application/jwt") for a in metadata_gets)
    # without anchors the wallet asks for JSON only, and takes it
    plain = FakeIssuer()
    plain.metadata_key = metadata_key()
    offers, _, _ = flow(plain)
    assert (await offers.inspect(LINK)).configuration.configuration_id == "mc"
    assert {a for _, a in plain.accepts} == {"application/json"}


@pytest.mark.parametrize(("signer", "required", "problem"), [
    (lambda: metadata_key(ca=pki.create_ca("Someone else", agency="agency-xx", not_before=NOW - timedelta(days=1))),
     False, "CHAIN_UNTRUSTED"),
    (lambda: metadata_key("https://other.example"), False, "does not name"),
    (lambda: None, True, "does not sign its metadata"),
])
async def test_signed_metadata_that_fails_or_is_missing_when_required_stops_before_any_code_is_spent(
        signer: Any, required: bool, problem: str) -> None:
    issuer = FakeIssuer()
    key = signer()
    if key is not None and key.iss != ISSUER:  # a certificate for another identifier, used anyway
        key = IssuerKey(ISSUER, key.key, key.x5c)
    issuer.metadata_key = key
    offers, keys, held = flow(issuer, metadata_trust=o.MetadataTrust(
        tuple(load_certificates(METADATA_CA.cert_pem)), required=required))
    with pytest.raises(o.OfferError, match=problem) as caught:
        await offers.accept(ACCOUNT, LINK, None)
    assert caught.value.code == o.ISSUER_ANSWER_INVALID
    assert not [c for c in issuer.calls if c[0] == "POST"] and not keys.made and not held.imported


async def test_signed_metadata_the_wallet_did_not_ask_for_is_refused() -> None:
    issuer = FakeIssuer()
    issuer.metadata_key = metadata_key()
    offers, _, _ = flow(issuer)

    async def always_signed(url: str, accept: str = "application/json") -> o.IssuerReply:
        return await FakeIssuer.get(issuer, url, "application/jwt")

    issuer.get = always_signed  # type: ignore[method-assign]
    with pytest.raises(o.OfferError, match="no trust anchors"):
        await offers.inspect(LINK)


async def test_the_credential_is_asked_for_by_the_identifier_the_token_response_gave() -> None:
    """§8.2: ``credential_identifier`` (the first of ``credential_identifiers`` for the configuration) when the
    token response returned ``authorization_details`` of type openid_credential, and then no
    ``credential_configuration_id``; else the configuration id."""
    plain = FakeIssuer(details=[{"type": "other", "credential_identifiers": ["x"]}])  # another type: ignored
    offers, _, _ = flow(plain)
    await offers.accept(ACCOUNT, LINK, None)
    assert plain.requested == [{"credential_configuration_id": "mc"}]
    issuer = FakeIssuer(details=[
        {"type": "openid_credential", "credential_configuration_id": "other", "credential_identifiers": ["o-1"]},
        {"type": "openid_credential", "credential_configuration_id": "mc", "unknown": 1,
         "credential_identifiers": ["CivilEngineeringDegree-2023", "ElectricalEngineeringDegree-2023"]}])
    offers, _, held = flow(issuer)
    assert (await offers.accept(ACCOUNT, LINK, None)).credentials and len(held.imported) == 1
    assert issuer.requested == [{"credential_identifier": "CivilEngineeringDegree-2023"}]


@pytest.mark.parametrize("details", [
    "not a list", [7], [{"type": "openid_credential", "credential_configuration_id": "mc"}],
    [{"type": "openid_credential", "credential_configuration_id": "mc", "credential_identifiers": []}],
    [{"type": "openid_credential", "credential_configuration_id": "mc", "credential_identifiers": [3]}],
    [{"type": "openid_credential", "credential_configuration_id": "other", "credential_identifiers": ["o"]}],
    [{"type": "openid_credential", "credential_configuration_id": "mc", "credential_identifiers": ["x" * 1025]}],
])
async def test_token_response_authorization_details_the_wallet_cannot_use_make_no_request_and_no_key(
        details: Any) -> None:
    issuer = FakeIssuer(details=details)
    offers, keys, held = flow(issuer)
    with pytest.raises(o.OfferError) as caught:
        await offers.accept(ACCOUNT, LINK, None)
    assert caught.value.code == o.ISSUER_ANSWER_INVALID and "authorization_details" in caught.value.detail
    assert issuer.requested == [] and keys.made == [] and not keys.discarded and held.imported == []


async def test_the_proof_audience_is_the_issuer_identifier_exactly_as_the_issuer_writes_it() -> None:
    """§12.2.4 compares identifiers 'with no normalization': an issuer whose identifier ends in '/' checks the
    proof's ``aud`` against that, while the wallet's list may spell it without."""
    issuer = FakeIssuer(identifier=ISSUER + "/")
    offers, _, held = flow(issuer)
    assert (await offers.accept(ACCOUNT, LINK, None)).credentials and len(held.imported) == 1


async def test_any_2xx_from_the_nonce_and_notification_endpoints_is_success() -> None:
    """§7.2 (nonce: 'a 2xx status code') and §11.2 (notification: 'in the 2xx range', 204 recommended)."""
    for nonce_status, notification_status in ((201, 200), (200, 202)):
        issuer = FakeIssuer()
        issuer.nonce_answer = o.IssuerReply(nonce_status, {"c_nonce": "n-1"})
        issuer.notification_status = notification_status
        offers, _, held = flow(issuer)
        received = await offers.accept(ACCOUNT, LINK, None)
        assert received.notified and len(held.imported) == 1
    issuer = FakeIssuer()
    issuer.nonce_answer = o.IssuerReply(302, None)
    offers, keys, _ = flow(issuer)
    with pytest.raises(o.OfferError) as caught:
        await offers.accept(ACCOUNT, LINK, None)
    assert caught.value.code == o.ISSUER_REFUSED and keys.made == []


async def test_a_dpop_nonce_the_nonce_endpoint_gives_is_used_at_the_credential_endpoint() -> None:
    """§7.2: the nonce response may carry a ``DPoP-Nonce`` for the credential endpoint; a proof with it is not
    refused there (only the token endpoint, whose nonce the wallet could not know, asks)."""
    issuer = FakeIssuer(dpop=True, dpop_nonces=True)
    issuer.nonce_answer = o.IssuerReply(200, {"c_nonce": "n-1"}, dpop_nonce="rs-nonce")
    offers, _, held = flow(issuer)
    assert (await offers.accept(ACCOUNT, LINK, None)).notified and len(held.imported) == 1
    assert issuer.nonce_refusals == [f"{ISSUER}/token"]


@pytest.mark.parametrize(("binding", "proof_types"), [
    (["jwk"], {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES384"]}}),  # Appendix F.1: alg MUST match
    (["jwk"], {"jwt": {"proof_signing_alg_values_supported": "ES256"}}),  # not a list: nothing the wallet can meet
    (["cose_key", "did:web"], {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}),  # no jwk to bind to
    (["jwk"], {"di_vp": {"proof_signing_alg_values_supported": ["ecdsa-rdfc-2019"]}}),  # no jwt proof type
])
async def test_a_configuration_whose_keys_or_proofs_the_wallet_cannot_meet_is_refused_before_the_code_is_spent(
        binding: list[str], proof_types: dict[str, Any]) -> None:
    await refused_before_the_code_is_spent(FakeIssuer(binding=binding, proof_types=proof_types), o.KEY_UNSUPPORTED)


async def refused_before_the_code_is_spent(issuer: FakeIssuer, code: str) -> None:
    """``code`` from inspect (saying the offer is still open) and from accept, with nothing posted to the issuer,
    no key made and nothing kept."""
    offers, keys, held = flow(issuer)
    with pytest.raises(o.OfferError) as caught:
        await offers.inspect(LINK)
    assert caught.value.code == code and "still open" in caught.value.detail
    with pytest.raises(o.OfferError) as caught:
        await offers.accept(ACCOUNT, LINK, None)
    assert caught.value.code == code
    assert not [c for c in issuer.calls if c[0] == "POST"] and keys.made == [] and held.imported == []


async def test_a_configuration_the_wallet_can_meet_is_taken_and_one_it_cannot_is_passed_over() -> None:
    issuer = FakeIssuer(binding=["jwk", "cose_key"], proof_types={"jwt": {
        "proof_signing_alg_values_supported": ["EdDSA", "ES256"]}})
    offers, _, held = flow(issuer)
    assert (await offers.accept(ACCOUNT, LINK, None)).credentials and len(held.imported) == 1
    document = im.parse_issuer_metadata({
        "credential_issuer": ISSUER, "credential_endpoint": f"{ISSUER}/credential",
        "credential_configurations_supported": {
            "es384": {"format": "dc+sd-jwt", "cryptographic_binding_methods_supported": ["jwk"],
                      "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES384"]}}},
            "mdl": {"format": "mso_mdoc"},
            "es256": {"format": "dc+sd-jwt", "cryptographic_binding_methods_supported": ["jwk"],
                      "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}}}}, ISSUER)
    offer = co.parse_offer({"credential_issuer": ISSUER, "credential_configuration_ids": ["mdl", "es384", "es256"],
                            "grants": {o.PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c"}}})
    assert im.chosen_configuration(offer, document).configuration_id == "es256"
    # none can be held: the reason about keys is said rather than 'unsupported'
    with pytest.raises(o.OfferError) as caught:
        im.chosen_configuration(replace(offer, configuration_ids=("mdl", "es384")), document)
    assert caught.value.code == o.KEY_UNSUPPORTED and "ES256" in caught.value.detail


async def test_a_configuration_that_binds_no_key_is_asked_for_without_a_proof_and_kept() -> None:
    """§12.2.4: without cryptographic_binding_methods_supported (and so without proof_types_supported) no key
    binding is required; §8.2 and Implementation Considerations: then no ``proofs`` are sent. No key is made, no
    nonce asked; the unbound credential is verified and kept. One that comes bound to a key anyway is useless
    here (the wallet holds no such key): refused, the issuer told."""
    issuer = FakeIssuer(binding=None, proof_types=None)
    offers, keys, held = flow(issuer)
    received = await offers.accept(ACCOUNT, LINK, None)
    assert received.notified and len(held.imported) == 1 and keys.made == [] and not keys.discarded
    assert issuer.requested == [{"credential_configuration_id": "mc"}]
    assert not [c for c in issuer.calls if c[1].endswith("/nonce")]

    class BindsAnyway(FakeIssuer):
        async def post_json(self, url: str, body: Mapping[str, Any] | None, access_token: str | None = None,
                            dpop: str | None = None) -> o.IssuerReply:
            reply = await super().post_json(url, body, access_token, dpop)
            if url.endswith("/credential"):
                self.compact = self.world.issue(holder_jwk=public_jwk(ec.generate_private_key(ec.SECP256R1()))).compact
                return o.IssuerReply(200, {"credentials": [{"credential": self.compact}], "notification_id": "n"})
            return reply

    issuer = BindsAnyway(binding=None, proof_types=None)
    offers, keys, held = flow(issuer)
    with pytest.raises(o.OfferError) as caught:
        await offers.accept(ACCOUNT, LINK, None)
    assert caught.value.code == o.CREDENTIAL_REJECTED and "binds none" in caught.value.detail
    assert held.imported == [] and keys.made == [] and issuer.notified[-1]["event"] == "credential_failure"


@pytest.mark.parametrize(("server", "refused"), [
    ({"token_endpoint_auth_methods_supported": ["attest_jwt_client_auth"]}, True),
    ({"token_endpoint_auth_methods_supported": ["attest_jwt_client_auth"],
      "pre-authorized_grant_anonymous_access_supported": False}, True),
    # anonymous pre-authorized token requests taken: no client authentication is needed for this grant
    ({"token_endpoint_auth_methods_supported": ["attest_jwt_client_auth"],
      "pre-authorized_grant_anonymous_access_supported": True}, False),
    ({"token_endpoint_auth_methods_supported": ["attest_jwt_client_auth", "none"]}, False),
    # not clearly a requirement: Keycloak realms list only confidential clients' methods and take public ones
    ({"token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"]}, False),
    ({}, False),
])
async def test_a_server_that_requires_wallet_attestations_is_told_apart_before_the_code_is_spent(
        server: dict[str, Any], refused: bool) -> None:
    """HAIP 1.0 (Wallet Attestation) and OpenID4VCI Appendix E, §12.3: this wallet is a public client no wallet
    provider attests. A server that takes only wallet attestations is refused by name before the token request,
    so the offer stays open for a wallet that can; any other metadata, the wallet proceeds."""
    issuer = FakeIssuer()
    issuer.server_metadata = server
    if refused:
        await refused_before_the_code_is_spent(issuer, o.WALLET_ATTESTATION_REQUIRED)
        return
    offers, _, held = flow(issuer)
    assert (await offers.accept(ACCOUNT, LINK, None)).credentials and len(held.imported) == 1


async def authorized(offers: CredentialOffers) -> tuple[str, dict[str, str]]:
    """Begin the authorization code grant for LINK: the URL for the learner's browser, and the request pushed."""
    url = await offers.authorize(ACCOUNT, LINK, "https://wallet.example", "https://wallet.example/")
    issuer = offers.issuers
    assert isinstance(issuer, FakeIssuer)
    [pushed] = issuer.pushed
    return url, pushed


@pytest.mark.parametrize("grants", [None, {}])
async def test_an_offer_without_grants_takes_the_grant_the_authorization_server_supports(grants: Any) -> None:
    """§4.1.1: without ``grants`` (or with an empty one) the wallet determines the grant from the authorization
    server's metadata: the authorization code grant when listed in grant_types_supported, or when that is absent
    (RFC 8414 §2 default)."""
    for listed in (None, ["authorization_code", o.PRE_AUTHORIZED_GRANT]):
        issuer = FakeIssuer()
        issuer.offer_changes = {"grants": grants}
        issuer.server_metadata = {} if listed is None else {"grant_types_supported": listed}
        offers, _, _ = flow(issuer)
        seen = await offers.inspect(LINK)
        assert seen.offer.grant == o.AUTHORIZATION_CODE_GRANT and seen.offer.issuer_state == ""
        url, pushed = await authorized(offers)
        assert url.startswith(f"{ISSUER}/authorize?") and "issuer_state" not in pushed
        with pytest.raises(o.OfferError) as caught:  # no pre-authorized code to redeem
            await offers.accept(ACCOUNT, LINK, None)
        assert caught.value.code == o.UNSUPPORTED
    issuer = FakeIssuer()
    issuer.offer_changes = {"grants": grants}
    issuer.server_metadata = {"grant_types_supported": [o.PRE_AUTHORIZED_GRANT]}  # no code can come from here
    offers, _, _ = flow(issuer)
    with pytest.raises(o.OfferError) as caught:
        await offers.inspect(LINK)
    assert caught.value.code == o.UNSUPPORTED and "grant_types_supported" in caught.value.detail
    assert not [c for c in issuer.calls if c[0] == "POST"]


async def test_the_authorization_code_grant_is_not_begun_at_a_server_that_takes_only_wallet_attestations() -> None:
    """HAIP 1.0: the PAR endpoint authenticates clients as the token endpoint does; the anonymous pre-authorized
    flag says nothing about this grant."""
    issuer = FakeIssuer()
    issuer.offer_changes = {"grants": {"authorization_code": {"issuer_state": "s-1"}}}
    issuer.server_metadata = {"token_endpoint_auth_methods_supported": ["attest_jwt_client_auth"],
                              "pre-authorized_grant_anonymous_access_supported": True}
    offers, _, _ = flow(issuer)
    with pytest.raises(o.OfferError) as caught:
        await authorized(offers)
    assert caught.value.code == o.WALLET_ATTESTATION_REQUIRED and issuer.pushed == []


async def test_the_authorization_request_asks_by_scope_and_names_the_issuer_to_its_authorization_server() -> None:
    """HAIP 1.0 (scope), §5.1.1 (authorization_details with locations when the issuer names authorization
    servers, sent because the server lists openid_credential), §5.1.2 (resource)."""
    issuer = FakeIssuer(separate_as=True)
    issuer.scope = "mc-scope"
    issuer.offer_changes = {"grants": {"authorization_code": {"issuer_state": "s-1"}}}
    issuer.server_metadata = {"authorization_details_types_supported": ["openid_credential"]}
    offers, _, _ = flow(issuer)
    url, pushed = await authorized(offers)
    assert url.startswith(f"{AS}/authorize?") and pushed["issuer_state"] == "s-1"
    assert pushed["scope"] == "mc-scope" and pushed["resource"] == ISSUER
    assert json.loads(pushed["authorization_details"]) == [
        {"type": "openid_credential", "credential_configuration_id": "mc", "locations": [ISSUER]}]
    issuer = FakeIssuer()  # its own server, which does not list openid_credential: the scope alone
    issuer.scope = "mc-scope"
    issuer.offer_changes = {"grants": {"authorization_code": {}}}
    offers, _, _ = flow(issuer)
    _, pushed = await authorized(offers)
    assert pushed["scope"] == "mc-scope" and "authorization_details" not in pushed and "resource" not in pushed
