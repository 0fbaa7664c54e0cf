// Test-only (tests/interop/test_oid4vci_eudi.py): the HTTP clients the library is given.
package microcred.interop.eudi

import eu.europa.ec.eudi.openid4vci.KtorHttpClientFactory
import io.ktor.client.HttpClient
import io.ktor.client.engine.java.Java
import io.ktor.client.plugins.HttpSend
import io.ktor.client.plugins.contentnegotiation.ContentNegotiation
import io.ktor.client.plugins.plugin
import io.ktor.client.request.forms.FormDataContent
import io.ktor.client.request.get
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.http.content.TextContent
import io.ktor.serialization.kotlinx.json.json
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import java.util.Collections
import javax.net.ssl.SSLContext

/**
 * The library's HTTP clients: ktor on the JDK's client with [sslContext], configured as the library's own default
 * factory (content negotiation with a lenient JSON), each exchange recorded in [exchanges]
 * (the members of a JSON body, the parameter names of a form).
 */
internal class Http(private val sslContext: SSLContext) {
    val exchanges: MutableList<Map<String, Any?>> = Collections.synchronizedList(mutableListOf())

    private val lenient = Json { ignoreUnknownKeys = true }

    val factory: KtorHttpClientFactory = {
        HttpClient(Java) {
            engine {
                protocolVersion = java.net.http.HttpClient.Version.HTTP_1_1
                config { sslContext(sslContext) }
            }
            install(ContentNegotiation) { json(lenient) }
        }.also(::record)
    }

    /** Where [url] redirects to (a GET whose redirect is read, not followed: the browser's step). */
    suspend fun redirectOf(url: String): String =
        HttpClient(Java) {
            followRedirects = false
            engine {
                protocolVersion = java.net.http.HttpClient.Version.HTTP_1_1
                config { sslContext(sslContext) }
            }
        }.also(::record).use { client ->
            val response = client.get(url)
            check(response.status == HttpStatusCode.Found) { "the authorization endpoint answered ${response.status}" }
            requireNotNull(response.headers[HttpHeaders.Location]) { "a redirect without Location" }
        }

    private fun record(client: HttpClient) {
        client.plugin(HttpSend).intercept { request ->
            val call = execute(request)
            val members = when (val body = request.body) {
                is TextContent -> runCatching { (lenient.parseToJsonElement(body.text) as? JsonObject)?.keys?.sorted() }
                    .getOrNull()
                is FormDataContent -> body.formData.names().sorted()
                else -> null
            }
            exchanges.add(
                mapOf(
                    "method" to request.method.value,
                    "path" to call.request.url.encodedPath,
                    "status" to call.response.status.value,
                    "dpop" to (call.request.headers["DPoP"] != null),
                    "authorization" to call.request.headers["Authorization"]?.substringBefore(' '),
                    "body_members" to members,
                ),
            )
            call
        }
    }
}
