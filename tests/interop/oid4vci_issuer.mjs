// Test-only: an independent OpenID4VCI 1.0 Credential Issuer built on the OpenWallet Foundation's oid4vc-ts
// (@openid4vc/openid4vci's Openid4vciIssuer, @openid4vc/oauth2's authorization and resource servers: the
// libraries behind Credo's issuers) and @sd-jwt/sd-jwt-vc, so our wallet is tested against an issuer it was not
// written with (tests/interop/test_wallet_independent_issuer.py). Never part of the product.
//
// What the libraries do: the credential offer (by reference), the issuer metadata's validation, the token
// request's parsing and checks (pre-authorized code, DPoP proof), the DPoP-bound JWT access token, the resource
// server's check of each request's token and DPoP proof (with `ath`), the credential and deferred requests'
// parsing, the key proof's check (`aud`, `nonce`), the credential, deferred and nonce responses, the
// WWW-Authenticate challenge; @sd-jwt signs the SD-JWT VC (x5c header) bound to the proved key.
// What this file adds: HTTPS routing, the codes and nonces it hands out, and three behaviours a HAIP issuer may
// have: DPoP nonces required at both servers (RFC 9449 §8, §9), credentials deferred for a while (§9), and an
// authorization server of its own apart from the Credential Issuer (§12.2.4 authorization_servers, as EUDI
// issuers with Keycloak have): with "separate_as", the server answers as the authorization server when called as
// https://127.0.0.1:<port> and as the Credential Issuer when called as https://localhost:<port>.
//
// Protocol (one JSON object per line). First line in: {"tls_cert_pem", "tls_key_pem", "x5c", "issuer_private_jwk",
// "claims", "disclosure_frame", "require_dpop_nonce", "separate_as", "encryption"}; out: {"credential_issuer"} once listening
// (127.0.0.1, port 0; named localhost, as the TLS certificate). Then in: {"op": "offer", "defer_seconds"} -> out: {"link"};
// {"op": "log"} -> out: {"events": [...]} (what happened, in order: nonce refusals, deferrals, notifications).
import crypto from 'node:crypto'
import https from 'node:https'
import readline from 'node:readline'
import {
  Oauth2AuthorizationServer,
  Oauth2ErrorCodes,
  Oauth2ResourceServer,
  Oauth2ResourceUnauthorizedError,
  Oauth2ServerErrorResponseError,
  clientAuthenticationNone,
  preAuthorizedCodeGrantIdentifier,
} from '@openid4vc/oauth2'
import { Openid4vciClient, Openid4vciIssuer } from '@openid4vc/openid4vci'
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs'
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'
import * as jose from 'jose'

const CONFIGURATION = 'eu-micro-credential-oid4vc-ts'
const privateKeys = new Map() // JWK thumbprint -> private CryptoKey (the access token signer)
const events = []
let encryptionKey = null // with "encryption": this issuer's ECDH-ES key pair (privateKey, publicJwk)

const callbacks = {
  fetch,
  generateRandom: (bytes) => crypto.randomBytes(bytes),
  hash: (data, alg) => crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  clientAuthentication: clientAuthenticationNone({ clientId: 'any' }),
  signJwt: async (signer, { header, payload }) => {
    const key = privateKeys.get(await jose.calculateJwkThumbprint(signer.publicJwk))
    return { jwt: await new jose.SignJWT(payload).setProtectedHeader(header).sign(key), signerJwk: signer.publicJwk }
  },
  verifyJwt: async (signer, { compact }) => {
    if (signer.method !== 'jwk') return { verified: false }
    try {
      await jose.compactVerify(compact, await jose.importJWK(signer.publicJwk, signer.alg))
      return { verified: true, signerJwk: signer.publicJwk }
    } catch {
      return { verified: false, signerJwk: signer.publicJwk }
    }
  },
}

const issuer = new Openid4vciIssuer({ callbacks })
const authorizationServer = new Oauth2AuthorizationServer({ callbacks })
const resourceServer = new Oauth2ResourceServer({ callbacks })

let base, asBase, config, metadata, tokenSigner
const codes = new Map() // pre-authorized code -> {deferUntil}
const tokens = new Map() // access token -> {deferUntil}
const cNonces = new Set()
const transactions = new Map() // transaction_id -> {jwk, token, deferUntil}
const dpopNonces = { authorization: crypto.randomBytes(16).toString('base64url'),
                     resource: crypto.randomBytes(16).toString('base64url') }

const json = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
  res.end(body === undefined ? '' : JSON.stringify(body))
}

async function body(req) {
  let text = ''
  for await (const chunk of req) text += chunk
  return text
}

function requestLike(req) {
  return { method: req.method, url: `https://${req.headers.host}${req.url}`, headers: new Headers(req.headers) }
}

