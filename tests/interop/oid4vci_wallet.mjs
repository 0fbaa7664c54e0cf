// Test-only bridge: an independent OpenID4VCI 1.0 wallet, the OpenWallet Foundation's @openid4vc/openid4vci
// client (oid4vc-ts, the library behind Credo's wallets), driven by tests/interop/test_oid4vci_interop.py.
// Never part of the product.
//
// stdin: {"offer": "openid-credential-offer://…", "flow": "pre-authorized_code" | "authorization_code",
//         "tx_code": "…"?, "configuration": "…"?, "proofs": 1, "dpop": true, "notify": "credential_accepted"?,
//         "redeem_twice": false, "login_account": "…"?, "holder": "jwk" | "did:key" | "did:jwk",
//         "client_attestation": "<wallet attestation JWT>"?, "instance_private_jwk": {…}? (its cnf key),
//         "key_attestation": {"provider_private_jwk": {…}, "provider_x5c": [...], "proof_type": "jwt" | "attestation",
//                             "keys": 2, "key_storage": [...]}?}
// With "key_attestation" the library signs a key attestation (OpenID4VCI Appendix D) as the wallet provider (x5c
// signer) for "keys" new holder keys, with the c_nonce, then either carries it in one jwt key proof's
// key_attestation header (signed by the first key) or sends it as the attestation proof type.
// With "client_attestation" the library authenticates at PAR and token endpoints by attest_jwt_client_auth: the
// attestation and a fresh PoP signed by the instance key in the OAuth-Client-Attestation(-PoP) headers.
// With "holder": "did:key" each key proof names its key by kid, a did:key DID URL (the library's `did` signer;
// the P-256 did:key is made here from the JWK: multicodec p256-pub, compressed point, base58btc); with "did:jwk", by
// a did:jwk DID URL (the did:jwk method specification: "did:jwk:" + base64url of the JWK's JSON, then "#0").
// The authorization code flow is the library's: PAR with PKCE S256 and the offer's issuer_state, then the
// authorization endpoint (its redirect read, not followed), the response's `iss` checked, then the token; with
// "dpop", the pushed request carries a DPoP proof too, so the code is bound to the key the token request proves.
// With "login_account", the issuer signs the learner in at its OpenID Connect provider (tests/interop/
// oidc_provider.mjs): the bridge plays the learner's browser (cookies kept for the provider) and signs that
// account in, until the issuer redirects to the wallet; the library then reads that redirect as before.
// With "metadata_anchor_pem" the wallet asks for signed Credential Issuer Metadata (OpenID4VCI §12.2.3; the bridge
// adds the Accept header the library does not send) and the library takes the application/jwt answer through this
// bridge's verifyJwt callback, which trusts an x5c chain only when its last certificate is issued by that CA (node's
// X509Certificate) and the JWS verifies with the leaf's key (jose); the library checks typ, sub, iat and exp.
// stdout: {"configuration", "token_type", "credentials": [...], "holder_jwks": [...], "holder_dids": [DID URLs
//          the key proofs named their keys by, with "holder": "did:…"], "notification_id",
//          "notified", "second_redemption_error", "metadata_signed", "metadata_sub"};
// any failure: {"error": {"name", "message", "oauth_error"}}.
// The issuer's CA reaches node's fetch through NODE_EXTRA_CA_CERTS (set by the Python side).
import crypto from 'node:crypto'
import {
  authorizationCodeGrantIdentifier,
  clientAuthenticationClientAttestationJwt,
  clientAuthenticationNone,
  preAuthorizedCodeGrantIdentifier,
} from '@openid4vc/oauth2'
import { Openid4vciClient, createKeyAttestationJwt } from '@openid4vc/openid4vci'
import * as jose from 'jose'

