// Test-only bridge to the OpenWallet Foundation's SD-JWT VC library (@sd-jwt/sd-jwt-vc), an implementation
// independent of microcred.sdjwt. Reads one JSON request on stdin, writes one JSON answer on stdout.
//
//   {"op": "verify", ...}  verify a credential microcred issued: issuer signature with the x5c leaf (whose
//                          chain to "anchor_pem" and validity are checked with node:crypto), every Disclosure's
//                          digest recomputed and found in the signed payload, vct#integrity of the type
//                          metadata (SRI), the Token Status List, and the KB-JWT (nonce, aud, sd_hash).
//   {"op": "issue", ...}   issue an SD-JWT VC with the library (x5c header, cnf, status, decoys) and present
//                          it with a KB-JWT, for microcred to verify.
//
// Nothing here is product code; tests/interop/test_sdjwt_interop.py drives it.
import { X509Certificate, createHash } from "node:crypto";
import { SDJwt, SDJwtInstance } from "@sd-jwt/core";
import { ES256, digest, generateSalt } from "@sd-jwt/crypto-nodejs";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";

const b64urlJson = (segment) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));

function leafFromX5c(x5c, anchorPem, nowSeconds) {
  if (!Array.isArray(x5c) || x5c.length === 0) throw new Error("no x5c header");
  const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, "base64")));
  const anchor = new X509Certificate(anchorPem);
  const certs = [...chain, anchor];
  const now = nowSeconds * 1000;
  for (let i = 0; i < chain.length; i++) {
    const cert = certs[i], issuer = certs[i + 1];
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new Error(`x5c[${i}] is not issued by the next certificate`);
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) throw new Error(`x5c[${i}] is outside its validity`);
  }
  return chain[0];
}

const jwkOf = (cert) => cert.publicKey.export({ format: "jwk" });

function containsDigest(node, value) {
  if (Array.isArray(node)) return node.some((item) => containsDigest(item, value));
  if (node && typeof node === "object") {
    if (Array.isArray(node._sd) && node._sd.includes(value)) return true;
    if (node["..."] === value) return true;
    return Object.values(node).some((child) => containsDigest(child, value));
  }
  return false;
}