// RFC 9449 §8/§9: a proof without the server's current nonce is refused, with the nonce to use.
async function dpopNonceMissing(req, res, server, accessToken) {
  if (!config.require_dpop_nonce) return false
  const dpopJwt = req.headers.dpop
  try {
    await authorizationServer.verifyDpopJwt({ dpopJwt, request: requestLike(req), expectedNonce: dpopNonces[server],
                                              accessToken, allowedSigningAlgs: ['ES256'] })
    return false
  } catch (error) {
    if (!String(error?.message ?? '').toLowerCase().includes('nonce')) throw error
  }
  events.push({ event: 'dpop_nonce_required', server, path: req.url })
  const headers = { 'dpop-nonce': dpopNonces[server] }
  if (server === 'authorization') {
    json(res, 400, { error: Oauth2ErrorCodes.UseDpopNonce, error_description: 'DPoP nonce required' }, headers)
  } else {
    const challenge = new Oauth2ResourceUnauthorizedError('nonce', {
      scheme: 'DPoP', error: Oauth2ErrorCodes.UseDpopNonce, error_description: 'Resource server requires nonce, in DPoP proof' })
    json(res, 401, undefined, { ...headers, 'www-authenticate': challenge.toHeaderValue() })
  }
  return true
}

async function token(req, res) {
  if (await dpopNonceMissing(req, res, 'authorization')) return
  const form = Object.fromEntries(new URLSearchParams(await body(req)))
  const parsed = authorizationServer.parseAccessTokenRequest({ request: requestLike(req), accessTokenRequest: form })
  const code = parsed.grant.preAuthorizedCode
  const offer = codes.get(code)
  if (parsed.grant.grantType !== preAuthorizedCodeGrantIdentifier || !offer) {
    return json(res, 400, { error: 'invalid_grant' })
  }
  const verified = await authorizationServer.verifyPreAuthorizedCodeAccessTokenRequest({
    authorizationServerMetadata: metadata.authorizationServers[0], grant: parsed.grant,
    accessTokenRequest: parsed.accessTokenRequest, request: requestLike(req), expectedPreAuthorizedCode: code,
    dpop: { required: true, jwt: parsed.dpop?.jwt, allowedSigningAlgs: ['ES256'] },
  })
  codes.delete(code) // single use
  const answer = await authorizationServer.createAccessTokenResponse({
    authorizationServer: asBase, audience: base, subject: code, expiresInSeconds: 600, signer: tokenSigner,
    dpop: verified.dpop ? { jwk: verified.dpop.jwk } : undefined,
  })
  tokens.set(answer.access_token, offer)
  json(res, 200, answer)
}

async function resource(req, res) {
  const verified = await resourceServer.verifyResourceRequest({
    request: requestLike(req), resourceServer: base, authorizationServers: metadata.authorizationServers,
  })
  if (await dpopNonceMissing(req, res, 'resource', verified.accessToken)) return null
  return verified
}

async function signCredential(jwk) {
  const instance = new SDJwtVcInstance({ signer: await ES256.getSigner(config.issuer_private_jwk), signAlg: 'ES256',
                                         hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt })
  const now = Math.floor(Date.now() / 1000)
  return instance.issue({ ...config.claims, iat: now, cnf: { jwk } }, config.disclosure_frame,
                        { header: { x5c: config.x5c } })
}

// Encrypted requests and responses (OpenID4VCI 1.0 §10), done with panva's jose: with "encryption" in the
// config, the metadata offers (and requires) both; a request must come as a JWE to this issuer's ECDH-ES key
// and carry credential_response_encryption, and the answer is a JWE to the key named there.
async function readRequest(req) {
  const text = await body(req)
  if (!encryptionKey) return { request: JSON.parse(text) }
  if (req.headers['content-type'] !== 'application/jwt') throw Object.assign(new Error('not encrypted'), { clear: true })
  const { plaintext, protectedHeader } = await jose.compactDecrypt(text, encryptionKey.privateKey,
    { keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ['A128GCM', 'A256GCM'] })
  if (protectedHeader.kid !== encryptionKey.publicJwk.kid) throw new Error('another kid')
  const request = JSON.parse(new TextDecoder().decode(plaintext))
  const respond = request.credential_response_encryption
  delete request.credential_response_encryption
  if (!respond?.jwk || respond.jwk.alg !== 'ECDH-ES' || !['A128GCM', 'A256GCM'].includes(respond.enc)) {
    throw Object.assign(new Error('no usable credential_response_encryption'), { clear: true })
  }
  events.push({ event: 'encrypted_request', enc: protectedHeader.enc, response_enc: respond.enc,
                wallet_kid: respond.jwk.kid ?? null })
  return { request, respond }
}

