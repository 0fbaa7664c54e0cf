"""Receiving a credential through an OpenID4VCI offer (issue 20): the order of the calls, over ports.

:meth:`CredentialOffers.inspect` fetches the offer (by reference) and the issuer's two metadata documents and
says who offers what; :meth:`CredentialOffers.accept` does the same again (nothing is kept between the two
calls: the offer is the state) and redeems it: token (pre-authorized code, ``tx_code``; DPoP when the server
takes it), nonce, a key proof
signed with a custodial P-256 holder key made for this credential (a key per credential: no two of a learner's
credentials can be linked by their ``cnf``), credential request; then it verifies the SD-JWT VC it
received (as an import is verified, and bound to the key it proved), keeps it in the learner's wallet and
notifies the issuer (``credential_accepted``, or ``credential_failure`` when the wallet refused it).

An offer of the authorization code grant only is taken in two steps: :meth:`CredentialOffers.authorize` pushes
the authorization request (PKCE S256, the offer's ``issuer_state``) and answers the URL for the learner's
browser, keeping the attempt (:mod:`services.wallet.domain.offer_authorization`); the issuer's pages (perhaps a
sign-in) send the browser back to the wallet's page, whose :meth:`CredentialOffers.complete` takes the attempt
once, checks the response's ``iss`` and redeems the code as above.

The same credential may also reach the wallet over Kafka: when the Credential Issuer is this platform's issuer,
its ``CredentialIssued`` carries the SD-JWT VC too and is filed under the learner's identifiers. The wallet
shows it once (:class:`~services.wallet.adapters.holdings.Holdings` hides a received copy once the issued one
is there; docs/wallet-oid4vci.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from microcred.oid4vci.signed_metadata import JWT_MEDIA_TYPE, SignedMetadataError, read_signed_issuer_metadata
from microcred.sdjwt.core import SdJwtError
from microcred.sdjwt.jose import JoseError
from microcred.sdjwt.view import enveloped, sd_jwt_id
from services.wallet.application.ports import (
    AccountStore,
    Clock,
    CredentialVerifier,
    DeferredStore,
    HolderKeyStore,
    HoldingsReader,
    PendingAuthorizationStore,
)
from services.wallet.domain.accounts import Account
from services.wallet.domain.credential_encryption import UnreadableAnswer, open_answer, seal_request
from services.wallet.domain.credential_offer import (
    CredentialOffer,
    check_tx_code,
    parse_offer,
    parse_offer_link,
    with_server_grants,
)
from services.wallet.domain.credentials import HeldCredential
from services.wallet.domain.deferred import KEEP_SECONDS, DeferredIssuance, deferred_answer
from services.wallet.domain.dpop import DpopSession
from services.wallet.domain.issuer_metadata import (
    LDP_FORMAT,
    Configuration,
    IssuerMetadata,
    check_client_authentication,
    chosen_authorization_server,
    chosen_configuration,
    parse_issuer_metadata,
    token_endpoint,
)
from services.wallet.domain.issuer_requests import (
    Issued,
    access_token,
    c_nonce,
    credential_identifier,
    credential_request,
    is_deferred,
    issued_credentials,
    key_proof,
    notification,
    token_form,
    uses_dpop,
)
from services.wallet.domain.offer_authorization import (
    AUTHORIZATION_UNKNOWN,
    asked_for,
    authorization_server,
    authorization_url,
    code_from_response,
    code_token_form,
    new_pending,
    pushed_request_form,
)
from services.wallet.domain.offers import (
    CREDENTIAL_REJECTED,
    ISSUER_ANSWER_INVALID,
    ISSUER_NOT_TRUSTED,
    PRE_AUTHORIZED_GRANT,
    UNSUPPORTED,
    IssuerReply,
    MetadataTrust,
    OfferError,
    issuer_error,
    normalize_issuer,
    require_trusted,
    server_metadata_urls,
    well_known,
)
from services.wallet.domain.oid4vp_matching import parse_holding, same_key

log = logging.getLogger(__name__)

#: What the wallet asks an issuer's metadata in when it can check signed metadata: that form first.
SIGNED_METADATA_ACCEPT = f"{JWT_MEDIA_TYPE}, application/json;q=0.9"


class IssuerPort(Protocol):
    """HTTP to trusted Credential Issuers (:class:`~services.wallet.adapters.oid4vci_client.IssuerClient`)."""

    async def get(self, url: str, accept: str = "application/json") -> IssuerReply:
        """GET a JSON document (or, when ``accept`` names it, a signed one: ``application/jwt``)."""
        ...

    def trust(self, authorization_server: str) -> None:
        """Also call ``authorization_server``: a trusted issuer's metadata names it as its own."""
        ...

    async def post_form(self, url: str, form: Mapping[str, str], dpop: str | None = None) -> IssuerReply:
        """POST a form, with a DPoP proof when given."""
        ...

    async def post_json(self, url: str, body: Mapping[str, Any] | None, access_token: str | None = None,
                        dpop: str | None = None) -> IssuerReply:
        """POST JSON with an optional access token (Bearer, or DPoP with the proof ``dpop``)."""
        ...

    async def post_jwt(self, url: str, token: str, access_token: str, dpop: str | None = None) -> IssuerReply:
        """POST an encrypted request (``application/jwt``) with the access token, as :meth:`post_json`."""
        ...


