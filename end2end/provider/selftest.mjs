// Self-test of the development provider: `node end2end/provider/selftest.mjs`.
//
// Starts the provider twice on 127.0.0.1 (a public client, then a confidential one), drives authorization
// code + PKCE flows over HTTP with a small cookie jar, and stops both processes. The checks cover tokens,
// step-up, refresh, logout and passkeys, with a software authenticator in place of the browser. Exits
// non-zero when a check fails. The last line reads "N passed, N failed".
// Ports: SELFTEST_OP_PORT (default 4400) and the next one. Nothing listens on the app origin: redirects to
// it are read from the Location header and not followed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { Level, Step, nextStep, requestedLevels, targetLevel } from './levels.mjs';
import { CodeCheck, DevMailbox, MAX_FAILED_ATTEMPTS, OneTimeCodes } from './one-time-codes.mjs';
import { SoftwareAuthenticator } from './software-authenticator.mjs';

const SERVER_SCRIPT = fileURLToPath(new URL('./server.mjs', import.meta.url));
const BASE_PORT = Number(process.env.SELFTEST_OP_PORT ?? 4400);
const CLIENT_ID = 'stepup-app';
const SCOPE = 'openid profile email offline_access';
const ACR_1FA_PWD = 'urn:okta:loa:1fa:pwd';
const ACR_2FA = 'urn:okta:loa:2fa:any';
const ACR_2FA_IF_POSSIBLE = 'urn:okta:loa:2fa:any:ifpossible';
const ACR_PHR = 'phr';
const STARTUP_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 10;

// ---------------------------------------------------------------------------------------------------------
// Provider process

// Children still running when this process ends (a failed check, a closed stdout pipe, Ctrl-C) are stopped
// here, so that no provider outlives the self-test.
const runningProviders = new Set();
process.on('exit', () => {
  for (const child of runningProviders) {
    child.kill('SIGTERM');
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.exit(130);
  });
}

async function startProvider({ port, appOrigin, clientSecret }) {
  const env = { ...process.env, OP_PORT: String(port), APP_ORIGIN: appOrigin };
  delete env.OP_CLIENT_SECRET;
  if (clientSecret) {
    env.OP_CLIENT_SECRET = clientSecret;
  }
  const child = spawn(process.execPath, [SERVER_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  runningProviders.add(child);
  child.once('exit', () => runningProviders.delete(child));
  const output = [];
  child.stdout.on('data', (chunk) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk) => output.push(chunk.toString()));

  const issuer = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!output.join('').includes('provider started')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`provider on port ${port} did not start:\n${output.join('')}`);
    }
    await Promise.race([once(child.stdout, 'data'), once(child, 'exit'), delayUntil(deadline)]);
  }
  return { child, issuer, appOrigin, clientSecret, output };
}

// Resolves at `deadline`, so that the start-up loop re-checks its timeout even when the child is silent.
function delayUntil(deadline) {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, deadline - Date.now())).unref();
  });
}

async function stopProvider(provider) {
  if (provider.child.exitCode !== null) {
    return provider.child.exitCode;
  }
  const exited = once(provider.child, 'exit');
  provider.child.kill('SIGTERM');
  const [code] = await exited;
  return code;
}

// ---------------------------------------------------------------------------------------------------------
// HTTP with cookies

/** A cookie jar that ignores paths and domains, because every request goes to one loopback provider. */
class Browser {
  #cookies = new Map();

  async request(url, { method = 'GET', form, headers = {} } = {}) {
    const requestHeaders = { ...headers };
    if (this.#cookies.size > 0) {
      requestHeaders.cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      requestHeaders['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(url, { method, headers: requestHeaders, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      this.#store(cookie);
    }
    return response;
  }

  /**
   * Sends a request and follows redirects on the provider. Returns `{ callback }` with the URL when a
   * redirect leaves for `appOrigin`, or `{ page }` with the final HTML response.
   */
  async navigate(provider, url, options) {
    let response = await this.request(url, options);
    for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || !location) {
        return { page: { status: response.status, url, html: await response.text() } };
      }
      const next = new URL(location, url);
      if (next.origin === provider.appOrigin) {
        return { callback: next };
      }
      url = next.href;
      response = await this.request(url);
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
  }

  /** Submits the first form of an HTML page whose action contains `actionPart`. */
  async submit(provider, page, actionPart, form) {
    const action = formAction(page.html, actionPart);
    const fields = { ...hiddenInputs(page.html, action), ...form };
    return this.navigate(provider, new URL(action, page.url).href, { method: 'POST', form: fields });
  }

  #store(setCookie) {
    const [pair, ...attributes] = setCookie.split(';');
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    const expired = attributes.some((attribute) => {
      const [key, attributeValue = ''] = attribute.trim().split('=');
      return key.toLowerCase() === 'expires' && Date.parse(attributeValue) <= Date.now();
    });
    if (expired || value === '') {
      this.#cookies.delete(name);
    } else {
      this.#cookies.set(name, value);
    }
  }
}

function formAction(html, actionPart) {
  const actions = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((match) => match[1]);
  const action = actions.find((candidate) => candidate.includes(actionPart));
  assert.ok(action, `no form with an action containing ${actionPart}; actions: ${actions.join(', ')}`);
  return action.replaceAll('&amp;', '&');
}

function hiddenInputs(html, action) {
  const start = html.indexOf(`action="${action}"`);
  const end = html.indexOf('</form>', start);
  const fields = {};
  for (const match of html.slice(start, end).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1]] = match[2];
  }
  return fields;
}

function errorText(html) {
  const match = /data-testid="op-error"[^>]*>([^<]*)</.exec(html);
  return match?.[1];
}