const CLIENT_ID = 'oid4vc-ts-interop-wallet'
const REDIRECT_URI = 'http://127.0.0.1/oid4vc-ts-callback'
const privateKeys = new Map() // JWK thumbprint of a public key, a did:key DID URL or an x5c leaf -> private key

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function base58btc(bytes) {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'))
  let out = ''
  while (n > 0n) { out = BASE58[Number(n % 58n)] + out; n /= 58n }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out }
  return 'z' + out
}

// The did:key DID URL of a P-256 public JWK (registers its private key under that URL for signJwt).
async function didKeyUrl(publicJwk) {
  const x = Buffer.from(publicJwk.x, 'base64url')
  const y = Buffer.from(publicJwk.y, 'base64url')
  const multikey = base58btc(Buffer.concat([Buffer.from([0x80, 0x24, (y[y.length - 1] & 1) ? 3 : 2]), x]))
  const url = `did:key:${multikey}#${multikey}`
  privateKeys.set(url, privateKeys.get(await jose.calculateJwkThumbprint(publicJwk)))
  return url
}

// The did:jwk DID URL of a public JWK (registers its private key under that URL for signJwt).
async function didJwkUrl(publicJwk) {
  const url = `did:jwk:${Buffer.from(JSON.stringify(publicJwk)).toString('base64url')}#0`
  privateKeys.set(url, privateKeys.get(await jose.calculateJwkThumbprint(publicJwk)))
  return url
}

async function newKey() {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true })
  const jwk = await jose.exportJWK(publicKey)
  privateKeys.set(await jose.calculateJwkThumbprint(jwk), privateKey)
  return jwk
}

const callbacks = {
  fetch,
  generateRandom: (bytes) => crypto.randomBytes(bytes),
  hash: (data, alg) => crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  clientAuthentication: clientAuthenticationNone({ clientId: CLIENT_ID }),
  signJwt: async (signer, { header, payload }) => {
    const lookup = { did: () => signer.didUrl, x5c: () => signer.x5c?.[0],
                     jwk: () => jose.calculateJwkThumbprint(signer.publicJwk) }[signer.method]
    if (!lookup) throw new Error(`signer method ${signer.method} not used here`)
    const key = privateKeys.get(await lookup())
    if (!key) throw new Error('no private key for this public key')
    const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(key)
    return signer.method === 'jwk' ? { jwt, signerJwk: signer.publicJwk } : { jwt }
  },
}

// A verifyJwt callback trusting x5c chains to one CA (PEM): each certificate issued by the next, the last by the
// CA, all within their validity; then the JWS signature by the leaf's key.
function x5cVerifier(anchorPem) {
  const anchor = new crypto.X509Certificate(anchorPem)
  return async (signer, { compact }) => {
    if (signer.method !== 'x5c') return { verified: false }
    const chain = signer.x5c.map((der) => new crypto.X509Certificate(Buffer.from(der, 'base64')))
    const now = new Date()
    const inTime = (c) => new Date(c.validFrom) <= now && now <= new Date(c.validTo)
    const linked = chain.every((c, i) => inTime(c) && (i + 1 < chain.length
      ? c.checkIssued(chain[i + 1]) && c.verify(chain[i + 1].publicKey)
      : c.checkIssued(anchor) && c.verify(anchor.publicKey)))
    if (!linked) return { verified: false }
    try {
      await jose.compactVerify(compact, chain[0].publicKey)
    } catch {
      return { verified: false }
    }
    return { verified: true, signerJwk: await jose.exportJWK(chain[0].publicKey) }
  }
}

function describe(error) {
  const response = error?.response?.credentialErrorResponseResult?.data ?? error?.response?.body
    ?? error?.errorResponse ?? error?.credentialErrorResponseResult?.data
  return {
    name: error?.constructor?.name ?? 'Error',
    message: String(error?.message ?? error).slice(0, 2000),
    oauth_error: error?.errorResponse?.error ?? response?.error ?? null,
  }
}

let loginAccount = null