async function answer(res, status, payload, respond) {
  if (!respond) return json(res, status, payload)
  const key = await jose.importJWK(respond.jwk, 'ECDH-ES')
  const header = { alg: 'ECDH-ES', enc: respond.enc, ...(respond.jwk.kid ? { kid: respond.jwk.kid } : {}) }
  const token = await new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header).encrypt(key)
  res.writeHead(status, { 'content-type': 'application/jwt', 'cache-control': 'no-store' })
  res.end(token)
}

async function credential(req, res) {
  const verified = await resource(req, res)
  if (!verified) return
  let read
  try { read = await readRequest(req) } catch (error) {
    return json(res, 400, { error: 'invalid_encryption_parameters', error_description: String(error.message) })
  }
  const parsed = issuer.parseCredentialRequest({ issuerMetadata: metadata, credentialRequest: read.request })
  const [proof] = parsed.proofs?.jwt ?? []
  const nonce = JSON.parse(Buffer.from(proof.split('.')[1], 'base64url')).nonce
  if (!cNonces.delete(nonce)) return json(res, 400, { error: 'invalid_nonce' })
  const checked = await issuer.verifyCredentialRequestJwtProof({ issuerMetadata: metadata, jwt: proof, expectedNonce: nonce })
  const offer = tokens.get(verified.accessToken)
  if (Date.now() < offer.deferUntil) {
    const transactionId = crypto.randomBytes(24).toString('base64url')
    transactions.set(transactionId, { jwk: checked.signer.publicJwk, token: verified.accessToken, deferUntil: offer.deferUntil })
    events.push({ event: 'deferred' })
    const interval = Math.max(1, Math.ceil((offer.deferUntil - Date.now()) / 1000))
    return answer(res, 202, issuer.createCredentialResponse({ credentialRequest: parsed, transactionId, interval }),
                  read.respond)
  }
  await answer(res, 200, issuer.createCredentialResponse({
    credentialRequest: parsed, credentials: [{ credential: await signCredential(checked.signer.publicJwk) }],
    notificationId: crypto.randomBytes(16).toString('base64url'),
  }), read.respond)
}

async function deferred(req, res) {
  const verified = await resource(req, res)
  if (!verified) return
  let read
  try { read = await readRequest(req) } catch (error) {
    return json(res, 400, { error: 'invalid_encryption_parameters', error_description: String(error.message) })
  }
  const { deferredCredentialRequest } = issuer.parseDeferredCredentialRequest({ deferredCredentialRequest: read.request })
  const transaction = transactions.get(deferredCredentialRequest.transaction_id)
  if (!transaction || transaction.token !== verified.accessToken) return json(res, 400, { error: 'invalid_transaction_id' })
  if (Date.now() < transaction.deferUntil) {
    events.push({ event: 'still_pending' })
    return answer(res, 202, issuer.createDeferredCredentialResponse({
      transactionId: deferredCredentialRequest.transaction_id, interval: 1 }), read.respond)
  }
  transactions.delete(deferredCredentialRequest.transaction_id)
  events.push({ event: 'deferred_issued' })
  // §9.2 allows a notification_id beside the credentials; oid4vc-ts 0.4.6 refuses that pair (its check is the
  // reverse of its own message: "MUST NOT be defined when 'credentials' is not defined"), so it is added after
  // the library built the rest of the answer.
  await answer(res, 200, {
    ...issuer.createDeferredCredentialResponse({ credentials: [{ credential: await signCredential(transaction.jwk) }] }),
    notification_id: crypto.randomBytes(16).toString('base64url'),
  }, read.respond)
}

async function notification(req, res) {
  if (!(await resource(req, res))) return
  events.push({ event: 'notification', request: JSON.parse(await body(req)) })
  json(res, 204)
}

async function nonce(req, res) {
  const cNonce = crypto.randomBytes(24).toString('base64url')
  cNonces.add(cNonce)
  json(res, 200, issuer.createNonceResponse({ cNonce }))
}

const offers = new Map() // path -> credential offer object
const routes = {
  'GET /.well-known/openid-credential-issuer': (req, res) => json(res, 200, metadata.credentialIssuer),
  'GET /.well-known/oauth-authorization-server': (req, res) => json(res, 200, metadata.authorizationServers[0]),
  'GET /jwks': (req, res) => json(res, 200, { keys: [tokenSigner.publicJwk] }),
  'POST /token': token,
  'POST /nonce': nonce,
  'POST /credential': credential,
  'POST /deferred': deferred,
  'POST /notification': notification,
}

// The two servers' endpoints, by the host the request was sent to (one server when they are the same).
const AS_ROUTES = new Set(['GET /.well-known/oauth-authorization-server', 'GET /jwks', 'POST /token'])

