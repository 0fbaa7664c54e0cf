// Test-only bridge: an independent OpenID4VCI wallet, the EU Digital Identity Wallet's reference library
// eudi-lib-jvm-openid4vci-kt 0.7.1 (OpenID4VCI draft 15), driven by tests/interop/test_oid4vci_eudi.py.
// Never part of the product.
//
// stdin: {"offer": "openid-credential-offer://…", "flow": "pre-authorized_code" | "authorization_code",
//         "tx_code": "…"?, "configuration": "…"?, "proofs": 1, "retry_proofs": N?, "dpop": true,
//         "notify": "credential_accepted"?, "redeem_twice": false, "ca_file": "platform-ca.pem"}
// The library resolves the offer by reference and the issuer's metadata, takes the pre-authorized code (with the
// tx_code, with DPoP when the authorization server advertises it and "dpop" is asked), fetches a c_nonce and proves
// `proofs` fresh P-256 keys in one credential request. With "retry_proofs", a credential request the issuer refuses
// is placed once more with that many fresh keys on the same access token. With "notify", the notification_id is
// sent back with that event; with "redeem_twice", the same pre-authorized code is redeemed once more.
// The authorization code flow is the library's: a pushed authorization request (PKCE S256, the offer's
// issuer_state, scopes; a DPoP proof with "dpop"), then the authorization endpoint (played here as the browser: its
// redirect read, not followed), then the token request with the code and state; with "redeem_twice", a second
// pushed authorization request for the same offer.
// stdout: {"offered", "configuration", "token_type", "credentials": [...], "holder_jwks": [...], "notification_id",
//          "notified", "refused": {...}?, "second_redemption_error": {...}?, "exchanges": [...]}; any failure:
//          {"error": {"name", "message", "oauth_error", "description"}, "exchanges": [...]}.
// "exchanges" lists every HTTP request the library made: method, path, status, whether it carried a DPoP proof,
// and the top-level members of a JSON body or the names of a form (what the wire looked like, for the tests).
// TLS: the JDK's HTTP client trusts only the platform's CA read from "ca_file" (verification stays on).
package microcred.interop.eudi

import com.nimbusds.jose.JWSAlgorithm
import com.nimbusds.jose.jwk.Curve
import com.nimbusds.jose.jwk.ECKey
import com.nimbusds.jose.jwk.gen.ECKeyGenerator
import eu.europa.ec.eudi.openid4vci.AccessToken
import eu.europa.ec.eudi.openid4vci.AuthorizationCode
import eu.europa.ec.eudi.openid4vci.AuthorizedRequest
import eu.europa.ec.eudi.openid4vci.Client
import eu.europa.ec.eudi.openid4vci.Credential
import eu.europa.ec.eudi.openid4vci.CredentialConfigurationIdentifier
import eu.europa.ec.eudi.openid4vci.CredentialIssuanceError
import eu.europa.ec.eudi.openid4vci.CredentialIssuanceEvent
import eu.europa.ec.eudi.openid4vci.CredentialResponseEncryptionPolicy
import eu.europa.ec.eudi.openid4vci.IssuanceRequestPayload
import eu.europa.ec.eudi.openid4vci.Issuer
import eu.europa.ec.eudi.openid4vci.JwtBindingKey
import eu.europa.ec.eudi.openid4vci.KeyGenerationConfig
import eu.europa.ec.eudi.openid4vci.OpenId4VCIConfig
import eu.europa.ec.eudi.openid4vci.PopSigner
import eu.europa.ec.eudi.openid4vci.SubmissionOutcome
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.booleanOrNull
import kotlinx.serialization.json.intOrNull
import kotlinx.serialization.json.jsonObject
import java.net.URI
import kotlin.system.exitProcess

private const val CLIENT_ID = "eudi-interop-wallet"

/** One request of the Python side, read from stdin. */
private class Request(private val json: JsonObject) {
    private fun text(name: String): String? = (json[name] as? JsonPrimitive)?.takeIf { it.isString }?.content
    private fun int(name: String): Int? = (json[name] as? JsonPrimitive)?.intOrNull
    private fun flag(name: String): Boolean = (json[name] as? JsonPrimitive)?.booleanOrNull ?: false