// The learner's browser at the login provider: follow its redirects (its cookies kept), sign `account` in on its
// login page, and come back through the issuer's callback: the issuer's redirect to the wallet.
async function signIn(url, account) {
  const provider = new URL(url).origin
  const cookies = new Map()
  for (let step = 0; step < 12; step++) {
    const atProvider = new URL(url).origin === provider
    const headers = atProvider && cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}
    const answer = await fetch(url, { redirect: 'manual', headers })
    if (atProvider) {
      for (const line of answer.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const at = pair.indexOf('=')
        cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1))
      }
    }
    const next = answer.headers.get('location')
    if (!next) throw new Error(`the sign-in stopped at ${new URL(url).pathname} (${answer.status})`)
    const target = new URL(next, url)
    if (!atProvider) return target.toString() // the issuer's callback answered: this is the wallet's redirect
    if (target.origin === provider && /^\/interaction\/[^/]+$/.test(target.pathname)) {
      target.pathname += '/login'
      target.searchParams.set('account', account)
    }
    url = target.toString()
  }
  throw new Error('the sign-in redirected in circles')
}

async function authorizationCodeToken(client, offer, issuerMetadata, dpop) {
  const { authorizationRequestUrl, pkce } = await client.createAuthorizationRequestUrlFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    dpop, // a DPoP proof with the pushed request binds the code to the key (RFC 9449 §10.1)
  })
  const authorized = await fetch(authorizationRequestUrl, { redirect: 'manual' })
  let location = authorized.headers.get('location')
  if (authorized.status !== 302 || !location) throw new Error(`authorization endpoint answered ${authorized.status}`)
  if (loginAccount) location = await signIn(location, loginAccount)
  const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({
    url: location,
    authorizationServerMetadata: issuerMetadata.authorizationServers[0],
  })
  if (response.error) throw Object.assign(new Error(`authorization refused: ${response.error}`), {
    errorResponse: response,
  })
  return client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    authorizationCode: response.code,
    pkceCodeVerifier: pkce?.codeVerifier,
    redirectUri: REDIRECT_URI,
    dpop,
  })
}

async function redeem(client, request, offer, issuerMetadata, configuration) {
  const dpopJwk = request.dpop ? await newKey() : undefined
  const dpopSigner = dpopJwk ? { signer: { method: 'jwk', alg: 'ES256', publicJwk: dpopJwk } } : undefined
  const { accessTokenResponse, dpop } = request.flow === 'authorization_code'
    ? await authorizationCodeToken(client, offer, issuerMetadata, dpopSigner)
    : await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer: offer,
        issuerMetadata,
        txCode: request.tx_code ?? undefined,
        dpop: dpopSigner,
      })
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
  const holderJwks = []
  const holderDids = []
  const jwts = []
  let proofs = { jwt: jwts }
  if (request.key_attestation) {
    const wanted = request.key_attestation
    const provider = await jose.importJWK(wanted.provider_private_jwk, 'ES256')
    privateKeys.set(wanted.provider_x5c[0], provider)
    for (let i = 0; i < (wanted.keys ?? 1); i++) holderJwks.push(await newKey())
    const asAttestation = wanted.proof_type === 'attestation'
    const keyAttestationJwt = await createKeyAttestationJwt({
      callbacks,
      signer: { method: 'x5c', alg: 'ES256', x5c: wanted.provider_x5c },
      attestedKeys: holderJwks,
      nonce,
      expiresAt: new Date(Date.now() + 3600 * 1000),
      keyStorage: wanted.key_storage ?? ['iso_18045_high'],
      userAuthentication: ['iso_18045_high'],
      use: asAttestation ? 'proof_type.attestation' : 'proof_type.jwt',
    })
    if (asAttestation) {
      proofs = { attestation: [keyAttestationJwt] }
    } else {
      const { jwt } = await client.createCredentialRequestJwtProof({
        credentialConfigurationId: configuration,
        issuerMetadata,
        signer: { method: 'jwk', alg: 'ES256', publicJwk: holderJwks[0] },
        nonce,
        keyAttestationJwt,
      })
      jwts.push(jwt)
    }
  }
  for (let i = 0; i < (request.key_attestation ? 0 : (request.proofs ?? 1)); i++) {
    const publicJwk = await newKey()
    holderJwks.push(publicJwk)
    let signer = { method: 'jwk', alg: 'ES256', publicJwk }
    if (request.holder === 'did:key' || request.holder === 'did:jwk') {
      const didUrl = await (request.holder === 'did:key' ? didKeyUrl : didJwkUrl)(publicJwk)
      holderDids.push(didUrl)
      signer = { method: 'did', alg: 'ES256', didUrl }
    }
    const { jwt } = await client.createCredentialRequestJwtProof({
      credentialConfigurationId: configuration,
      issuerMetadata,
      signer,
      nonce,
    })
    jwts.push(jwt)
  }
  const { credentialResponse, dpop: dpopAfter } = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configuration,
    dpop,
    proofs,
  })
  let notified = null
  if (request.notify && credentialResponse.notification_id) {
    const sent = await client.sendNotification({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      dpop: dpopAfter ?? dpop,
      notification: { notificationId: credentialResponse.notification_id, event: request.notify },
    })
    notified = sent.response.status
  }
  return {
    token_type: accessTokenResponse.token_type,
    credentials: (credentialResponse.credentials ?? []).map((c) => c.credential),
    holder_jwks: holderJwks,
    holder_dids: holderDids,
    notification_id: credentialResponse.notification_id ?? null,
    notified,
  }
}