@dataclass(frozen=True)
class Inspected:
    """An offer read and checked: what is offered, by whom, and where to redeem it."""

    offer: CredentialOffer
    metadata: IssuerMetadata
    configuration: Configuration
    token_endpoint: str
    dpop: bool  # the authorization server takes DPoP proofs (ES256)
    server: Mapping[str, Any]  # the authorization server metadata (RFC 8414), checked to be the issuer's
    server_id: str  # that server's identifier: the issuer itself, or one its metadata lists


@dataclass(frozen=True)
class Received:
    """The outcome of an accepted offer: the credentials now in the wallet, and whether the issuer was told."""

    credentials: tuple[HeldCredential, ...]
    notified: bool
    pending: int = 0  # kept (durable on Kafka) but not in the read model yet: listed moments later
    deferred: int = 0  # the issuer is still preparing it: collected later (application/deferred_offers.py)


def held_copy(held: Sequence[HeldCredential], received_id: str) -> HeldCredential | None:
    """The credential in ``held`` that is the SD-JWT VC ``received_id`` names: received before, or issued with it
    (the same Issuer-signed JWT)."""
    for credential in held:
        if credential.credential_id == received_id or (
                credential.sd_jwt_vc is not None and sd_jwt_id(credential.sd_jwt_vc) == received_id):
            return credential
    return None