function isLoginPage(page) {
  return page?.html.includes('name="password"') && page.html.includes('data-testid="login-submit"');
}

function isCodePage(page) {
  return page?.html.includes('name="code"') && page.html.includes('data-testid="otp-submit"');
}

function isPasskeyPage(page) {
  return page?.html.includes('data-testid="passkey-frame"') ?? false;
}

const HTML_ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** Reads the frame URL of a passkey page and the ceremony options in its fragment. */
function passkeyFrame(page) {
  const match = /<iframe data-testid="passkey-frame"[^>]*src="([^"]+)"/.exec(page.html);
  assert.ok(match, 'the passkey page must embed the passkey frame');
  const src = match[1].replace(/&(amp|lt|gt|quot|#39);/g, (entity) => HTML_ENTITIES[entity]);
  const url = new URL(src);
  return { url, options: JSON.parse(decodeURIComponent(url.hash.slice(1))) };
}

function passkeyOrigin(provider) {
  return `http://localhost:${new URL(provider.issuer).port}`;
}

/** Client data origins of a ceremony run in the provider's frame, as Chromium reports them. */
function framedOrigins(provider) {
  return { origin: passkeyOrigin(provider), topOrigin: provider.issuer };
}

async function submitPasskey(browser, provider, page, ceremony, credential) {
  return browser.submit(provider, page, '/passkey', { ceremony, credential: JSON.stringify(credential) });
}

// ---------------------------------------------------------------------------------------------------------
// OAuth helpers

function base64Url(buffer) {
  return buffer.toString('base64url');
}

function newPkce() {
  const verifier = base64Url(randomBytes(32));
  const challenge = base64Url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

function authorizationUrl(provider, { pkce, state, acrValues, prompt, maxAge, omitPkce = false }) {
  const url = new URL('/auth', provider.issuer);
  url.searchParams.set('client_id', CLIENT_ID);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', `${provider.appOrigin}/auth/callback`);
  url.searchParams.set('scope', SCOPE);
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', base64Url(randomBytes(16)));
  if (!omitPkce) {
    url.searchParams.set('code_challenge', pkce.challenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  if (acrValues) url.searchParams.set('acr_values', acrValues);
  if (prompt) url.searchParams.set('prompt', prompt);
  if (maxAge !== undefined) url.searchParams.set('max_age', String(maxAge));
  return url.href;
}

/** Starts an authorization request and returns the navigation result plus the PKCE verifier and state. */
async function authorize(browser, provider, options = {}) {
  const pkce = newPkce();
  const state = base64Url(randomBytes(12));
  const result = await browser.navigate(provider, authorizationUrl(provider, { ...options, pkce, state }));
  return { ...result, pkce, state };
}

function tokenEndpointHeaders(provider) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (provider.clientSecret) {
    const credentials = `${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(provider.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return headers;
}

async function tokenRequest(provider, fields, headers = tokenEndpointHeaders(provider)) {
  const body = new URLSearchParams(provider.clientSecret ? fields : { client_id: CLIENT_ID, ...fields });
  const response = await fetch(`${provider.issuer}/token`, { method: 'POST', headers, body });
  return { status: response.status, json: await response.json() };
}

async function exchangeCode(provider, flow) {
  assert.ok(flow.callback, `expected a redirect to the app, got a page: ${flow.page?.html.slice(0, 300)}`);
  assert.equal(flow.callback.searchParams.get('state'), flow.state, 'state must come back unchanged');
  assert.equal(flow.callback.searchParams.get('iss'), provider.issuer, 'iss must be the issuer');
  const code = flow.callback.searchParams.get('code');
  assert.ok(code, `callback has no code: ${flow.callback.href}`);
  const { status, json } = await tokenRequest(provider, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: `${provider.appOrigin}/auth/callback`,
    code_verifier: flow.pkce.verifier,
  });
  assert.equal(status, 200, `token request failed: ${JSON.stringify(json)}`);
  return json;
}

let cachedJwks;
async function signingKeys(provider) {
  cachedJwks ??= new Map();
  if (!cachedJwks.has(provider.issuer)) {
    const response = await fetch(`${provider.issuer}/jwks`);
    cachedJwks.set(provider.issuer, (await response.json()).keys);
  }
  return cachedJwks.get(provider.issuer);
}

/** Verifies an RS256 JWT against the provider's JWKS and returns its header and payload. */
async function verifyJwt(provider, token) {
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.');
  const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8'));
  assert.equal(header.alg, 'RS256', 'tokens must be signed with RS256');
  const jwk = (await signingKeys(provider)).find((key) => key.kid === header.kid);
  assert.ok(jwk, `no JWKS key with kid ${header.kid}`);
  const valid = verifySignature(
    'RSA-SHA256',
    Buffer.from(`${encodedHeader}.${encodedPayload}`),
    createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(encodedSignature, 'base64url'),
  );
  assert.ok(valid, 'JWT signature must verify with the published key');
  return { header, payload };
}

async function readMailbox(provider, login) {
  const response = await fetch(`${provider.issuer}/dev/mailbox/${login}`);
  return { status: response.status, json: await response.json() };
}

async function latestMessageId(provider, login) {
  const { status, json } = await readMailbox(provider, login);
  return status === 200 ? json.id : 0;
}

/** Reads the code that arrived after message `afterId`. */
async function newCode(provider, login, afterId) {
  const { status, json } = await readMailbox(provider, login);
  assert.equal(status, 200, `mailbox of ${login} is empty`);
  assert.ok(json.id > afterId, `no new message for ${login} after message ${afterId}`);
  assert.match(json.code, /^[0-9]{6}$/, 'the code must have 6 digits');
  return json.code;
}

async function deletePasskeys(provider, login) {
  const response = await fetch(`${provider.issuer}/dev/passkeys/${login}`, { method: 'DELETE' });
  assert.equal(response.status, 200, `deleting the passkeys of ${login}`);
  return response.json();
}

async function listPasskeys(provider, login) {
  const response = await fetch(`${provider.issuer}/dev/passkeys/${login}`);
  return { status: response.status, json: await response.json() };
}

const PASSWORDS = { alice: 'alice-password', bob: 'bob-password' };

/** Runs a password sign-in (with a code step when the request requires one) and returns the tokens. */
async function signIn(browser, provider, login, options = {}) {
  const flow = await authorize(browser, provider, options);
  assert.ok(isLoginPage(flow.page), 'expected the login page');
  const before = await latestMessageId(provider, login);
  let result = await browser.submit(provider, flow.page, '/login', { login, password: PASSWORDS[login] });
  if (isCodePage(result.page)) {
    const code = await newCode(provider, login, before);
    result = await browser.submit(provider, result.page, '/code', { code });
  }
  return exchangeCode(provider, { ...result, pkce: flow.pkce, state: flow.state });
}

/**
 * Gives alice exactly one passkey, held by `authenticator`: a two-factor sign-in, then a `phr` request
 * that registers it and signs in with it. Returns the tokens of that `phr` sign-in.
 */
async function enrolPasskey(browser, provider, authenticator) {
  await deletePasskeys(provider, 'alice');
  await signIn(browser, provider, 'alice', { acrValues: ACR_2FA });
  const flow = await authorize(browser, provider, { acrValues: ACR_PHR });
  assert.ok(isPasskeyPage(flow.page), 'a phr request of a two-factor session must show the passkey page');
  const { options } = passkeyFrame(flow.page);
  const registered = await submitPasskey(
    browser, provider, flow.page, 'registration', authenticator.create(options.registration, framedOrigins(provider)),
  );
  assert.ok(isPasskeyPage(registered.page), 'after registration the passkey page must offer sign-in');
  assert.equal(errorText(registered.page.html), undefined, 'the registration must be accepted');
  const signInOptions = passkeyFrame(registered.page).options.authentication;
  assert.ok(signInOptions, 'after registration the passkey page must offer sign-in');
  const signedIn = await submitPasskey(
    browser, provider, registered.page, 'authentication', authenticator.get(signInOptions, framedOrigins(provider)),
  );
  return exchangeCode(provider, { ...signedIn, pkce: flow.pkce, state: flow.state });
}

// ---------------------------------------------------------------------------------------------------------
// Checks

const checks = [];
function check(name, run) {
  checks.push({ name, run });
}

check('discovery advertises issuer, acr values and claims', async ({ op }) => {
  const response = await fetch(`${op.issuer}/.well-known/openid-configuration`);
  assert.equal(response.status, 200);
  const discovery = await response.json();
  assert.equal(discovery.issuer, op.issuer);
  assert.ok(!discovery.issuer.endsWith('/'), 'issuer must have no trailing slash');
  assert.deepEqual(discovery.acr_values_supported, [
    'urn:okta:loa:1fa:any', 'urn:okta:loa:1fa:pwd', ACR_2FA, ACR_2FA_IF_POSSIBLE, 'phr',
  ]);
  for (const claim of ['acr', 'amr', 'auth_time', 'name', 'email']) {
    assert.ok(discovery.claims_supported.includes(claim), `claims_supported lacks ${claim}`);
  }
  assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  assert.equal(discovery.end_session_endpoint, `${op.issuer}/session/end`);
  assert.equal(discovery.jwks_uri, `${op.issuer}/jwks`);
});

check('jwks publishes a public RSA signing key', async ({ op }) => {
  const keys = await signingKeys(op);
  assert.equal(keys.length, 1);
  assert.equal(keys[0].kty, 'RSA');
  assert.equal(keys[0].use, 'sig');
  assert.ok(keys[0].kid, 'the key must have a kid');
  assert.equal(keys[0].d, undefined, 'the private exponent must not be published');
});

check('password sign-in issues one-factor tokens', async ({ op }) => {
  const startedAt = Math.floor(Date.now() / 1000);
  const tokens = await signIn(new Browser(), op, 'alice');
  assert.equal(tokens.token_type, 'Bearer');
  assert.ok(tokens.refresh_token, 'a refresh token must be issued without prompt=consent');

  const accessToken = await verifyJwt(op, tokens.access_token);
  assert.equal(accessToken.header.typ, 'at+jwt');
  assert.equal(accessToken.payload.iss, op.issuer);
  assert.equal(accessToken.payload.aud, 'api://default');
  assert.equal(accessToken.payload.sub, 'alice');
  assert.equal(accessToken.payload.client_id, CLIENT_ID);
  assert.equal(accessToken.payload.acr, ACR_1FA_PWD);
  assert.deepEqual(accessToken.payload.amr, ['pwd']);
  assert.ok(accessToken.payload.auth_time >= startedAt, 'auth_time must be the time of this sign-in');

  const idToken = await verifyJwt(op, tokens.id_token);
  assert.equal(idToken.payload.aud, CLIENT_ID);
  assert.equal(idToken.payload.acr, ACR_1FA_PWD);
  assert.deepEqual(idToken.payload.amr, ['pwd']);
  assert.equal(idToken.payload.auth_time, accessToken.payload.auth_time);
  assert.equal(idToken.payload.name, 'Alice Example');
  assert.equal(idToken.payload.email, 'alice@example.test');
});

check('wrong password and unknown login get one message', async ({ op }) => {
  const browser = new Browser();
  const flow = await authorize(browser, op);
  const wrongPassword = await browser.submit(op, flow.page, '/login', { login: 'alice', password: 'nope' });
  const unknownLogin = await browser.submit(op, flow.page, '/login', { login: 'mallory', password: 'nope' });
  assert.ok(isLoginPage(wrongPassword.page), 'a failed sign-in must show the login page again');
  assert.equal(errorText(wrongPassword.page.html), 'Invalid username or password.');
  assert.equal(errorText(unknownLogin.page.html), errorText(wrongPassword.page.html));
  assert.equal(wrongPassword.page.status, unknownLogin.page.status);
});

check('step-up from a password session asks only for the code', async ({ op }) => {
  const browser = new Browser();
  const first = await verifyJwt(op, (await signIn(browser, op, 'alice')).access_token);

  const before = await latestMessageId(op, 'alice');
  const flow = await authorize(browser, op, { acrValues: ACR_2FA });
  assert.ok(isCodePage(flow.page), 'a step-up of a password session must go straight to the code page');
  assert.ok(flow.page.html.includes('dev mailbox'), 'the code page must say where the code went');
  const code = await newCode(op, 'alice', before);

  const wrongCode = code === '000000' ? '111111' : '000000';
  const rejected = await browser.submit(op, flow.page, '/code', { code: wrongCode });
  assert.ok(isCodePage(rejected.page), 'a wrong code must show the code page again');
  assert.match(errorText(rejected.page.html), /Invalid code/);

  const accepted = await browser.submit(op, rejected.page, '/code', { code });
  const tokens = await exchangeCode(op, { ...accepted, pkce: flow.pkce, state: flow.state });
  const accessToken = await verifyJwt(op, tokens.access_token);
  assert.equal(accessToken.payload.acr, ACR_2FA);
  assert.deepEqual(accessToken.payload.amr, ['pwd', 'otp']);
  assert.ok(accessToken.payload.auth_time >= first.payload.auth_time, 'auth_time must move to the step-up');
  const idToken = await verifyJwt(op, tokens.id_token);
  assert.equal(idToken.payload.acr, ACR_2FA);
  assert.deepEqual(idToken.payload.amr, ['pwd', 'otp']);
});

check('one-time code works only once', async ({ op }) => {
  const browser = new Browser();
  await signIn(browser, op, 'alice', { acrValues: ACR_2FA });
  const usedCode = (await readMailbox(op, 'alice')).json.code;

  const flow = await authorize(browser, op, { acrValues: ACR_2FA, prompt: 'login' });
  assert.ok(isLoginPage(flow.page), 'prompt=login must ask for the password');
  const codeStep = await browser.submit(op, flow.page, '/login', { login: 'alice', password: PASSWORDS.alice });
  assert.ok(isCodePage(codeStep.page), 'a 2FA request must ask for a code after the password');
  const freshCode = (await readMailbox(op, 'alice')).json.code;
  if (freshCode !== usedCode) {
    const replay = await browser.submit(op, codeStep.page, '/code', { code: usedCode });
    assert.ok(isCodePage(replay.page), 'a used code must be rejected');
  }
  const accepted = await browser.submit(op, codeStep.page, '/code', { code: freshCode });
  assert.ok(accepted.callback, 'the fresh code must be accepted');
});

check('refresh keeps acr, amr and auth_time', async ({ op }) => {
  const browser = new Browser();
  const tokens = await signIn(browser, op, 'alice', { acrValues: ACR_2FA });
  const original = await verifyJwt(op, tokens.access_token);

  const refreshed = await tokenRequest(op, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(refreshed.status, 200, `refresh failed: ${JSON.stringify(refreshed.json)}`);
  const accessToken = await verifyJwt(op, refreshed.json.access_token);
  assert.equal(accessToken.payload.aud, 'api://default');
  assert.equal(accessToken.payload.acr, ACR_2FA);
  assert.deepEqual(accessToken.payload.amr, ['pwd', 'otp']);
  assert.equal(accessToken.payload.auth_time, original.payload.auth_time);
  assert.notEqual(refreshed.json.refresh_token, tokens.refresh_token, 'the refresh token must rotate');

  const replay = await tokenRequest(op, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(replay.status, 400);
  assert.equal(replay.json.error, 'invalid_grant');
});

check('refresh token issued when prompt=login drops offline_access', async ({ op }) => {
  const tokens = await signIn(new Browser(), op, 'bob', { prompt: 'login' });
  assert.ok(tokens.refresh_token, 'a refresh token must be issued');
});

check('two-factor session meets a later 2FA request', async ({ op }) => {
  const browser = new Browser();
  await signIn(browser, op, 'alice', { acrValues: ACR_2FA });
  const again = await authorize(browser, op, { acrValues: ACR_2FA, maxAge: 3600 });
  const accessToken = await verifyJwt(op, (await exchangeCode(op, again)).access_token);
  assert.equal(accessToken.payload.acr, ACR_2FA);

  const plain = await authorize(browser, op);
  const plainToken = await verifyJwt(op, (await exchangeCode(op, plain)).access_token);
  assert.equal(plainToken.payload.acr, ACR_2FA, 'the session keeps its two-factor acr');
});

check('max_age=0 asks for the password', async ({ op }) => {
  const browser = new Browser();
  await signIn(browser, op, 'alice', { acrValues: ACR_2FA });
  const requestedAt = Math.floor(Date.now() / 1000);
  const flow = await authorize(browser, op, { maxAge: 0 });
  assert.ok(isLoginPage(flow.page), 'max_age=0 must show the login page even within the same second');
  const done = await browser.submit(op, flow.page, '/login', { login: 'alice', password: PASSWORDS.alice });
  const idToken = await verifyJwt(op, (await exchangeCode(op, { ...done, pkce: flow.pkce, state: flow.state })).id_token);
  assert.equal(idToken.payload.acr, ACR_1FA_PWD, 'a password-only re-authentication resets acr');
  assert.ok(idToken.payload.auth_time >= requestedAt, 'auth_time must not precede the max_age=0 request');
});

check('prompt=login asks for the password again', async ({ op }) => {
  const browser = new Browser();
  await signIn(browser, op, 'alice');
  const flow = await authorize(browser, op, { prompt: 'login' });
  assert.ok(isLoginPage(flow.page), 'prompt=login must show the login page');
});

check('account without second factor gets unmet_authentication_requirements', async ({ op }) => {
  const browser = new Browser();
  const fresh = await authorize(browser, op, { acrValues: ACR_2FA });
  const afterPassword = await browser.submit(op, fresh.page, '/login', { login: 'bob', password: PASSWORDS.bob });
  assert.ok(afterPassword.callback, 'bob must be sent back to the app');
  assert.equal(afterPassword.callback.searchParams.get('error'), 'unmet_authentication_requirements');
  assert.ok(afterPassword.callback.searchParams.get('error_description'));
  assert.equal(afterPassword.callback.searchParams.get('state'), fresh.state);

  await signIn(browser, op, 'bob');
  const stepUp = await authorize(browser, op, { acrValues: ACR_2FA });
  assert.ok(stepUp.callback, 'a step-up of bob\'s password session must return at once');
  assert.equal(stepUp.callback.searchParams.get('error'), 'unmet_authentication_requirements');
  assert.equal(stepUp.callback.searchParams.get('state'), stepUp.state);
});

check('2fa ifpossible uses the factor only when enrolled', async ({ op }) => {
  const bob = await signIn(new Browser(), op, 'bob', { acrValues: ACR_2FA_IF_POSSIBLE });
  assert.equal((await verifyJwt(op, bob.access_token)).payload.acr, ACR_1FA_PWD);
  const alice = await signIn(new Browser(), op, 'alice', { acrValues: ACR_2FA_IF_POSSIBLE });
  assert.equal((await verifyJwt(op, alice.access_token)).payload.acr, ACR_2FA);
});

check('one-factor acr_values never ask for a code', async ({ op }) => {
  const browser = new Browser();
  const tokens = await signIn(browser, op, 'alice', { acrValues: 'urn:okta:loa:1fa:any' });
  assert.equal((await verifyJwt(op, tokens.access_token)).payload.acr, ACR_1FA_PWD);
});

check('phr step-up of a 2FA session shows the passkey page', async ({ op }) => {
  await deletePasskeys(op, 'alice');
  const browser = new Browser();
  await signIn(browser, op, 'alice', { acrValues: ACR_2FA });
  const before = await latestMessageId(op, 'alice');

  const flow = await authorize(browser, op, { acrValues: ACR_PHR });
  assert.ok(isPasskeyPage(flow.page), 'a phr request of a two-factor session must show the passkey page');
  assert.ok(!isCodePage(flow.page), 'a two-factor session must not be asked for another code');
  assert.equal(await latestMessageId(op, 'alice'), before, 'no code must be sent');
  const { url, options } = passkeyFrame(flow.page);
  assert.equal(url.origin, passkeyOrigin(op));
  assert.equal(url.pathname, '/passkey/frame');
  assert.equal(options.registration.rp.id, 'localhost');
  assert.equal(options.registration.authenticatorSelection.residentKey, 'required');
  assert.equal(options.registration.authenticatorSelection.userVerification, 'required');
  assert.equal(options.authentication, undefined, 'without a passkey there is nothing to sign in with');
});

check('phr request of a password session asks for the code first', async ({ op }) => {
  await deletePasskeys(op, 'alice');
  const browser = new Browser();
  await signIn(browser, op, 'alice');
  const before = await latestMessageId(op, 'alice');

  const flow = await authorize(browser, op, { acrValues: ACR_PHR });
  assert.ok(isCodePage(flow.page), 'registration needs the one-time code first');
  const code = await newCode(op, 'alice', before);
  const afterCode = await browser.submit(op, flow.page, '/code', { code });
  assert.ok(isPasskeyPage(afterCode.page), 'after the code the passkey page must follow');
  assert.ok(passkeyFrame(afterCode.page).options.registration, 'the passkey page must offer registration');
});

check('passkey registration and sign-in issue phr tokens', async ({ op }) => {
  const startedAt = Math.floor(Date.now() / 1000);
  const tokens = await enrolPasskey(new Browser(), op, new SoftwareAuthenticator());

  const accessToken = await verifyJwt(op, tokens.access_token);
  assert.equal(accessToken.payload.acr, ACR_PHR);
  assert.deepEqual(accessToken.payload.amr, ['pwd', 'otp', 'hwk']);
  assert.ok(accessToken.payload.auth_time >= startedAt, 'auth_time must be the time of the passkey sign-in');
  const idToken = await verifyJwt(op, tokens.id_token);
  assert.equal(idToken.payload.acr, ACR_PHR);
  assert.deepEqual(idToken.payload.amr, ['pwd', 'otp', 'hwk']);
  assert.equal(idToken.payload.auth_time, accessToken.payload.auth_time);

  const { json } = await listPasskeys(op, 'alice');
  assert.equal(json.passkeys.length, 1, 'alice must have the one registered passkey');
});

check('registered passkey steps up a password session', async ({ op }) => {
  const authenticator = new SoftwareAuthenticator();
  await enrolPasskey(new Browser(), op, authenticator);
  const browser = new Browser();
  await signIn(browser, op, 'alice');
  const before = await latestMessageId(op, 'alice');

  const flow = await authorize(browser, op, { acrValues: ACR_PHR });
  assert.ok(isPasskeyPage(flow.page), 'an account with a passkey must go straight to the passkey page');
  const { options } = passkeyFrame(flow.page);
  assert.equal(options.registration, undefined, 'a one-factor session must not register passkeys');
  assert.deepEqual(options.authentication.allowCredentials.map(({ id }) => id), [authenticator.credentialId]);
  assert.equal(options.authentication.userVerification, 'required');
  const assertion = authenticator.get(options.authentication, framedOrigins(op));
  const done = await submitPasskey(browser, op, flow.page, 'authentication', assertion);
  const tokens = await exchangeCode(op, { ...done, pkce: flow.pkce, state: flow.state });
  const idToken = await verifyJwt(op, tokens.id_token);
  assert.equal(idToken.payload.acr, ACR_PHR);
  assert.deepEqual(idToken.payload.amr, ['pwd', 'hwk']);
  assert.equal(await latestMessageId(op, 'alice'), before, 'no code must be sent');
});

check('passkey responses failing a check are rejected', async ({ op }) => {
  const authenticator = new SoftwareAuthenticator();
  await enrolPasskey(new Browser(), op, authenticator);
  const browser = new Browser();
  await signIn(browser, op, 'alice');
  const flow = await authorize(browser, op, { acrValues: ACR_PHR });
  const framed = framedOrigins(op);
  const replayed = authenticator.get(passkeyFrame(flow.page).options.authentication, framed);

  const variants = [
    ['origin is the issuer', { ...framed, origin: op.issuer }],
    ['origin is another port', { ...framed, origin: 'http://localhost:1' }],
    ['not in a cross-origin frame', { origin: framed.origin }],
    ['topOrigin is another page', { ...framed, topOrigin: 'http://127.0.0.1:1' }],
    ['user not verified', { ...framed, userVerified: false }],
  ];
  let page = flow.page;
  for (const [name, clientOptions] of variants) {
    const response = authenticator.get(passkeyFrame(page).options.authentication, clientOptions);
    const result = await submitPasskey(browser, op, page, 'authentication', response);
    assert.ok(isPasskeyPage(result.page), `${name}: the passkey page must be shown again`);
    assert.equal(result.page.status, 400, `${name}: status`);
    assert.equal(errorText(result.page.html), 'The passkey could not be verified. Try again.', name);
    page = result.page;
  }

  const replay = await submitPasskey(browser, op, page, 'authentication', replayed);
  assert.ok(isPasskeyPage(replay.page), 'a response to an earlier challenge must be rejected');
  const forged = await submitPasskey(browser, op, replay.page, 'registration', new SoftwareAuthenticator().create(
    { challenge: 'forged', rp: { id: 'localhost' }, user: { id: 'forged' } },
    framed,
  ));
  assert.ok(isPasskeyPage(forged.page), 'a one-factor session must not register a passkey');
  assert.equal((await listPasskeys(op, 'alice')).json.passkeys.length, 1, 'no passkey must be added');

  const assertion = authenticator.get(passkeyFrame(forged.page).options.authentication, framed);
  const accepted = await submitPasskey(browser, op, forged.page, 'authentication', assertion);
  assert.ok(accepted.callback, 'a valid response must still be accepted after rejected ones');
});

check('account without second factor cannot reach phr', async ({ op }) => {
  const browser = new Browser();
  const fresh = await authorize(browser, op, { acrValues: ACR_PHR });
  const afterPassword = await browser.submit(op, fresh.page, '/login', { login: 'bob', password: PASSWORDS.bob });
  assert.ok(afterPassword.callback, 'bob must be sent back to the app');
  assert.equal(afterPassword.callback.searchParams.get('error'), 'unmet_authentication_requirements');

  await signIn(browser, op, 'bob');
  const stepUp = await authorize(browser, op, { acrValues: ACR_PHR });
  assert.equal(stepUp.callback?.searchParams.get('error'), 'unmet_authentication_requirements');
});

check('phr session meets later 2FA and phr requests', async ({ op }) => {
  const browser = new Browser();
  await enrolPasskey(browser, op, new SoftwareAuthenticator());
  for (const acrValues of [ACR_2FA, ACR_PHR]) {
    const again = await authorize(browser, op, { acrValues });
    const accessToken = await verifyJwt(op, (await exchangeCode(op, again)).access_token);
    assert.equal(accessToken.payload.acr, ACR_PHR, `a request for ${acrValues} keeps the phr session`);
  }
});

check('phr with max_age asks for password and passkey', async ({ op }) => {
  const authenticator = new SoftwareAuthenticator();
  const browser = new Browser();
  await enrolPasskey(browser, op, authenticator);
  const requestedAt = Math.floor(Date.now() / 1000);

  const flow = await authorize(browser, op, { acrValues: ACR_PHR, maxAge: 0 });
  assert.ok(isLoginPage(flow.page), 'max_age=0 must ask for the password first');
  assert.match(flow.page.html, /a passkey follows the password/);
  const afterPassword = await browser.submit(op, flow.page, '/login', { login: 'alice', password: PASSWORDS.alice });
  assert.ok(isPasskeyPage(afterPassword.page), 'the passkey must follow the password');
  const options = passkeyFrame(afterPassword.page).options.authentication;
  const assertion = authenticator.get(options, framedOrigins(op));
  const done = await submitPasskey(browser, op, afterPassword.page, 'authentication', assertion);
  const tokens = await exchangeCode(op, { ...done, pkce: flow.pkce, state: flow.state });
  const idToken = await verifyJwt(op, tokens.id_token);
  assert.equal(idToken.payload.acr, ACR_PHR);
  assert.deepEqual(idToken.payload.amr, ['pwd', 'hwk']);
  assert.ok(idToken.payload.auth_time >= requestedAt, 'auth_time must not precede the request');
});

check('passkey frame allows only its script and the issuer', async ({ op }) => {
  const response = await fetch(`${op.issuer}/passkey/frame`);
  assert.equal(response.status, 200);
  const html = await response.text();
  const policy = response.headers.get('content-security-policy');
  assert.ok(policy.includes(`frame-ancestors ${op.issuer}`), `frame-ancestors must name the issuer: ${policy}`);
  const script = /<script>([\s\S]*)<\/script>/.exec(html)[1];
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  assert.ok(policy.includes(`script-src 'sha256-${hash}'`), 'script-src must allow exactly the inline script');
  assert.ok(html.includes('data-testid="passkey-register"'));
  assert.ok(html.includes('data-testid="passkey-signin"'));
  assert.ok(!/<script[^>]+src=/.test(html), 'the frame must load no external script');
  assert.ok(!/<link[^>]+href="http/.test(html), 'the frame must load no external resource');
});

check('dev passkeys endpoint lists and deletes', async ({ op }) => {
  await enrolPasskey(new Browser(), op, new SoftwareAuthenticator());
  const listed = await listPasskeys(op, 'alice');
  assert.equal(listed.status, 200);
  assert.equal(listed.json.passkeys.length, 1);
  assert.ok(Number.isInteger(listed.json.passkeys[0].created_at));
  assert.deepEqual(await deletePasskeys(op, 'alice'), { login: 'alice', deleted: 1 });
  assert.deepEqual((await listPasskeys(op, 'alice')).json.passkeys, []);
  assert.equal((await listPasskeys(op, 'nobody')).status, 404);
});

check('target level follows acr_values and factors', async () => {
  const alice = { hasSecondFactor: true, hasPasskey: false };
  const aliceWithPasskey = { hasSecondFactor: true, hasPasskey: true };
  const bob = { hasSecondFactor: false, hasPasskey: false };
  const cases = [
    [[], alice, Level.oneFactor],
    [[ACR_2FA], alice, Level.twoFactor],
    [[ACR_2FA], aliceWithPasskey, Level.twoFactor],
    [[ACR_2FA], bob, Level.twoFactor],
    [[ACR_2FA_IF_POSSIBLE], alice, Level.twoFactor],
    [[ACR_2FA_IF_POSSIBLE], bob, Level.oneFactor],
    [[ACR_PHR], alice, Level.phishingResistant],
    [[ACR_PHR], bob, Level.phishingResistant],
    [[ACR_PHR, ACR_2FA], alice, Level.twoFactor],
    [[ACR_PHR, ACR_2FA], aliceWithPasskey, Level.phishingResistant],
    [[ACR_PHR, 'urn:okta:loa:1fa:any'], bob, Level.oneFactor],
  ];
  for (const [acrValues, factors, expected] of cases) {
    const name = `${acrValues.join(' ')} ${JSON.stringify(factors)}`;
    assert.equal(targetLevel(requestedLevels(acrValues), factors), expected, name);
  }
});

check('next step registers passkeys only after two factors', async () => {
  const alice = { hasSecondFactor: true, hasPasskey: false };
  const cases = [
    [Level.phishingResistant, ['pwd'], alice, Step.oneTimeCode],
    [Level.phishingResistant, ['pwd', 'otp'], alice, Step.passkey],
    [Level.phishingResistant, ['pwd'], { ...alice, hasPasskey: true }, Step.passkey],
    [Level.phishingResistant, ['pwd'], { hasSecondFactor: false, hasPasskey: false }, Step.unmet],
    [Level.phishingResistant, ['pwd', 'otp', 'hwk'], alice, Step.done],
    [Level.twoFactor, ['pwd'], alice, Step.oneTimeCode],
    [Level.twoFactor, ['pwd'], { hasSecondFactor: false, hasPasskey: false }, Step.unmet],
    [Level.oneFactor, ['pwd'], alice, Step.done],
  ];
  for (const [target, amr, factors, expected] of cases) {
    assert.equal(nextStep(target, amr, factors), expected, `target ${target}, amr ${amr.join(',')}`);
  }
});

check('mailbox returns 404 without a message', async ({ op }) => {
  const { status, json } = await readMailbox(op, 'nobody');
  assert.equal(status, 404);
  assert.equal(json.error, 'not_found');
  const alice = await readMailbox(op, 'alice');
  assert.equal(alice.status, 200);
  assert.deepEqual(Object.keys(alice.json).sort(), ['code', 'id', 'login', 'sent_at']);
  assert.equal(alice.json.login, 'alice');
  assert.ok(Number.isInteger(alice.json.sent_at));
});

check('logout with id_token_hint ends the session without a question', async ({ op }) => {
  const browser = new Browser();
  const tokens = await signIn(browser, op, 'alice', { acrValues: ACR_2FA });
  const url = new URL('/session/end', op.issuer);
  url.searchParams.set('id_token_hint', tokens.id_token);
  url.searchParams.set('post_logout_redirect_uri', `${op.appOrigin}/`);
  url.searchParams.set('state', 'logout-state');
  const logout = await browser.navigate(op, url.href);
  assert.ok(logout.page.html.includes('.submit()'), 'the logout page must submit itself');
  assert.ok(!logout.page.html.includes('data-testid="logout-cancel"'), 'no confirmation must be asked');

  const confirmed = await browser.submit(op, logout.page, '/session/end/confirm', {});
  assert.equal(confirmed.callback?.origin + confirmed.callback?.pathname, `${op.appOrigin}/`);
  assert.equal(confirmed.callback.searchParams.get('state'), 'logout-state');

  const again = await authorize(browser, op);
  assert.ok(isLoginPage(again.page), 'after logout the provider must ask for the password');
  const refresh = await tokenRequest(op, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(refresh.status, 400, 'logout must revoke the refresh token');
});

check('logout without id_token_hint asks for confirmation', async ({ op }) => {
  const browser = new Browser();
  await signIn(browser, op, 'alice');
  const logout = await browser.navigate(op, `${op.issuer}/session/end`);
  assert.equal(logout.page.status, 200);
  assert.ok(logout.page.html.includes('data-testid="logout-confirm"'));
  assert.ok(!logout.page.html.includes('.submit()'), 'the confirmation page must not submit itself');
});

check('authorization request without PKCE is rejected', async ({ op }) => {
  const browser = new Browser();
  const state = 'no-pkce';
  const result = await browser.navigate(op, authorizationUrl(op, { state, omitPkce: true }));
  assert.ok(result.callback, 'the error must go back to the app');
  assert.equal(result.callback.searchParams.get('error'), 'invalid_request');
});

check('confidential mode requires client_secret_basic', async ({ confidentialOp }) => {
  const tokens = await signIn(new Browser(), confidentialOp, 'alice');
  assert.ok(tokens.access_token);

  const withoutSecret = await tokenRequest(
    confidentialOp,
    { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: CLIENT_ID },
    { 'content-type': 'application/x-www-form-urlencoded' },
  );
  assert.equal(withoutSecret.status, 401);
  assert.equal(withoutSecret.json.error, 'invalid_client');

  const credentials = Buffer.from(`${CLIENT_ID}:wrong-secret`).toString('base64');
  const wrongSecret = await tokenRequest(
    confidentialOp,
    { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
    { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${credentials}` },
  );
  assert.equal(wrongSecret.status, 401);
});

check('code store expires codes after five minutes', async () => {
  let now = 1_700_000_000_000;
  const codes = new OneTimeCodes({ mailbox: new DevMailbox({ log: silentLog }), now: () => now });
  codes.issue('uid-1', 'alice');
  now += 5 * 60 * 1000;
  assert.equal(codes.verify('uid-1', '123456'), CodeCheck.expired);
});

check('code store discards a code after repeated failures', async () => {
  const mailbox = new DevMailbox({ log: silentLog });
  const codes = new OneTimeCodes({ mailbox });
  codes.issue('uid-1', 'alice');
  const { code } = mailbox.latest('alice');
  const wrong = code === '000000' ? '111111' : '000000';
  for (let attempt = 1; attempt < MAX_FAILED_ATTEMPTS; attempt += 1) {
    assert.equal(codes.verify('uid-1', wrong), CodeCheck.invalid);
  }
  assert.equal(codes.verify('uid-1', wrong), CodeCheck.tooManyAttempts);
  assert.equal(codes.verify('uid-1', code), CodeCheck.tooManyAttempts, 'the right code must not work after lockout');
});

check('code store accepts a code once and per interaction', async () => {
  const mailbox = new DevMailbox({ log: silentLog });
  const codes = new OneTimeCodes({ mailbox });
  codes.issue('uid-1', 'alice');
  const { code } = mailbox.latest('alice');
  assert.equal(codes.verify('uid-2', code), CodeCheck.notIssued, 'a code belongs to its interaction');
  assert.equal(codes.verify('uid-1', code), CodeCheck.valid);
  assert.equal(codes.verify('uid-1', code), CodeCheck.notIssued);
});

const silentLog = { info() {}, warn() {}, error() {} };

// ---------------------------------------------------------------------------------------------------------
// Runner

async function main() {
  const op = await startProvider({ port: BASE_PORT, appOrigin: `http://127.0.0.1:${BASE_PORT + 1000}` });
  let confidentialOp;
  let passed = 0;
  let failed = 0;
  try {
    confidentialOp = await startProvider({
      port: BASE_PORT + 1,
      appOrigin: `http://127.0.0.1:${BASE_PORT + 1001}`,
      clientSecret: base64Url(randomBytes(24)),
    });
    for (const { name, run } of checks) {
      try {
        await run({ op, confidentialOp });
        passed += 1;
        process.stdout.write(`ok   ${name}\n`);
      } catch (error) {
        failed += 1;
        process.stdout.write(`FAIL ${name}\n     ${String(error.stack ?? error).split('\n').join('\n     ')}\n`);
      }
    }
  } finally {
    const exitCodes = [await stopProvider(op)];
    if (confidentialOp) {
      exitCodes.push(await stopProvider(confidentialOp));
    }
    if (exitCodes.some((code) => code !== 0)) {
      failed += 1;
      process.stdout.write(`FAIL provider exits cleanly on SIGTERM (exit codes ${exitCodes.join(', ')})\n`);
    } else {
      passed += 1;
      process.stdout.write('ok   provider exits cleanly on SIGTERM\n');
    }
    if (failed > 0 || process.env.SELFTEST_VERBOSE) {
      process.stdout.write(`--- provider log ---\n${op.output.join('')}`);
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error) => {
  process.stdout.write(`selftest could not run: ${error.stack ?? error}\n0 passed, 1 failed\n`);
  process.exitCode = 1;
});
