// Test-only bridge: OpenID4VCI 1.0 `di_vp` key proofs (Appendix F.2) made by Digital Bazaar's Data Integrity
// libraries (@digitalbazaar/vc, @digitalbazaar/data-integrity with @digitalbazaar/eddsa-rdfc-2022-cryptosuite, keys
// from @digitalbazaar/ed25519-multikey), driven by tests/interop/test_oid4vci_interop.py. Never part of the product.
//
// stdin: {"challenge": "<c_nonce>", "domain": "<Credential Issuer identifier>", "count": 1}
// For each of "count" fresh Ed25519 holder keys (did:key), the library makes an unsigned presentation with that
// holder and signs it (proofPurpose authentication, the challenge and domain given, cryptosuite eddsa-rdfc-2022).
// Contexts come from @digitalbazaar/credentials-context (VC 2.0); nothing is fetched.
// stdout: {"proofs": [<presentation>...], "holders": ["did:key:…"...]}; any failure: {"error": {"name", "message"}}.
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022CryptoSuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { contexts } from '@digitalbazaar/credentials-context'

async function documentLoader(url) {
  const document = contexts.get(url)
  if (!document) throw new Error(`context not held here: ${url}`)
  return { contextUrl: null, documentUrl: url, document }
}

async function present(challenge, domain) {
  const key = await Ed25519Multikey.generate()
  const did = `did:key:${key.publicKeyMultibase}`
  key.controller = did
  key.id = `${did}#${key.publicKeyMultibase}`
  const presentation = vc.createPresentation({ holder: did, version: 2.0 })
  const suite = new DataIntegrityProof({ signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite })
  const signed = await vc.signPresentation({ presentation, suite, challenge, domain, documentLoader })
  return { signed, did }
}

async function main() {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const request = JSON.parse(input)
  const made = []
  for (let i = 0; i < (request.count ?? 1); i++) made.push(await present(request.challenge, request.domain))
  return { proofs: made.map((m) => m.signed), holders: made.map((m) => m.did) }
}

main().then(
  (answer) => process.stdout.write(JSON.stringify(answer)),
  (error) => process.stdout.write(JSON.stringify({ error: { name: error?.constructor?.name ?? 'Error',
    message: String(error?.message ?? error).slice(0, 2000) } })),
)