async function verify(req) {
  const [issuerJwt] = req.credential.split("~");
  const header = b64urlJson(issuerJwt.split(".")[0]);
  const leaf = leafFromX5c(header.x5c, req.anchor_pem, req.now);
  const statusVerifiers = {};
  for (const [uri, token] of Object.entries(req.status_list_tokens ?? {})) {
    const statusLeaf = leafFromX5c(b64urlJson(token.split(".")[0]).x5c, req.anchor_pem, req.now);
    statusVerifiers[uri] = await ES256.getVerifier(jwkOf(statusLeaf));
  }
  const typeMetadata = req.type_metadata ?? {};
  const instance = new SDJwtVcInstance({
    verifier: await ES256.getVerifier(jwkOf(leaf)),
    hasher: digest,
    hashAlg: "sha-256",
    kbVerifier: async (data, signature, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, signature),
    statusListFetcher: async (uri) => {
      if (!(uri in req.status_list_tokens)) throw new Error(`no status list token for ${uri}`);
      return req.status_list_tokens[uri];
    },
    statusVerifier: async (data, signature) => {
      for (const check of Object.values(statusVerifiers)) if (await check(data, signature)) return true;
      return false;
    },
    loadTypeMetadataFormat: true,
    vctFetcher: async (uri, integrity) => {
      if (!(uri in typeMetadata)) throw new Error(`unknown vct ${uri}`);
      const bytes = Buffer.from(typeMetadata[uri], "base64");
      // W3C SRI check of the bytes microcred ships. Not the library's validateIntegrity: in 0.19.0 it compares
      // a hex digest with the base64 value SRI (and SD-JWT VC section 5) prescribes, so it rejects every
      // correct integrity value.
      const [alg, expected] = String(integrity).split(/-(.*)/s);
      if (!["sha256", "sha384", "sha512"].includes(alg)) throw new Error(`unsupported integrity ${integrity}`);
      const actual = createHash(alg).update(bytes).digest("base64");
      if (actual !== expected) throw new Error(`Integrity check for ${uri} failed: ${actual} != ${expected}`);
      return JSON.parse(bytes.toString("utf8"));
    },
  });
  const options = { currentDate: req.now };
  if (req.nonce) options.keyBindingNonce = req.nonce;
  const result = await instance.verify(req.credential, options);
  if (req.aud && result.kb?.payload?.aud !== req.aud) throw new Error("KB-JWT aud mismatch");
  // each Disclosure on its own: the library recomputes its digest, which must be in the signed payload
  const decoded = await SDJwt.fromEncode(req.credential, digest);
  const signedPayload = decoded.jwt.payload;
  // a Disclosure must be referenced by the signed payload or by the value of another referenced Disclosure
  // (recursive disclosure, RFC 9901 section 4.2.6)
  const pending = [];
  for (const disclosure of decoded.disclosures ?? []) {
    pending.push({ disclosure, value: await disclosure.digest({ hasher: digest, alg: "sha-256" }) });
  }
  const reached = [signedPayload];
  const disclosures = [];
  for (let progress = true; progress && pending.length; ) {
    progress = false;
    for (const item of [...pending]) {
      if (reached.some((node) => containsDigest(node, item.value))) {
        pending.splice(pending.indexOf(item), 1);
        reached.push(item.disclosure.value);
        const { salt, key, value } = item.disclosure;
        disclosures.push({ digest: item.value, salt, key: key ?? null, value });
        progress = true;
      }
    }
  }
  if (pending.length) throw new Error(`disclosure ${pending[0].disclosure.key} is not referenced`);
  return { ok: true, claims: result.payload, disclosures, kb: result.kb?.payload ?? null,
           vct: result.typeMetadata?.mergedTypeMetadata?.vct ?? null };
}

async function issue(req) {
  const instance = new SDJwtVcInstance({
    signer: await ES256.getSigner(req.issuer_private_jwk),
    signAlg: "ES256",
    hasher: digest,
    hashAlg: "sha-256",
    saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(req.holder_private_jwk),
    kbSignAlg: "ES256",
  });
  const credential = await instance.issue(req.claims, req.disclosure_frame, { header: { x5c: req.x5c } });
  const presentation = await instance.present(credential, req.presentation_frame, {
    kb: { payload: { iat: req.now, aud: req.aud, nonce: req.nonce } },
  });
  return { ok: true, credential, presentation };
}

// {"op": "many", "issue": [{"claims", "frame"}], "verify": [credential]}: plain SD-JWTs (@sd-jwt/core's
// SDJwtInstance, typ example+sd-jwt) issued from claims and a disclosure frame and presented with every
// Disclosure; and credentials microcred issued, verified with "issuer_public_jwk" and read into claims. For the
// differential properties of tests/interop/test_sdjwt_interop.py.
async function many(req) {
  const instance = new SDJwtInstance({
    signer: await ES256.getSigner(req.issuer_private_jwk), signAlg: "ES256",
    verifier: await ES256.getVerifier(req.issuer_public_jwk),
    hasher: digest, hashAlg: "sha-256", saltGenerator: generateSalt,
  });
  const issued = [];
  for (const item of req.issue ?? []) {
    try {
      const credential = await instance.issue(item.claims, item.frame, { header: { typ: "example+sd-jwt" } });
      issued.push({ credential, claims: (await instance.verify(credential)).payload });
    } catch (error) {
      issued.push({ error: String(error?.message ?? error) });
    }
  }
  const read = [];
  for (const credential of req.verify ?? []) {
    try {
      read.push({ claims: (await instance.verify(credential)).payload });
    } catch (error) {
      read.push({ error: String(error?.message ?? error) });
    }
  }
  return { ok: true, issued, read };
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
try {
  const answer = request.op === "verify" ? await verify(request)
    : request.op === "many" ? await many(request) : await issue(request);
  process.stdout.write(JSON.stringify(answer));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
}