    val offer: String = requireNotNull(text("offer")) { "offer is required" }
    val caFile: String = requireNotNull(text("ca_file")) { "ca_file is required" }
    val txCode: String? = text("tx_code")
    val configuration: String? = text("configuration")
    val proofs: Int = int("proofs") ?: 1
    val retryProofs: Int? = int("retry_proofs")
    val dpop: Boolean = flag("dpop")
    val authorizationCode: Boolean = when (val flow = text("flow") ?: "pre-authorized_code") {
        "pre-authorized_code" -> false
        "authorization_code" -> true
        else -> error("unknown flow $flow")
    }
    val notify: String? = text("notify")
    val redeemTwice: Boolean = flag("redeem_twice")
}

private fun newKey(): ECKey = ECKeyGenerator(Curve.P_256).generate()

private fun signerOf(key: ECKey): PopSigner.Jwt =
    PopSigner.jwtPopSigner(key, JWSAlgorithm.ES256, JwtBindingKey.Jwk(key.toPublicJWK()))

private fun jsonOf(map: Map<String, Any?>): JsonObject = JsonObject(map.mapValues { (_, v) -> jsonValue(v) })

private fun jsonValue(value: Any?): JsonElement = when (value) {
    null -> JsonNull
    is JsonElement -> value
    is String -> JsonPrimitive(value)
    is Number -> JsonPrimitive(value)
    is Boolean -> JsonPrimitive(value)
    is List<*> -> JsonArray(value.map(::jsonValue))
    is Map<*, *> -> JsonObject(value.entries.associate { (k, v) -> k.toString() to jsonValue(v) })
    else -> JsonPrimitive(value.toString())
}

/** The OAuth error code a library error carries (its class names it where the library has no string for it). */
private fun oauthError(error: Throwable): String? = when (error) {
    is CredentialIssuanceError.AccessTokenRequestFailed -> error.error
    is CredentialIssuanceError.PushedAuthorizationRequestFailed -> error.error
    is CredentialIssuanceError.IssuanceRequestFailed -> error.error
    is CredentialIssuanceError.NotificationFailed -> error.error
    is CredentialIssuanceError.InvalidProof, is CredentialIssuanceError.IrrecoverableInvalidProof -> "invalid_proof"
    is CredentialIssuanceError.InvalidToken -> "invalid_token"
    else -> null
}

private fun description(error: Throwable): String? = when (error) {
    is CredentialIssuanceError.AccessTokenRequestFailed -> error.errorDescription
    is CredentialIssuanceError.PushedAuthorizationRequestFailed -> error.errorDescription
    is CredentialIssuanceError.IssuanceRequestFailed -> error.errorDescription
    is CredentialIssuanceError.InvalidProof -> error.errorDescription
    is CredentialIssuanceError.IrrecoverableInvalidProof -> error.errorDescription
    else -> null
}

/** An error as the Python side reads it: named by the first of its causes that carries an OAuth error code. */
private fun describe(error: Throwable): Map<String, Any?> {
    val chain = generateSequence(error) { it.cause }.take(8).toList()
    val named = chain.firstOrNull { oauthError(it) != null } ?: error
    return mapOf(
        "name" to named::class.simpleName,
        // a library exception without a message (CredentialOfferRequestException) says what it holds in toString
        "message" to chain.joinToString(" <- ") { "${it::class.simpleName}: ${it.message ?: it}" }.take(2000),
        "oauth_error" to oauthError(named),
        "description" to description(named),
    )
}

private class Wallet(private val request: Request, private val http: Http) {
    val answer = linkedMapOf<String, Any?>()