class CredentialOffers:
    """The learner's side of the pre-authorized and authorization code flows (module docstring)."""

    def __init__(self, trusted: Sequence[str], issuers: IssuerPort, keys: HolderKeyStore,
                 verifier: CredentialVerifier, accounts: AccountStore, holdings: HoldingsReader,
                 clock: Clock, authorizations: PendingAuthorizationStore | None = None,
                 deferred: DeferredStore | None = None, metadata_trust: MetadataTrust | None = None) -> None:
        """``authorizations``: where the authorization code attempts wait (None: that grant is refused);
        ``deferred``: where deferred issuances wait to be collected (None: a deferred answer is refused);
        ``metadata_trust``: whether issuers' metadata is asked for (and must come) signed (None: plain JSON)."""
        self.trusted = tuple(normalize_issuer(t) for t in trusted)
        self.issuers, self.keys, self.verifier = issuers, keys, verifier
        self.accounts, self.holdings, self.clock = accounts, holdings, clock
        self.authorizations, self.deferred = authorizations, deferred
        self.metadata_trust = metadata_trust or MetadataTrust()

    async def _json(self, stage: str, reply: IssuerReply) -> Any:
        """The body of a successful answer (any 2xx: §7.2 says so of the nonce endpoint), else the issuer's
        error."""
        if not 200 <= reply.status < 300:
            raise issuer_error(stage, reply.status, reply.body)
        return reply.body

    async def inspect(self, link: str) -> Inspected:
        """Read and check the offer behind ``link`` and its issuer's metadata."""
        if not self.trusted:
            raise OfferError(ISSUER_NOT_TRUSTED, "this wallet trusts no credential issuer "
                                                 "(MICROCRED_WALLET_TRUSTED_ISSUERS is empty)")
        parsed = parse_offer_link(link)
        if parsed.offer_uri is not None:
            uri = require_trusted(parsed.offer_uri, "link.credential_offer_uri", self.trusted)
            offer = parse_offer(await self._json("offer", await self.issuers.get(uri)))
        else:
            assert parsed.offer is not None
            offer = parse_offer(parsed.offer)
        if offer.credential_issuer not in self.trusted:  # identifiers compare exactly (§12.2.1)
            raise OfferError(ISSUER_NOT_TRUSTED, f"credential_offer.credential_issuer: "
                                                 f"{offer.credential_issuer[:200]!r} is not trusted by this wallet")
        metadata, server, server_id = await self.issuer_metadata(offer.credential_issuer, offer.authorization_server)
        offer = with_server_grants(offer, server)
        configuration = chosen_configuration(offer, metadata)
        check_client_authentication(server, offer.grant)
        return Inspected(offer, metadata, configuration, token_endpoint(server, server_id), uses_dpop(server),
                         server, server_id)

    async def issuer_metadata(self, issuer: str, named_server: str = ""
                              ) -> tuple[IssuerMetadata, Mapping[str, Any], str]:
        """The Credential Issuer's metadata, its authorization server's (RFC 8414) and that server's identifier:
        the issuer itself, or one its metadata lists in ``authorization_servers`` (the offer's grant may name
        which: ``named_server``). Such a server is called because the trusted issuer's own metadata names it."""
        metadata = parse_issuer_metadata(await self._issuer_document(issuer), issuer)
        server_id = chosen_authorization_server(metadata, named_server)
        if server_id != issuer:
            self.issuers.trust(server_id)
        return metadata, await self._server_metadata(server_id), server_id

    async def _issuer_document(self, issuer: str) -> Any:
        """The Credential Issuer Metadata as the issuer serves it: signed (checked, §12.2.3) when this wallet has
        anchors to check it and the issuer signs, else JSON (refused when signed metadata is required)."""
        trust = self.metadata_trust
        reply = await self.issuers.get(well_known(issuer, "openid-credential-issuer"),
                                       SIGNED_METADATA_ACCEPT if trust.anchors else "application/json")
        if reply.status == 200 and reply.media_type == JWT_MEDIA_TYPE:
            if not trust.anchors:  # not asked for: nothing to check it against, so it cannot be taken
                raise OfferError(ISSUER_ANSWER_INVALID, "metadata: signed, but this wallet has no trust anchors "
                                                        "to check it (MICROCRED_X509_TRUST_ANCHORS_FILE)")
            try:
                return read_signed_issuer_metadata(reply.body, issuer, trust.anchors, self.clock())
            except SignedMetadataError as exc:
                raise OfferError(ISSUER_ANSWER_INVALID, f"signed metadata: {exc}") from None
        document = await self._json("metadata", reply)
        if trust.required:
            raise OfferError(ISSUER_ANSWER_INVALID, "metadata: the issuer does not sign its metadata, and this "
                                                    "wallet takes only signed metadata "
                                                    "(MICROCRED_WALLET_REQUIRE_SIGNED_ISSUER_METADATA)")
        return document

    async def _server_metadata(self, server_id: str) -> Mapping[str, Any]:
        """The authorization server's metadata from the first address that has it
        (:func:`~services.wallet.domain.offers.server_metadata_urls`)."""
        urls = server_metadata_urls(server_id)
        for url in urls[:-1]:
            reply = await self.issuers.get(url)
            if reply.status != 404:  # 404: not published there, the next address
                break
        else:
            reply = await self.issuers.get(urls[-1])
        server = await self._json("metadata", reply)
        if not isinstance(server, Mapping):
            raise OfferError(ISSUER_ANSWER_INVALID, "authorization server metadata: not a JSON object")
        return server

    async def accept(self, account: Account, link: str, tx_code: str | None) -> Received:
        """Redeem the offer behind ``link`` with ``tx_code`` and keep what it gives (module docstring)."""
        seen = await self.inspect(link)
        if seen.offer.grant != PRE_AUTHORIZED_GRANT:
            raise OfferError(UNSUPPORTED, "credential_offer.grants: no pre-authorized code; this offer is taken "
                                          "at the issuer (authorize)")
        code = check_tx_code(seen.offer, tx_code)
        return await self._redeem(account, seen.metadata, seen.configuration, seen.token_endpoint,
                                  seen.dpop, token_form(seen.offer, code), code is not None)

    async def authorize(self, account: Account, link: str, client_id: str, redirect_uri: str) -> str:
        """Begin the authorization code grant for the offer behind ``link``: the URL to send the learner's
        browser to (the request pushed first when the issuer takes PAR). The attempt waits in the store."""
        if self.authorizations is None:
            raise OfferError(UNSUPPORTED, "this wallet does not take the authorization code grant")
        seen = await self.inspect(link)
        if not seen.offer.authorization_code:
            raise OfferError(UNSUPPORTED, "credential_offer.grants: no authorization code grant")
        server = authorization_server(seen.server, seen.server_id)
        pending = new_pending(account.account_id, seen.offer.credential_issuer,
                              seen.configuration.configuration_id, client_id, redirect_uri, server)
        form = pushed_request_form(pending, seen.offer.issuer_state,
                                   asked_for(seen.configuration, seen.server, seen.metadata))
        if server.pushed_authorization_request_endpoint is not None:
            reply = await self.issuers.post_form(server.pushed_authorization_request_endpoint, form)
            if reply.status not in (200, 201):
                raise issuer_error("authorization", reply.status, reply.body)
            request_uri = reply.body.get("request_uri") if isinstance(reply.body, Mapping) else None
            if not isinstance(request_uri, str) or not request_uri or len(request_uri) > 2048:
                raise OfferError(ISSUER_ANSWER_INVALID, "pushed authorization response: no request_uri")
            form = {"client_id": client_id, "request_uri": request_uri}
        await self.authorizations.put(pending)
        return authorization_url(server.authorization_endpoint, form)

    async def complete(self, account: Account, answer: Mapping[str, str]) -> Received:
        """The learner came back from the issuer with ``answer`` (``code``/``error``, ``state``, ``iss``): the
        code is redeemed like a pre-authorized one, and the credential kept. The attempt is spent either way."""
        pending = await self.authorizations.take(answer.get("state", "")) if self.authorizations else None
        if pending is None or pending.account_id != account.account_id:
            raise OfferError(AUTHORIZATION_UNKNOWN, "authorization response: unknown, expired or already used "
                                                    "state")
        code = code_from_response(answer, pending)
        metadata, server, server_id = await self.issuer_metadata(pending.credential_issuer, pending.server_issuer)
        configuration = metadata.configurations.get(pending.configuration_id)
        if configuration is None or not configuration.supported:
            raise OfferError(ISSUER_ANSWER_INVALID, "metadata: the configuration asked for is no longer offered")
        return await self._redeem(account, metadata, configuration,
                                  token_endpoint(server, server_id), uses_dpop(server),
                                  code_token_form(code, pending), False)

    async def _redeem(self, account: Account, metadata: IssuerMetadata, configuration: Configuration,
                      token_url: str, dpop_offered: bool, form: Mapping[str, str], tx_code_sent: bool) -> Received:
        """Token (``form``), nonce, key proof, credential, verification, keeping, notification."""
        # DPoP (RFC 9449) when the server offers it, as HAIP asks of wallets: a fresh key per redemption, so two
        # redemptions cannot be linked by it; the servers' nonces are kept and used (domain/dpop.py).
        dpop = DpopSession(ec.generate_private_key(ec.SECP256R1()) if dpop_offered else None, token_url)
        reply = await self.with_dpop(dpop, token_url, None, lambda proof: self.issuers.post_form(token_url, form,
                                                                                                  proof))
        if reply.status != 200:
            raise issuer_error("token", reply.status, reply.body, tx_code_sent=tx_code_sent)
        token, kind = access_token(reply.body, dpop=dpop.key is not None)
        if kind == "Bearer":
            dpop.key = None  # the server did not bind the token to the key: plain Bearer from here on
        identifier = credential_identifier(reply.body, configuration.configuration_id)
        nonce = None
        if metadata.nonce_endpoint is not None and configuration.bound:  # a c_nonce is for key proofs (§7)
            answer = await self.issuers.post_json(metadata.nonce_endpoint, None)
            dpop.learn(metadata.nonce_endpoint, answer)  # §7.2: a DPoP nonce for the credential endpoint
            nonce = c_nonce(await self._json("nonce", answer))
        # A key of its own for this credential when the configuration binds one (§8.2: else no proof is sent),
        # published only once the issuer answered with something bound to it: a refused or failed request leaves
        # the account no key (adapters/holder_keys.py).
        made = await self.keys.make_for_credential(account.account_id) if configuration.bound else None
        try:
            proof = None
            if made is not None:
                kid = made.holder.verification_method if configuration.names_key_by_did else None
                proof = key_proof(made.private, metadata.audience, nonce, int(self.clock().timestamp()), kid)
            request = credential_request(configuration.configuration_id, proof, identifier)
            reply = await self.send_credential_request(metadata, metadata.credential_endpoint, request, token, dpop)
            if reply.status not in (200, 202):
                raise issuer_error("credential", reply.status, reply.body)
            deferral = None
            if is_deferred(reply.status, reply.body):  # §8.3: collected later (application/deferred_offers.py)
                deferral = self._deferrable(metadata), *deferred_answer(reply.body)
        except BaseException:
            if made is not None:
                await self.keys.discard(made)
            raise
        if made is not None:
            await self.keys.publish_for_credential(account.account_id, made)
        did = made.holder.did if made is not None else ""  # '': not bound
        if deferral is not None:
            await self._defer(account, metadata, configuration, deferral, token, dpop.key, did)
            return Received((), False, deferred=1)
        return await self.keep_issued(account, metadata, configuration.format, issued_credentials(reply.body),
                                      made.private if made is not None else None, did, token, dpop)

    async def send_credential_request(self, metadata: IssuerMetadata, endpoint: str, body: Mapping[str, Any],
                                      token: str, dpop: DpopSession) -> IssuerReply:
        """POST a (deferred) credential request, encrypted when the issuer offers it (§10,
        :mod:`services.wallet.domain.credential_encryption`); the answer's body decrypted."""
        if metadata.encryption is None:
            return await self.with_dpop(dpop, endpoint, token, lambda proof: self.issuers.post_json(
                endpoint, body, token, proof))
        sealed, mine = seal_request(metadata.encryption, body)
        reply = await self.with_dpop(dpop, endpoint, token, lambda proof: self.issuers.post_jwt(
            endpoint, sealed, token, proof))
        try:
            return replace(reply, body=open_answer(reply.status, reply.media_type, reply.body, mine),
                           media_type="application/json" if mine is not None else reply.media_type)
        except UnreadableAnswer as exc:
            raise OfferError(ISSUER_ANSWER_INVALID, str(exc)) from None

    async def with_dpop(self, dpop: DpopSession, url: str, access_token: str | None,
                        send: Callable[[str | None], Awaitable[IssuerReply]]) -> IssuerReply:
        """``send`` with a fresh DPoP proof (None without DPoP); once more with the server's nonce when it asks
        for one (RFC 9449 §8, §9)."""
        reply = await send(dpop.proof(url, access_token, int(self.clock().timestamp())))
        if dpop.learn(url, reply):
            reply = await send(dpop.proof(url, access_token, int(self.clock().timestamp())))
            dpop.learn(url, reply)
        return reply

    def _deferrable(self, metadata: IssuerMetadata) -> DeferredStore:
        """Where a deferred answer is kept; refused when this wallet cannot collect it (it keeps none, or the
        issuer names no endpoint)."""
        if self.deferred is None:
            raise OfferError(UNSUPPORTED, "credential response: deferred issuance (this wallet keeps none)")
        if metadata.deferred_credential_endpoint is None:
            raise OfferError(ISSUER_ANSWER_INVALID, "credential response: deferred, but the issuer's metadata has "
                                                    "no deferred_credential_endpoint")
        return self.deferred

    async def _defer(self, account: Account, metadata: IssuerMetadata, configuration: Configuration,
                     deferral: tuple[DeferredStore, str, int], token: str, dpop_key: EllipticCurvePrivateKey | None,
                     did: str) -> None:
        """Keep what collecting the deferred credential needs (the code is spent: this is the only way to it):
        ``deferral`` is where (:meth:`_deferrable`) and the issuer's transaction id and interval."""
        store, transaction, interval = deferral
        pem = "" if dpop_key is None else dpop_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        now = int(self.clock().timestamp())
        item = DeferredIssuance(
            account.account_id, metadata.credential_issuer, configuration.configuration_id, configuration.format,
            transaction, token, pem, did, configuration.display, metadata.display, interval, now, now + KEEP_SECONDS)
        await store.put(item)
        await store.due(item.ref, interval)  # the first ask waits the interval the issuer named

    async def keep_issued(self, account: Account, metadata: IssuerMetadata, credential_format: str, issued: Issued,
                          key: EllipticCurvePrivateKey | None, did: str, token: str, dpop: DpopSession
                          ) -> Received:
        """Verify and keep each credential the issuer gave (bound to ``key``, or to ``did`` for an ``ldp_vc``;
        None and '' for a configuration that binds no key), then notify the issuer either way."""
        kept: list[HeldCredential | None] = []
        accepted = False
        try:
            for credential in issued.credentials:
                if credential_format == LDP_FORMAT:
                    kept.append(await self._keep_ldp(account, credential, did, metadata.credential_issuer))
                else:
                    kept.append(await self._keep(account, credential, key, metadata.credential_issuer))
            accepted = True
        finally:
            notified = await self._notify(metadata, issued.notification_id, token, accepted, dpop)
            if not accepted and not kept:  # nothing is bound to the key made for it: it goes too
                await self.forget_key(account, did)
        listed = tuple(c for c in kept if c is not None)
        return Received(listed, notified, len(kept) - len(listed))

    async def forget_key(self, account: Account, did: str) -> None:
        """Delete the key made for a credential the wallet did not keep. A failure (Kafka or the key store
        down) is logged, not raised: the learner's answer stays why the credential was not kept, and the key
        left behind is harmless (it is not listed and nothing is bound to it). ``did`` '': none was made."""
        if not did:
            return
        try:
            await self.keys.forget_for_credential(account.account_id, did)
        except Exception as exc:  # whatever failed, the rejection is what the learner must hear
            # The error's class only: its text may name the key (an identifier of the learner's).
            log.warning("the key made for a credential not kept could not be deleted; it stays unused",
                        extra={"error": type(exc).__name__})

    async def _keep_ldp(self, account: Account, credential: str | Mapping[str, Any], did: str, issuer: str
                        ) -> HeldCredential | None:
        """Verify an ``ldp_vc`` (as an import is: its Data Integrity proof by a key the wallet can resolve), check
        that its subject is the learner's did:key the wallet proved (``did``; '': not bound, not checked), and keep
        it (once)."""
        if not isinstance(credential, Mapping):
            raise OfferError(CREDENTIAL_REJECTED, "credential: an ldp_vc must be a JSON object")
        subject = credential.get("credentialSubject")
        if did and (not isinstance(subject, Mapping) or subject.get("id") != did):
            raise OfferError(CREDENTIAL_REJECTED, "credential: its subject is not the did:key the wallet proved")
        received_id = credential.get("id")
        if not isinstance(received_id, str) or not received_id:
            raise OfferError(CREDENTIAL_REJECTED, "credential: no id")
        return await self._file(account, dict(credential), received_id, issuer)

    async def _keep(self, account: Account, credential: str | Mapping[str, Any],
                    key: EllipticCurvePrivateKey | None, issuer: str) -> HeldCredential | None:
        """Verify the SD-JWT VC (as an import is), check it is bound to ``key`` (None: to no key, as the
        configuration said), and keep it (once); None when it is kept but the read model does not list it yet."""
        if not isinstance(credential, str):
            raise OfferError(CREDENTIAL_REJECTED, "credential: an SD-JWT VC must be a string")
        compact = credential
        document = enveloped(compact)
        received_id = sd_jwt_id(document)
        if received_id is None:
            raise OfferError(CREDENTIAL_REJECTED, "credential: not an SD-JWT VC")
        try:
            holding = parse_holding(received_id, compact)
        except (SdJwtError, JoseError, ValueError):
            raise OfferError(CREDENTIAL_REJECTED, "credential: not a readable SD-JWT VC") from None
        if key is None and holding.cnf_jwk is not None:  # bound to a key nobody here holds: of no use
            raise OfferError(CREDENTIAL_REJECTED, "credential: bound (cnf) to a key, though the issuer binds none "
                                                  "for this configuration and the wallet proved none")
        if key is not None and not same_key(holding.cnf_jwk, key):
            raise OfferError(CREDENTIAL_REJECTED, "credential: not bound (cnf) to the key the wallet proved")
        return await self._file(account, document, received_id, issuer)

    async def _file(self, account: Account, document: dict[str, Any], received_id: str, issuer: str
                    ) -> HeldCredential | None:
        """Verify ``document`` (refused unless it verifies), then keep it unless held already."""
        verdict = await self.verifier.verify(document, self.clock())
        if not verdict.accepted:
            raise OfferError(CREDENTIAL_REJECTED, f"credential: {verdict.code}: {verdict.message}")
        existing = held_copy(await self.holdings.of(account), received_id)
        if existing is not None:
            return existing
        check = {"verdict": verdict.code, "unknown_checks": list(verdict.unknown_checks),
                 "checked_at": self.clock().isoformat(), "received_from": issuer, "received_by": "openid4vci"}
        await self.accounts.add_imported(account.account_id, document, check)  # the projection files it
        # None: the projection is behind; the change is durable on Kafka and appears moments later
        return held_copy(await self.holdings.of(account), received_id)

    async def _notify(self, metadata: IssuerMetadata, notification_id: str | None, token: str,
                      accepted: bool, dpop: DpopSession) -> bool:
        """Tell the issuer (§11); a failure to notify does not undo what the wallet kept."""
        endpoint = metadata.notification_endpoint
        if notification_id is None or endpoint is None:
            return False
        body = notification(notification_id, accepted)
        try:
            reply = await self.with_dpop(dpop, endpoint, token,
                                         lambda proof: self.issuers.post_json(endpoint, body, token, proof))
        except OfferError:
            return False
        return 200 <= reply.status < 300  # §11.2: 204 is recommended, any 2xx is success
