// A real OpenID Connect provider on loopback, for the test suite (see README.md).
//
//   node server.mjs --port 8900 --clients clients.json --users users.json [--keys jwks.json]
//
// Every option can also come from the environment: OIDC_PORT, OIDC_CLIENTS and OIDC_USERS
// (JSON text, not file names) and OIDC_KEYS (a file name). Arguments win over the environment.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

// A provider whose clock is wrong (OIDC_CLOCK_OFFSET_SECONDS, negative: behind) issues tokens
// that are already expired, or not yet valid, by the relying party's clock.
const clockOffset = Number(process.env.OIDC_CLOCK_OFFSET_SECONDS ?? 0);
if (clockOffset) {
  const realNow = Date.now;
  Date.now = () => realNow() + clockOffset * 1000;
}

// --- Configuration, read once at start ------------------------------------------------------
const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    clients: { type: 'string' },
    users: { type: 'string' },
    keys: { type: 'string' },
  },
});

function readJson(file, envName) {
  if (file) return JSON.parse(fs.readFileSync(file, 'utf8'));
  if (process.env[envName]) return JSON.parse(process.env[envName]);
  throw new Error(`give --${envName.slice(5).toLowerCase()} FILE or ${envName}='[...]'`);
}

const port = Number(args.port ?? process.env.OIDC_PORT ?? 0);
const clients = readJson(args.clients, 'OIDC_CLIENTS');
const users = readJson(args.users, 'OIDC_USERS');
const keysFile = args.keys ?? process.env.OIDC_KEYS;

if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  throw new Error(`a port (1-65535) is required, got ${args.port ?? process.env.OIDC_PORT}`);
}
const issuer = `http://127.0.0.1:${port}`;

// The signing key: kept in the --keys file when given, so a restart publishes the same JWKS.
function signingKeys() {
  if (keysFile && fs.existsSync(keysFile)) return JSON.parse(fs.readFileSync(keysFile, 'utf8'));
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
  const jwks = { keys: [jwk] };
  if (keysFile) fs.writeFileSync(keysFile, JSON.stringify(jwks), { mode: 0o600 });
  return jwks;
}

function findUser(login) {
  const wanted = String(login ?? '').trim().toLowerCase();
  if (!wanted) return undefined;
  return users.find((u) => String(u.sub).toLowerCase() === wanted || u.email?.toLowerCase() === wanted);
}

// --- Tiny HTML pages ------------------------------------------------------------------------
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function loginPage(uid, clientId, message = '') {
  return page('Test identity provider', `${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<p>Client: ${escapeHtml(clientId)}</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Username or email <input name="login" autocomplete="off" autofocus></label>
<button type="submit">Sign in</button>
</form>`);
}

