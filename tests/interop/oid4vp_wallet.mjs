// Test-only bridge: an independent OpenID4VP 1.0 wallet, the OpenWallet Foundation's @openid4vc/openid4vp client
// (oid4vc-ts), presenting an SD-JWT VC made with @sd-jwt/sd-jwt-vc, driven by tests/interop/test_oid4vp_interop.py.
// Never part of the product.
//
// stdin: {"link": "openid4vp://?client_id=…&request_uri=…", "ca_pem": "…" (the request signer's trust anchor),
//         "credential": "<SD-JWT VC issued to the holder>", "holder_private_jwk": {…}}
// The library parses the link, fetches the signed request object (JAR), checks its x5c signature (through the
// callbacks below) and the client identifier (x509_san_dns, or x509_hash: the leaf's SHA-256), and builds (for direct_post.jwt: encrypts) and posts the
// response. The wallet discloses exactly the claims the DCQL query names (the first path element of each).
// stdout: {"client_id", "response_mode", "nonce", "disclosed", "status", "body", "calls"}; any failure:
// {"error": {…}}.
// Digital Credentials API (OpenID4VP Appendix A): with "dc_api": {"protocol", "data"} (what the page passes to
// navigator.credentials.get) and "origin" (the page's, which the browser would give the wallet) instead of "link",
// the library resolves the request for that origin (for a signed request: the JWS, its x5c, and that the origin is
// one of its expected_origins), the Key Binding JWT names "origin:" + the origin as its aud (A.4: "even for signed
// requests"; the library's own effective client id for a signed request is its client_id, so the bridge writes
// the audience itself, from the spec), and the answer the wallet would return through the browser is printed as
// "dc_api_answer" (encrypted for dc_api.jwt), not posted: the page posts it.
import crypto, { X509Certificate } from 'node:crypto'
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs'
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'
import { setGlobalConfig } from '@openid4vc/oauth2'
import { Openid4vpClient } from '@openid4vc/openid4vp'
import * as jose from 'jose'

// The gateway under test listens on plain HTTP on a loopback port (its deployments sit behind TLS); the library
// refuses http:// URLs unless told otherwise.
setGlobalConfig({ allowInsecureUrls: true })

function certificate(base64) {
  return new X509Certificate(Buffer.from(base64, 'base64'))
}

// Every HTTP call the library makes, as [method, url] (a test checks the request object was POSTed for
// request_uri_method=post).
const calls = []

function callbacks(anchor) {
  return {
    fetch: (url, init) => {
      calls.push([(init?.method ?? 'GET').toUpperCase(), String(url)])
      return fetch(url, init)
    },
    generateRandom: (bytes) => crypto.randomBytes(bytes),
    hash: (data, alg) => crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    // The request object's x5c: each certificate signed by the next, the last by the trust anchor; then the JWS
    // with the leaf's key.
    verifyJwt: async (signer, { compact }) => {
      if (signer.method !== 'x5c') return { verified: false }
      const chain = signer.x5c.map(certificate)
      const linked = chain.every((cert, i) => cert.verify((chain[i + 1] ?? anchor).publicKey))
      if (!linked) return { verified: false }
      try {
        await jose.compactVerify(compact, chain[0].publicKey)
      } catch {
        return { verified: false }
      }
      return { verified: true, signerJwk: chain[0].publicKey.export({ format: 'jwk' }) }
    },
    getX509CertificateMetadata: (base64) => {
      const names = (certificate(base64).subjectAltName ?? '').split(', ')
      return {
        sanDnsNames: names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
        sanUriNames: names.filter((n) => n.startsWith('URI:')).map((n) => n.slice(4)),
      }
    },
    encryptJwe: async (encryptor, payload) => {
      const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg)
      const header = { alg: encryptor.alg, enc: encryptor.enc, ...(encryptor.publicJwk.kid ? { kid: encryptor.publicJwk.kid } : {}) }
      const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(payload)).setProtectedHeader(header).encrypt(key)
      return { jwe, encryptionJwk: encryptor.publicJwk }
    },
  }
}

async function main() {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const request = JSON.parse(input)
  const client = new Openid4vpClient({ callbacks: callbacks(new X509Certificate(request.ca_pem)) })
  const dcApi = request.dc_api ?? null
  if (dcApi && !['openid4vp-v1-signed', 'openid4vp-v1-unsigned'].includes(dcApi.protocol)) {
    throw new Error(`protocol ${dcApi.protocol} is not an OpenID4VP 1.0 DC API protocol`)
  }
  const parsed = dcApi ? null : client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: request.link })
  const resolved = await client.resolveOpenId4vpAuthorizationRequest(dcApi
    ? { authorizationRequestPayload: dcApi.data, origin: request.origin }
    : { authorizationRequestPayload: parsed.params })
  const payload = resolved.authorizationRequestPayload
  const [query] = resolved.dcql.query.credentials
  const frame = Object.fromEntries(query.claims.map((claim) => [claim.path[0], true]))
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(request.holder_private_jwk),
    kbSignAlg: 'ES256',
  })
  const presentation = await sdjwt.present(request.credential, frame, {
    kb: { payload: { iat: Math.floor(Date.now() / 1000), nonce: payload.nonce,
                     aud: dcApi ? `origin:${request.origin}` : resolved.client.original.clientId } },
  })
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: { vp_token: { [query.id]: [presentation] } },
    origin: dcApi ? request.origin : undefined,
    jarm: payload.response_mode === 'direct_post.jwt' || payload.response_mode === 'dc_api.jwt' ? {
      encryption: { nonce: payload.nonce },
      serverMetadata: {
        authorization_signing_alg_values_supported: ['ES256'],
        authorization_encryption_alg_values_supported: ['ECDH-ES'],
        authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
      },
    } : undefined,
  })
  if (dcApi) {
    return {
      client_id: resolved.client.original.clientId ?? null,
      client_prefix: resolved.client.prefix,
      effective_client_id: resolved.client.effective,
      response_mode: payload.response_mode,
      expected_origins: payload.expected_origins ?? null,
      encrypted: Boolean(response.jarm?.responseJwt),
      nonce: payload.nonce,
      disclosed: Object.keys(frame),
      dc_api_answer: response.jarm ? { response: response.jarm.responseJwt } : response.authorizationResponsePayload,
    }
  }
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: response.authorizationResponsePayload,
    jarm: response.jarm,
  })
  return {
    client_id: resolved.client.original.clientId,
    client_prefix: resolved.client.prefix,
    response_mode: payload.response_mode,
    encrypted: Boolean(response.jarm?.responseJwt),
    nonce: payload.nonce,
    disclosed: Object.keys(frame),
    status: submitted.response.status,
    body: await submitted.response.text(),
    calls,
  }
}

main().then(
  (answer) => process.stdout.write(JSON.stringify(answer)),
  (error) => process.stdout.write(JSON.stringify({ error: { name: error?.constructor?.name ?? 'Error',
    message: String(error?.message ?? error).slice(0, 2000), oauth_error: error?.errorResponse?.error ?? null } })),
)
