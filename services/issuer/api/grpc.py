"""IssuerService over gRPC (mTLS): the caller's client certificate is the issuer's identity.

Only callers whose certificate has OU ``issuer`` may use the service; CN is the issuer id, O its agency. There is
no field naming another issuer: a credential is always issued in the caller's name, and ``GetCredential``
answers NOT_FOUND for another issuer's credential exactly as for an unknown id.

Errors of the unary calls are ``google.rpc.Status`` values: INVALID_ARGUMENT with a ``google.rpc.BadRequest``
naming every field violation, PERMISSION_DENIED with a ``google.rpc.ErrorInfo`` carrying the registry's reason,
UNAVAILABLE when a retry (same idempotency key) may succeed. The batch stream never fails for one item: each
item's result carries its own ``IssueFailure``. Items are gathered into chunks (one Kafka ``publish_many`` each);
several chunks of a stream are processed at once, so results may come back out of order.

Every chunk has a deadline (``chunk_timeout``): a chunk that a stalled dependency (signing worker, Kafka, Redis,
the revocation service) keeps longer answers each of its items UNAVAILABLE ("retry with the same idempotency
key"; what was signed is kept as a pending record and republished as is), and the stall is logged with the
coroutine frame it was stuck in. Without it one stalled chunk held the whole stream: the handler stopped reading
requests, the client's writes blocked on flow control until its deadline, and grpc reported that to the client
as ``INTERNAL: Internal error from Core`` instead of an answer per item.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC
from typing import Any, NoReturn

from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2, issuer_pb2_grpc
from microcred.grpc_server import abort_with_details, caller_identity
from microcred.model.errors import INVALID_FORMAT, FieldViolation, to_bad_request
from microcred.model.validation import check_timestamp
from microcred.pki import ROLE_ISSUER, certificate_sha256
from microcred.sdjwt.jose import JoseError, jwk_to_public_key, strict_json_loads
from services.issuer.api.offer_listing import list_offers_query, offer_summary, reference_violations
from services.issuer.application.correction import Corrected, Correction
from services.issuer.application.issuance import Caller, Issuance, IssueItem, Outcome, Refusal
from services.issuer.application.listing import CredentialListing
from services.issuer.application.offers import Offers
from services.issuer.application.ports import StoreNotReady

__all__ = ["IssuerApi"]

log = logging.getLogger(__name__)

Context = Any  # grpc.aio.ServicerContext (grpc ships no type information)
ERROR_DOMAIN = "issuer.microcred"


async def _abort(context: Context, code: int, message: str, *details: Message) -> NoReturn:
    await abort_with_details(context, code, message, *details)


async def _refuse(context: Context, refusal: Refusal) -> NoReturn:
    details: list[Message] = []
    if refusal.violations:
        details.append(to_bad_request(refusal.violations))
    if refusal.reason:
        details.append(error_details_pb2.ErrorInfo(reason=refusal.reason, domain=ERROR_DOMAIN))
    await _abort(context, refusal.code, refusal.message, *details)


def _failure(refusal: Refusal) -> issuer_pb2.IssueFailure:
    violations = to_bad_request(refusal.violations).field_violations if refusal.violations else []
    message = f"{refusal.reason}: {refusal.message}" if refusal.reason else refusal.message
    return issuer_pb2.IssueFailure(code=refusal.code, message=message, field_violations=violations)


def _result(request: issuer_pb2.IssueCredentialsRequest, outcome: Outcome) -> issuer_pb2.IssueCredentialsResponse:
    response = issuer_pb2.IssueCredentialsResponse(idempotency_key=request.idempotency_key,
                                                   client_reference=request.client_reference)
    if isinstance(outcome, Refusal):
        response.failure.CopyFrom(_failure(outcome))
    else:
        response.issued.CopyFrom(outcome)
    return response


#: Awards per CreateOffers call (a 50,000 cohort is sent in calls of this size).
MAX_OFFERS = 5000

_KNOWN_FORMATS = frozenset({issuer_pb2.CREDENTIAL_FORMAT_DATA_INTEGRITY, issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC,
                            issuer_pb2.CREDENTIAL_FORMAT_EDC})


def request_item(key: str, credential: pb.MicroCredential, client_reference: str, formats: Sequence[int],
                 holder_jwk_json: str) -> IssueItem | Refusal:
    """The item a request asks for, or INVALID_ARGUMENT naming every bad field (formats, the holder's JWK)."""
    violations = [FieldViolation(f"formats[{n}]", "is not a known credential format", INVALID_FORMAT)
                  for n, f in enumerate(formats) if f not in _KNOWN_FORMATS]
    holder: dict[str, Any] | None = None
    if holder_jwk_json:
        try:
            holder = strict_json_loads(holder_jwk_json.encode("utf-8"))
            if not isinstance(holder, dict):
                raise JoseError("a JWK must be a JSON object")
            jwk_to_public_key(holder)
        except (JoseError, ValueError) as exc:
            violations.append(FieldViolation("holder_jwk_json", f"is not a public JWK: {exc}", INVALID_FORMAT))
    if violations:
        return Refusal(code_pb2.INVALID_ARGUMENT, "invalid request: " + "; ".join(
            f"{v.field}: {v.description}" for v in violations), tuple(violations))
    return IssueItem(key, credential, client_reference, sd_jwt_vc=issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC in formats,
                     holder_jwk=holder, edc=issuer_pb2.CREDENTIAL_FORMAT_EDC in formats)


class IssuerApi(issuer_pb2_grpc.IssuerServiceServicer):
    """The IssuerService servicer."""

    def __init__(self, issuance: Issuance, *, chunk_size: int = 256, in_flight: int = 4,
                 linger: float = 0.002, chunk_timeout: float = 60.0, correction: Correction | None = None,
                 listing: CredentialListing | None = None, offers: Offers | None = None,
                 oid4vci_issuer_url: Callable[[], str | None] = lambda: None) -> None:
        """``oid4vci_issuer_url``: the Credential Issuer identifier once the REST app serves (None: no OpenID4VCI)."""
        self._issuance, self._correction, self._listing = issuance, correction, listing
        self._offers, self._oid4vci_issuer_url = offers, oid4vci_issuer_url
        self._chunk, self._in_flight, self._linger = chunk_size, in_flight, linger
        self._chunk_timeout = chunk_timeout

    async def _caller(self, context: Context) -> Caller:
        identity = caller_identity(context)
        if identity is None or not identity.subject_id:
            await _abort(context, code_pb2.UNAUTHENTICATED,
                         "a client certificate issued by the platform CA is required")
        if identity.role != ROLE_ISSUER:
            await _abort(context, code_pb2.PERMISSION_DENIED,
                         f"only issuers (client certificate OU=issuer) may issue; the caller has role "
                         f"{identity.role!r}",
                         error_details_pb2.ErrorInfo(reason="ISSUER_ROLE_REQUIRED", domain=ERROR_DOMAIN))
        pem = context.auth_context()["x509_pem_cert"][0]
        return Caller(identity.subject_id, identity.agency_id, certificate_sha256(pem))

    async def IssueCredential(self, request: issuer_pb2.IssueCredentialRequest,
                              context: Context) -> issuer_pb2.IssueCredentialResponse:
        """Validate, sign and publish one credential (idempotent on the key)."""
        caller = await self._caller(context)
        item = request_item(request.idempotency_key, request.credential, "", request.formats,
                            request.holder_jwk_json)
        [outcome] = [item] if isinstance(item, Refusal) else await self._issuance.issue(caller, [item])
        if isinstance(outcome, Refusal):
            await _refuse(context, outcome)
        return issuer_pb2.IssueCredentialResponse(credential=outcome)

    async def CreateOffers(self, request: issuer_pb2.CreateOffersRequest,
                           context: Context) -> issuer_pb2.CreateOffersResponse:
        """OpenID4VCI offers, one per award (docs/oid4vci.md)."""
        caller = await self._caller(context)
        issuer_url = self._oid4vci_issuer_url()
        if self._offers is None or not issuer_url:
            await _abort(context, code_pb2.FAILED_PRECONDITION, "OpenID4VCI is not configured on this issuer service "
                         "(MICROCRED_OID4VCI_ISSUER_URL and MICROCRED_REST_PORT)")
        if not 1 <= len(request.credentials) <= MAX_OFFERS:
            await _refuse(context, Refusal(code_pb2.INVALID_ARGUMENT, f"credentials: 1..{MAX_OFFERS} awards", (
                FieldViolation("credentials", f"must hold 1..{MAX_OFFERS} awards", INVALID_FORMAT),)))
        problems = reference_violations(list(request.references), len(request.credentials))
        if request.HasField("not_before"):
            problems += check_timestamp("not_before", request.not_before)
        if problems:
            await _refuse(context, Refusal(code_pb2.INVALID_ARGUMENT, "invalid request: " + "; ".join(
                f"{v.field}: {v.description}" for v in problems), tuple(problems)))
        for n, refusal in enumerate(self._offers.validate(request.credentials)):
            if refusal is not None:
                await _refuse(context, Refusal(refusal.code, f"credentials[{n}]: {refusal.message}", tuple(
                    FieldViolation(f"credentials[{n}].{v.field}", v.description, v.reason)
                    for v in refusal.violations)))
        created = await self._offers.create(caller, issuer_url, list(request.credentials),
                                            tx_code=request.tx_code, references=list(request.references),
                                            expires_in=request.expires_in_seconds or None,
                                            not_before=request.not_before.ToDatetime(tzinfo=UTC)
                                            if request.HasField("not_before") else None)
        return issuer_pb2.CreateOffersResponse(offers=[issuer_pb2.CredentialOffer(
            offer_id=c.offer_id, credential_offer_uri=c.credential_offer_uri, link=c.link, tx_code=c.tx_code,
            expires_in_seconds=c.expires_in) for c in created])

    async def ListOffers(self, request: issuer_pb2.ListOffersRequest,
                         context: Context) -> issuer_pb2.ListOffersResponse:
        """A page of the caller's own OpenID4VCI offers, newest first (docs/oid4vci.md)."""
        caller = await self._caller(context)
        issuer_url = self._oid4vci_issuer_url()
        if self._offers is None or not issuer_url:
            await _abort(context, code_pb2.FAILED_PRECONDITION, "OpenID4VCI is not configured on this issuer service "
                         "(MICROCRED_OID4VCI_ISSUER_URL and MICROCRED_REST_PORT)")
        query = list_offers_query(request)
        if isinstance(query, Refusal):
            await _refuse(context, query)
        size, cursor, state, since = query
        page = await self._offers.list_offers(caller, size=size, cursor=cursor, state=state, since=since)
        return issuer_pb2.ListOffersResponse(offers=[
            offer_summary(entry, now_state, reason, issuer_url, self._offers.offer_scheme)
            for entry, now_state, reason in page.entries],
            next_page_token=page.next_token)

    async def GetCredential(self, request: issuer_pb2.GetCredentialRequest,
                            context: Context) -> issuer_pb2.GetCredentialResponse:
        """One of the caller's credentials; NOT_FOUND for anything else."""
        caller = await self._caller(context)
        try:
            found = await self._issuance.get(caller, request.credential_id)
        except StoreNotReady as exc:  # never a false NOT_FOUND while the store is rebuilt
            await _abort(context, code_pb2.UNAVAILABLE, str(exc))
        if found is None:
            await _abort(context, code_pb2.NOT_FOUND, f"no credential {request.credential_id!r} issued by "
                                                      f"{caller.issuer_id!r}")
        issued, event = found
        return issuer_pb2.GetCredentialResponse(credential=issued, micro_credential=event.credential,
                                                issuer_id=event.issuer_id)

    async def CorrectCredential(self, request: issuer_pb2.CorrectCredentialRequest,
                                context: Context) -> issuer_pb2.CorrectCredentialResponse:
        """Replace one of the caller's credentials by a corrected one, revoking the old one as superseded."""
        caller = await self._caller(context)
        if self._correction is None:
            await _abort(context, code_pb2.UNIMPLEMENTED, "corrections are not configured on this issuer service")
        outcome = await self._correction.correct(
            caller, request.credential_id, request.credential if request.HasField("credential") else None,
            request.reason)
        if not isinstance(outcome, Corrected):
            await _refuse(context, outcome)
        return issuer_pb2.CorrectCredentialResponse(credential=outcome.replacement,
                                                    superseded_credential_id=outcome.superseded,
                                                    already_corrected=outcome.already_corrected)

    async def ListCredentials(self, request: issuer_pb2.ListCredentialsRequest,
                              context: Context) -> issuer_pb2.ListCredentialsResponse:
        """A page of the caller's credentials, newest first."""
        caller = await self._caller(context)
        if self._listing is None:
            await _abort(context, code_pb2.UNIMPLEMENTED, "listing is not configured on this issuer service")
        page = await self._listing.page(caller, request)
        if isinstance(page, Refusal):
            await _refuse(context, page)
        return page

    async def IssueCredentials(self, request_iterator: AsyncIterator[issuer_pb2.IssueCredentialsRequest],
                               context: Context) -> AsyncIterator[issuer_pb2.IssueCredentialsResponse]:
        """One result per streamed item; a bad item never fails the stream."""
        caller = await self._caller(context)
        inbound: asyncio.Queue[issuer_pb2.IssueCredentialsRequest | None] = asyncio.Queue(self._chunk * 2)
        chunks: asyncio.Queue[asyncio.Task[list[issuer_pb2.IssueCredentialsResponse]] | None] = \
            asyncio.Queue(self._in_flight)
        started: list[asyncio.Task[Any]] = []

        async def read() -> None:
            try:
                async for request in request_iterator:
                    await inbound.put(request)
            finally:
                await inbound.put(None)

        async def cut() -> None:
            done = False
            while not done:
                first = await inbound.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < self._chunk:
                    try:
                        nxt = inbound.get_nowait() if not inbound.empty() else \
                            await asyncio.wait_for(inbound.get(), self._linger)
                    except TimeoutError:
                        break
                    if nxt is None:
                        done = True
                        break
                    batch.append(nxt)
                task = asyncio.create_task(self._process(caller, batch))
                started.append(task)
                await chunks.put(task)
            await chunks.put(None)

        started += [asyncio.create_task(read()), asyncio.create_task(cut())]
        try:
            while (task := await chunks.get()) is not None:
                for response in await task:
                    yield response
        finally:
            for pending in started:
                pending.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*started, return_exceptions=True)

    async def _process(self, caller: Caller, batch: Sequence[issuer_pb2.IssueCredentialsRequest]
                       ) -> list[issuer_pb2.IssueCredentialsResponse]:
        parsed = [request_item(r.idempotency_key, r.credential, r.client_reference, r.formats, r.holder_jwk_json)
                  for r in batch]
        refused = {n: p for n, p in enumerate(parsed) if isinstance(p, Refusal)}
        if refused:  # answered here; the rest go on as a smaller chunk
            rest = [(r, p) for n, (r, p) in enumerate(zip(batch, parsed, strict=True)) if n not in refused]
            answers = iter(await self._process(caller, [r for r, _ in rest]) if rest else [])
            return [_result(r, refused[n]) if n in refused else next(answers) for n, r in enumerate(batch)]
        items = [p for p in parsed if isinstance(p, IssueItem)]
        work = asyncio.ensure_future(self._issuance.issue(caller, items))
        try:
            done, _ = await asyncio.wait({work}, timeout=self._chunk_timeout)
        except asyncio.CancelledError:  # the stream ended (client gone, deadline): stop the chunk's work too
            work.cancel()
            raise
        outcomes: list[Outcome]
        if not done or work.cancelled():
            stalled_in = _where(work)
            work.cancel()
            log.error("batch chunk stalled; its items answer UNAVAILABLE",
                      extra={"issuer_id": caller.issuer_id, "count": len(items), "seconds": self._chunk_timeout,
                             "stalled_in": stalled_in})
            outcomes = [Refusal(code_pb2.UNAVAILABLE, f"not processed within {self._chunk_timeout:g}s (a dependency "
                                                      "stalled); retry with the same idempotency key")] * len(items)
        elif (exc := work.exception()) is not None:  # a bug must not end the stream: every item reports it
            log.error("batch chunk failed", exc_info=exc, extra={"issuer_id": caller.issuer_id, "count": len(items)})
            outcomes = [Refusal(code_pb2.INTERNAL, f"internal error: {type(exc).__name__}")] * len(items)
        else:
            outcomes = work.result()
        return [_result(request, outcome) for request, outcome in zip(batch, outcomes, strict=True)]


def _where(task: asyncio.Future[Any]) -> str:
    """Where a stalled chunk waits: the chain of coroutines it awaits, innermost last (for the log)."""
    chain: list[str] = []
    awaited: Any = task.get_coro() if isinstance(task, asyncio.Task) else None
    while awaited is not None and len(chain) < 16:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:  # a future (executor job, Kafka ack, ...): the end of the chain
            chain.append(type(awaited).__name__)
            break
        chain.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return " > ".join(chain[-6:]) or "unknown"
