// Obtains the credentials that scripts/bench.sh sends to the server, by signing alice in at the
// local provider as a browser would, over HTTP with one cookie jar per origin.
//
// Usage: node bench/sign-in.mjs ISSUER APP_ORIGIN
// Prints one JSON object with:
//   stepUpToken:  an access token with acr urn:okta:loa:2fa:any (password + one-time code),
//   oneFactorToken: an access token from a password-only sign-in,
//   sessionCookie: `stepup_session=…` of an app session signed in with two factors.
// The tokens come from the provider's token endpoint as the public client `stepup-app`. The
// cookie comes from the app's own `/auth/login`, so the app runs its callback and stores the
// session. Exits non-zero when a step fails.

import { createHash, randomBytes } from 'node:crypto';

const [issuer, appOrigin] = process.argv.slice(2);
if (!issuer || !appOrigin) {
  process.stderr.write('usage: node bench/sign-in.mjs ISSUER APP_ORIGIN\n');
  process.exit(2);
}

const CLIENT_ID = 'stepup-app';
const LOGIN = 'alice';
const PASSWORD = 'alice-password';
const TWO_FACTOR = 'urn:okta:loa:2fa:any';
const MAX_HOPS = 20;

/** Cookies per origin, so the provider's and the app's cookies never mix. */
class CookieJar {
  #byOrigin = new Map();

  header(url) {
    const cookies = this.#byOrigin.get(new URL(url).origin);
    return cookies ? [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  store(url, response) {
    const origin = new URL(url).origin;
    const cookies = this.#byOrigin.get(origin) ?? new Map();
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = /max-age=0|expires=thu, 01 jan 1970/i.test(setCookie);
      if (value === '' || expired) cookies.delete(name);
      else cookies.set(name, value);
    }
    this.#byOrigin.set(origin, cookies);
  }

  get(origin, name) {
    return this.#byOrigin.get(origin)?.get(name);
  }
}

async function request(jar, url, { method = 'GET', form } = {}) {
  const headers = {};
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await fetch(url, { method, headers, body, redirect: 'manual' });
  jar.store(url, response);
  return response;
}

/**
 * Follows redirects from `url`. Stops at the first redirect to `stopAt` (returned as `{ redirect }`,
 * not followed) or at the first page that is not a redirect (`{ url, status, html }`).
 */
async function navigate(jar, url, options, stopAt) {
  let response = await request(jar, url, options);
  for (let hop = 0; hop < MAX_HOPS; hop += 1) {
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || !location) {
      return { url, status: response.status, html: await response.text() };
    }
    const next = new URL(location, url);
    if (stopAt && next.href.startsWith(stopAt)) return { redirect: next };
    url = next.href;
    response = await request(jar, url);
  }
  throw new Error(`more than ${MAX_HOPS} redirects, last at ${url}`);
}

/** Submits the form whose action contains `actionPart`, with its hidden inputs and `fields`. */
async function submit(jar, page, actionPart, fields, stopAt) {
  const actions = [...page.html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((match) => match[1]);
  const action = actions.find((candidate) => candidate.includes(actionPart))?.replaceAll('&amp;', '&');
  if (!action) throw new Error(`no form posting to ${actionPart} on ${page.url} (status ${page.status})`);
  const start = page.html.indexOf(`action="${action.replaceAll('&', '&amp;')}"`);
  const formHtml = page.html.slice(Math.max(start, 0), page.html.indexOf('</form>', start));
  const hidden = {};
  for (const match of formHtml.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    hidden[match[1]] = match[2];
  }
  const target = new URL(action, page.url).href;
  return navigate(jar, target, { method: 'POST', form: { ...hidden, ...fields } }, stopAt);
}

async function latestMailId() {
  const response = await fetch(`${issuer}/dev/mailbox/${LOGIN}`);
  return response.status === 200 ? (await response.json()).id : 0;
}

async function codeAfter(mailId) {
  const response = await fetch(`${issuer}/dev/mailbox/${LOGIN}`);
  const message = await response.json();
  if (response.status !== 200 || message.id <= mailId) throw new Error('no new one-time code in the dev mailbox');
  return message.code;
}

/** Submits the provider's login form, and its one-time-code form when one follows. */
async function passProviderPages(jar, page, stopAt) {
  if (!page.html?.includes('name="password"')) {
    throw new Error(`expected the provider's login page at ${page.url}, got status ${page.status}`);
  }
  const mailId = await latestMailId();
  let result = await submit(jar, page, '/login', { login: LOGIN, password: PASSWORD }, stopAt);
  if (result.html?.includes('name="code"')) {
    result = await submit(jar, result, '/code', { code: await codeAfter(mailId) }, stopAt);
  }
  return result;
}

/** Runs authorization code + PKCE at the provider and returns the access token. */
async function accessToken(acrValues) {
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `${appOrigin}/auth/callback`;
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile',
    state: randomBytes(12).toString('base64url'),
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(acrValues ? { acr_values: acrValues } : {}),
  }).toString();

  const page = await navigate(jar, url.href, {}, redirectUri);
  const result = await passProviderPages(jar, page, redirectUri);
  const code = result.redirect?.searchParams.get('code');
  if (!code) throw new Error('the provider did not redirect back with a code');
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  const tokens = await response.json();
  if (response.status !== 200 || !tokens.access_token) {
    throw new Error(`token request failed with status ${response.status}: ${tokens.error ?? 'no access_token'}`);
  }
  return tokens.access_token;
}

/** Signs in through the app with two factors and returns its session cookie. */
async function sessionCookie() {
  const jar = new CookieJar();
  const login = new URL('/auth/login', appOrigin);
  login.search = new URLSearchParams({ return_to: '/profile', acr_values: TWO_FACTOR }).toString();
  const page = await navigate(jar, login.href);
  const result = await passProviderPages(jar, page);
  if (result.status !== 200 || !result.url.startsWith(`${appOrigin}/profile`)) {
    throw new Error(`the app sign-in ended at ${result.url} with status ${result.status}, not on /profile`);
  }
  const value = jar.get(appOrigin, 'stepup_session');
  if (!value) throw new Error('the app set no stepup_session cookie');
  return `stepup_session=${value}`;
}

const stepUpToken = await accessToken(TWO_FACTOR);
const oneFactorToken = await accessToken(undefined);
const cookie = await sessionCookie();
process.stdout.write(`${JSON.stringify({ stepUpToken, oneFactorToken, sessionCookie: cookie })}\n`);
