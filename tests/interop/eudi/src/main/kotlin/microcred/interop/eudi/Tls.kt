// Test-only (tests/interop/test_oid4vci_eudi.py): the TLS trust of the bridge's HTTP client.
package microcred.interop.eudi

import java.io.File
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import javax.net.ssl.SSLContext
import javax.net.ssl.TrustManagerFactory

internal object Tls {
    /**
     * An SSLContext whose only trust anchors are the certificates of the PEM file [caFile] (the platform's test CA):
     * the JDK's PKIX validation and the HTTP client's host name check stay as they are, nothing else is trusted.
     */
    fun trustingOnly(caFile: String): SSLContext {
        val certificates = File(caFile).inputStream().use { pem ->
            CertificateFactory.getInstance("X.509").generateCertificates(pem).map { it as X509Certificate }
        }
        require(certificates.isNotEmpty()) { "no certificate in $caFile" }
        val anchors = KeyStore.getInstance(KeyStore.getDefaultType()).apply {
            load(null, null)
            certificates.forEachIndexed { n, certificate -> setCertificateEntry("platform-ca-$n", certificate) }
        }
        val trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(anchors) }
        return SSLContext.getInstance("TLS").apply { init(null, trust.trustManagers, null) }
    }
}
