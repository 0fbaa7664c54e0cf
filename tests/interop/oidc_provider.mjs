// Test-only: an independent OpenID Connect provider (panva's oidc-provider, the certified Node.js provider) standing
// in for the platform's learner login, so the issuer's sign-in is tested against an implementation it was not
// written with. Never part of the product.
//
// Protocol (one JSON object per line): the provider listens on 127.0.0.1, port 0, and prints {"issuer"}. The test
// then writes {"client_id", "client_secret", "redirect_uri"} (the issuer's callback is known only once the issuer
// has its port) and the provider prints {"ready": true}. Until then every request is answered 503.
//
// Learners: any e-mail address is an account; its claims are sub (the address), email and email_verified.
// The login page is replaced by two test routes that the "browser" of the test calls with the provider's cookies:
//   GET /interaction/<uid>/login?account=<email>   signs that learner in and grants openid + email;
//   GET /interaction/<uid>/refuse                  the learner refuses (access_denied to the client).
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import readline from 'node:readline';
import Provider from 'oidc-provider';

let handler = (req, res) => { res.statusCode = 503; res.end('not configured yet'); };
const server = http.createServer((req, res) => handler(req, res));
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(JSON.stringify({ issuer }) + '\n');
  const lines = readline.createInterface({ input: process.stdin });
  lines.once('line', (line) => configure(issuer, JSON.parse(line)));
  lines.on('close', () => process.exit(0));
});

function configure(issuer, { client_id, client_secret, redirect_uri }) {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [{
      client_id, client_secret, redirect_uris: [redirect_uri], grant_types: ['authorization_code'],
      response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: process.env.ID_TOKEN_ALG || 'ES256',
    }],
    jwks: { keys: [{ ...rsa, kid: 'rsa-1', use: 'sig', alg: 'RS256' }, { ...ec, kid: 'ec-1', use: 'sig', alg: 'ES256' }] },
    cookies: { keys: ['test-only-cookie-key-' + Math.random()] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // ID tokens carry the e-mail claims even though an access token is issued too
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: id, email_verified: !id.startsWith('unverified') }),
    }),
    pkce: { required: () => true },
  });
  const callback = provider.callback();
  handler = async (req, res) => {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([^/]+)\/(login|refuse)$/);
    if (!match) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (match[2] === 'refuse') {
        return await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'refused' },
          { mergeWithLastSubmission: false });
      }
      const accountId = url.searchParams.get('account');
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope('openid email');
      const grantId = await grant.save();
      return await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } },
        { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 400;
      res.end(String(err));
    }
  };
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
}