// --- The provider ---------------------------------------------------------------------------
const configuration = {
  // Clients exactly as given (standard client metadata); only code flow is offered.
  clients: clients.map((c) => ({ grant_types: ['authorization_code'], response_types: ['code'], ...c })),
  // Our own key, not oidc-provider's built-in development key.
  jwks: signingKeys(),
  // Random cookie-signing keys per run: sessions live in memory and die with the process anyway.
  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
    // Own names, so they cannot collide with the app's cookies (cookies ignore the port).
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
    // Lax instead of the default SameSite=None, which browsers drop on plain http.
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  // Authorization code flow only (what a server-side relying party uses).
  responseTypes: ['code'],
  // Scopes on offer; email and profile map to the claims below.
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    // acr, amr and auth_time under openid: always in the ID token (by default only on request).
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    acr: null, amr: null, auth_time: null, iss: null, sid: null,
  },
  // Put the scope's claims (email, email_verified, names) in the ID token too, not only in userinfo.
  conformIdTokenClaims: false,
  // Advertise the acr values our users carry (discovery's acr_values_supported).
  acrValues: [...new Set(users.map((u) => u.acr).filter(Boolean))],
  // PKCE (S256 only) is accepted, and only required when the client sends a code_challenge.
  pkce: { methods: ['S256'], required: () => false },
  // Look accounts up in the users file; claims() is what the ID token and userinfo draw from.
  async findAccount(ctx, sub) {
    const user = users.find((u) => String(u.sub) === sub);
    if (!user) return undefined;
    return {
      accountId: user.sub,
      async claims() {
        const name = [user.given_name, user.family_name].filter(Boolean).join(' ');
        return {
          sub: String(user.sub),
          email: user.email,
          email_verified: Boolean(user.email_verified),
          given_name: user.given_name,
          family_name: user.family_name,
          ...(name ? { name } : {}),
        };
      },
    };
  },
  // Lifetimes in seconds, set explicitly (the defaults print a notice each).
  ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 86400, IdToken: Number(process.env.OIDC_ID_TOKEN_TTL ?? 3600), Interaction: 600, Session: 86400 },
  // Our own sign-in page (below) instead of oidc-provider's development pages.
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    // RP-initiated logout; the confirmation page submits itself (see logoutSource).
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        // Auto-confirm: the form gains logout=yes (end the whole session) and a browser
        // submits it at once. Non-browser clients post the form (oidc_provider.complete_logout).
        const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/>'
          + '<noscript><button type="submit">Sign out</button></noscript></form>');
        ctx.type = 'html';
        ctx.body = page('Signing out', `${confirmed}<script>document.forms[0].submit()</script>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
      },
    },
  },
  // Errors as a plain page that shows the error code and description (tests read them).
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`);
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.log('server_error', err));
provider.on('grant.error', (ctx, err) => console.log('grant.error', err.message, err.error_description ?? ''));

// A grant covering every scope the client asked for: this is the automatic consent.
async function grantFor(details, accountId) {
  const { params } = details;
  // Extend the session's grant for this client, unless it belongs to someone else.
  const existing = details.grantId && await provider.Grant.find(details.grantId);
  const grant = existing?.accountId === accountId
    ? existing
    : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  return grant.save();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 10000) reject(new Error('request body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

// GET /interaction/:uid shows the form; POST /interaction/:uid/login signs in and consents.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p>interaction mismatch</p>'));
  const { prompt, params, session } = details;

  // Already signed in, only the consent is missing: give it without asking.
  if (prompt.name === 'consent' && session?.accountId) {
    const grantId = await grantFor(details, session.accountId);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (action === undefined && req.method === 'GET') return send(res, 200, loginPage(uid, params.client_id));
  if (action !== '/login' || req.method !== 'POST') return send(res, 405, page('Error', '<p>method not allowed</p>'));

  const login = new URLSearchParams(await readBody(req)).get('login');
  const user = findUser(login);
  if (!user) {
    console.log(`interaction ${uid}: unknown user ${JSON.stringify(login)}`);
    return send(res, 200, loginPage(uid, params.client_id, `Unknown user: ${login ?? ''}`));
  }
  const grantId = await grantFor(details, String(user.sub));
  const result = {
    login: { accountId: String(user.sub), amr: user.amr, ...(user.acr ? { acr: user.acr } : {}) },
    consent: { grantId },
  };
  console.log(`interaction ${uid}: signed in ${user.sub}`);
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

// --- HTTP server: our interaction routes first, everything else to oidc-provider ----------------
const oidc = provider.callback();
const server = http.createServer(async (req, res) => {
  res.on('finish', () => console.log(`${req.method} ${req.url} -> ${res.statusCode}`));
  const match = /^\/interaction\/([\w-]+)(\/login)?\/?(?:\?.*)?$/.exec(req.url);
  if (!match) return oidc(req, res);
  try {
    return await interaction(req, res, match[1], match[2]);
  } catch (err) {
    // Expired or missing interaction cookie, and the like.
    console.log(`interaction error: ${err.message}`);
    return send(res, 400, page('Error', `<p>${escapeHtml(err.message)}</p>`));
  }
});

// Stop cleanly on SIGTERM/SIGINT (the Python helper sends SIGTERM).
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

server.listen(port, '127.0.0.1', () => console.log(`READY ${issuer}`));