async function main() {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const request = JSON.parse(input)
  loginAccount = request.login_account ?? null
  let clientCallbacks = callbacks
  if (request.metadata_anchor_pem) { // the library reads a signed answer but sends no Accept: say it (§12.2.2)
    const asking = (url, init = {}) => String(url).includes('/.well-known/openid-credential-issuer')
      ? fetch(url, { ...init, headers: { ...(init.headers ?? {}), accept: 'application/jwt, application/json;q=0.9' } })
      : fetch(url, init)
    clientCallbacks = { ...callbacks, fetch: asking, verifyJwt: x5cVerifier(request.metadata_anchor_pem) }
  }
  if (request.client_attestation) { // wallet attestation (attest_jwt_client_auth): the library signs each PoP
    const instance = await jose.importJWK(request.instance_private_jwk, 'ES256')
    const { d, ...instancePublic } = request.instance_private_jwk
    privateKeys.set(await jose.calculateJwkThumbprint(instancePublic), instance)
    clientCallbacks = { ...clientCallbacks, clientAuthentication: clientAuthenticationClientAttestationJwt({
      clientAttestationJwt: request.client_attestation, callbacks }) }
  }
  const client = new Openid4vciClient({ callbacks: clientCallbacks })
  const offer = await client.resolveCredentialOffer(request.offer)
  const grant = request.flow === 'authorization_code' ? authorizationCodeGrantIdentifier
    : preAuthorizedCodeGrantIdentifier
  if (!offer.grants?.[grant]) throw new Error(`the offer has no ${grant} grant`)
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)
  const configuration = request.configuration ?? offer.credential_configuration_ids[0]
  const signed = issuerMetadata.signedCredentialIssuer
  const answer = { configuration, offered: offer.credential_configuration_ids,
                   metadata_signed: Boolean(signed), metadata_sub: signed?.jwt?.payload?.sub ?? null,
                   ...(await redeem(client, request, offer, issuerMetadata, configuration)) }
  if (request.redeem_twice) {
    try {
      await redeem(client, request, offer, issuerMetadata, configuration)
      answer.second_redemption_error = null
    } catch (error) {
      answer.second_redemption_error = describe(error)
    }
  }
  return answer
}

main().then(
  (answer) => process.stdout.write(JSON.stringify(answer)),
  (error) => process.stdout.write(JSON.stringify({ error: describe(error) })),
)