    suspend fun run() {
        val dpopKey = if (request.dpop) newKey() else null
        val config = OpenId4VCIConfig(
            client = Client.Public(CLIENT_ID),
            authFlowRedirectionURI = URI.create("https://127.0.0.1/eudi-callback"),
            keyGenerationConfig = KeyGenerationConfig.ecOnly(Curve.P_256),
            credentialResponseEncryptionPolicy = CredentialResponseEncryptionPolicy.SUPPORTED,
            dPoPSigner = dpopKey?.let(::signerOf),
        )
        val issuer = Issuer.make(config, request.offer, http.factory).getOrThrow()
        val offered = issuer.credentialOffer.credentialConfigurationIdentifiers.map { it.value }
        val configuration = request.configuration ?: offered.first()
        answer["offered"] = offered
        answer["configuration"] = configuration
        answer["dpop_used"] = issuer.dPoPJwtFactory != null

        val authorized = if (request.authorizationCode) authorizeWithCode(issuer) else
            issuer.authorizeWithPreAuthorizationCode(request.txCode).getOrThrow()
        answer["token_type"] = if (authorized.accessToken is AccessToken.DPoP) "DPoP" else "Bearer"
        val payload = IssuanceRequestPayload.ConfigurationBased(CredentialConfigurationIdentifier(configuration))

        var (current, outcome, keys) = requestCredentials(issuer, authorized, payload, request.proofs)
        val retry = request.retryProofs
        if (outcome is SubmissionOutcome.Failed && retry != null) {
            answer["refused"] = describe(outcome.error)
            val again = requestCredentials(issuer, current, payload, retry)
            current = again.first
            outcome = again.second
            keys = again.third
        }
        when (outcome) {
            is SubmissionOutcome.Failed -> throw outcome.error
            is SubmissionOutcome.Deferred -> error("the issuer deferred the issuance (${outcome.transactionId})")
            is SubmissionOutcome.Success -> {
                answer["credentials"] = outcome.credentials.map {
                    when (val credential = it.credential) {
                        is Credential.Str -> JsonPrimitive(credential.value)
                        is Credential.Json -> credential.value
                    }
                }
                answer["holder_jwks"] = keys.map { it.toPublicJWK().toJSONObject() }
                answer["notification_id"] = outcome.notificationId?.value
                val event = request.notify
                val notificationId = outcome.notificationId
                answer["notified"] = if (event != null && notificationId != null) {
                    val notification = when (event) {
                        "credential_accepted" -> CredentialIssuanceEvent.Accepted(notificationId, null)
                        "credential_failure" -> CredentialIssuanceEvent.Failed(notificationId, null)
                        "credential_deleted" -> CredentialIssuanceEvent.Deleted(notificationId, null)
                        else -> error("unknown event $event")
                    }
                    with(issuer) { current.notify(notification) }.getOrThrow()
                    http.exchanges.last { it["path"].toString().endsWith("/notification") }["status"]
                } else {
                    null
                }
            }
        }
        if (request.redeemTwice) {
            val again = if (request.authorizationCode) issuer.prepareAuthorizationRequest() else
                issuer.authorizeWithPreAuthorizationCode(request.txCode)
            answer["second_redemption_error"] = again.fold(onSuccess = { null }, onFailure = ::describe)
        }
    }

    /** PAR, the authorization endpoint's redirect (the learner's browser), then the code for a token. */
    private suspend fun authorizeWithCode(issuer: Issuer): AuthorizedRequest {
        val prepared = issuer.prepareAuthorizationRequest().getOrThrow()
        val redirect = io.ktor.http.Url(http.redirectOf(prepared.authorizationCodeURL.value.toString()))
        val code = requireNotNull(redirect.parameters["code"]) { "no code in the redirect: $redirect" }
        val state = requireNotNull(redirect.parameters["state"]) { "no state in the redirect: $redirect" }
        answer["redirect_iss"] = redirect.parameters["iss"]
        return with(issuer) { prepared.authorizeWithAuthorizationCode(AuthorizationCode(code), state) }.getOrThrow()
    }

    private suspend fun requestCredentials(
        issuer: Issuer,
        authorized: AuthorizedRequest,
        payload: IssuanceRequestPayload,
        count: Int,
    ): Triple<AuthorizedRequest, SubmissionOutcome, List<ECKey>> {
        val keys = List(count) { newKey() }
        val (updated, outcome) = with(issuer) { authorized.request(payload, keys.map(::signerOf)) }.getOrThrow()
        return Triple(updated, outcome, keys)
    }
}

fun main() {
    val input = kotlinx.serialization.json.Json.parseToJsonElement(System.`in`.readBytes().decodeToString())
    val request = Request(input.jsonObject)
    val http = Http(Tls.trustingOnly(request.caFile))
    val wallet = Wallet(request, http)
    val answer = try {
        runBlocking { wallet.run() }
        wallet.answer
    } catch (error: Throwable) {
        linkedMapOf<String, Any?>("error" to describe(error)).apply { putAll(wallet.answer) }
    }
    answer["exchanges"] = http.exchanges
    println(jsonOf(answer))
    System.out.flush()
    exitProcess(0)
}