async function handle(req, res) {
  const path = req.url.split('?')[0]
  const asked = `${req.method} ${path}`
  const atServer = `https://${req.headers.host}` === asBase
  const route = (asBase === base || AS_ROUTES.has(asked) === atServer) ? routes[asked] : undefined
  try {
    if (route) return await route(req, res)
    if (req.method === 'GET' && offers.has(path)) return json(res, 200, offers.get(path))
    json(res, 404, { error: 'not_found' })
  } catch (error) {
    if (error instanceof Oauth2ResourceUnauthorizedError) {
      return json(res, 401, undefined, { 'www-authenticate': error.toHeaderValue() })
    }
    if (error instanceof Oauth2ServerErrorResponseError) return json(res, error.status, error.errorResponse)
    events.push({ event: 'error', message: String(error?.message ?? error).slice(0, 500) })
    json(res, 400, { error: 'invalid_request', error_description: String(error?.message ?? error).slice(0, 200) })
  }
}

async function offer({ defer_seconds: deferSeconds = 0 }) {
  const code = crypto.randomBytes(24).toString('base64url')
  codes.set(code, { deferUntil: Date.now() + deferSeconds * 1000 })
  const path = `/offers/${crypto.randomBytes(12).toString('base64url')}`
  const created = await issuer.createCredentialOffer({
    issuerMetadata: metadata, credentialConfigurationIds: [CONFIGURATION],
    grants: { [preAuthorizedCodeGrantIdentifier]: { 'pre-authorized_code': code } }, credentialOfferUri: `${base}${path}`,
  })
  offers.set(path, created.credentialOfferObject)
  return { link: created.credentialOffer }
}

async function start(first) {
  config = first
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true })
  const publicJwk = { ...(await jose.exportJWK(publicKey)), alg: 'ES256', kid: 'as-1' }
  privateKeys.set(await jose.calculateJwkThumbprint(publicJwk), privateKey)
  tokenSigner = { method: 'jwk', publicJwk, alg: 'ES256' }
  const server = https.createServer({ cert: config.tls_cert_pem, key: config.tls_key_pem }, handle)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `https://localhost:${server.address().port}`
  asBase = config.separate_as ? `https://127.0.0.1:${server.address().port}` : base
  const credentialIssuer = issuer.createCredentialIssuerMetadata({
    credential_issuer: base, credential_endpoint: `${base}/credential`, nonce_endpoint: `${base}/nonce`,
    deferred_credential_endpoint: `${base}/deferred`, notification_endpoint: `${base}/notification`,
    ...(asBase === base ? {} : { authorization_servers: [asBase] }),
    display: [{ name: 'oid4vc-ts test issuer', locale: 'en' }],
    credential_configurations_supported: {
      [CONFIGURATION]: {
        format: 'dc+sd-jwt', vct: config.claims.vct, cryptographic_binding_methods_supported: ['jwk'],
        credential_signing_alg_values_supported: ['ES256'],
        proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
        credential_metadata: { display: [{ name: 'EU micro-credential (oid4vc-ts)', locale: 'en' }] },
      },
    },
  })
  const asMetadata = {
    issuer: asBase, token_endpoint: `${asBase}/token`, jwks_uri: `${asBase}/jwks`,
    dpop_signing_alg_values_supported: ['ES256'], 'pre-authorized_grant_anonymous_access_supported': true,
  }
  if (config.encryption) {
    const pair = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true })
    const publicJwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'enc-1', use: 'enc', alg: 'ECDH-ES' }
    encryptionKey = { privateKey: pair.privateKey, publicJwk }
  }
  // added after the library built the document: its 0.4.6 schema predates credential_request_encryption
  const published = !encryptionKey ? credentialIssuer : {
    ...credentialIssuer,
    credential_request_encryption: { jwks: { keys: [encryptionKey.publicJwk] }, enc_values_supported: ['A128GCM', 'A256GCM'],
                                     encryption_required: true },
    credential_response_encryption: { alg_values_supported: ['ECDH-ES'], enc_values_supported: ['A128GCM', 'A256GCM'],
                                      encryption_required: true },
  }
  routes['GET /.well-known/openid-credential-issuer'] = (req, res) => json(res, 200, published)
  routes['GET /.well-known/oauth-authorization-server'] = (req, res) => json(res, 200, asMetadata)
  // the library's own reading of what this server publishes (over HTTPS): the metadata every step checks against
  metadata = await new Openid4vciClient({ callbacks }).resolveIssuerMetadata(base)
  return { credential_issuer: base }
}

const lines = readline.createInterface({ input: process.stdin })
let started = false
lines.on('line', async (line) => {
  const request = JSON.parse(line)
  let answer
  try {
    if (!started) { started = true; answer = await start(request) }
    else if (request.op === 'offer') answer = await offer(request)
    else answer = { events }
  } catch (error) {
    answer = { error: String(error?.stack ?? error).slice(0, 2000) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
})
lines.on('close', () => process.exit(0))
