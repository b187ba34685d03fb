// The provider's passkey step in Chromium, driven by authorization requests sent straight to the provider:
// registration after password and one-time code, then a passkey sign-in that yields `phr`. The app only
// receives the final redirect, which it rejects because it did not start the request, and this spec
// exchanges the code itself.

import { createHash, randomBytes } from 'node:crypto';

import { type APIRequestContext, type Page, expect, test } from '@playwright/test';

import {
  ACR_PHISHING_RESISTANT,
  ALICE,
  addVirtualAuthenticator,
  deletePasskeys,
  latestMessageId,
  passkeyFrame,
  registerPasskeyAndSignIn,
  submitOneTimeCode,
  submitPassword,
} from './support/flows';
import { APP_ORIGIN, OP_ORIGIN, OP_PORT } from './support/origins';

const CLIENT_ID = 'stepup-app';
const REDIRECT_URI = `${APP_ORIGIN}/auth/callback`;

interface AuthorizationRequest {
  url: string;
  state: string;
  verifier: string;
}

function newAuthorizationRequest(acrValues: string): AuthorizationRequest {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const url = new URL('/auth', OP_ORIGIN);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    state,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    acr_values: acrValues,
  }).toString();
  return { url: url.href, state, verifier };
}

function waitForCallback(page: Page): Promise<URL> {
  return page
    .waitForRequest((request) => request.url().startsWith(`${REDIRECT_URI}?`))
    .then((request) => new URL(request.url()));
}

/** Exchanges the callback's code and returns the ID token's payload, without checking its signature. */
async function idTokenClaims(
  request: APIRequestContext,
  callback: URL,
  authorization: AuthorizationRequest,
): Promise<Record<string, unknown>> {
  expect(callback.searchParams.get('error'), 'error at the redirect URI').toBeNull();
  expect(callback.searchParams.get('state')).toBe(authorization.state);
  const response = await request.post(`${OP_ORIGIN}/token`, {
    form: {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: authorization.verifier,
      client_id: CLIENT_ID,
    },
  });
  expect(response.status(), 'token response').toBe(200);
  const { id_token: idToken } = (await response.json()) as { id_token: string };
  return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString('utf8'));
}

test.beforeEach(async ({ request }) => {
  await deletePasskeys(request, ALICE.login);
});

test('passkey registration and sign-in give phr', async ({ page, request }) => {
  await addVirtualAuthenticator(page);
  const authorization = newAuthorizationRequest(ACR_PHISHING_RESISTANT);
  const startedAt = Math.floor(Date.now() / 1000);
  const lastMessageId = await latestMessageId(request, ALICE.login);
  const callback = waitForCallback(page);

  await page.goto(authorization.url);
  await submitPassword(page, ALICE);
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await expect(page.getByTestId('passkey-frame')).toHaveAttribute(
    'src',
    new RegExp(`^http://localhost:${OP_PORT}/passkey/frame#`),
  );
  await registerPasskeyAndSignIn(page);

  const claims = await idTokenClaims(request, await callback, authorization);
  expect(claims.acr).toBe(ACR_PHISHING_RESISTANT);
  expect(claims.amr).toEqual(['pwd', 'otp', 'hwk']);
  expect(claims.auth_time).toBeGreaterThanOrEqual(startedAt);
  const passkeys = await (await request.get(`${OP_ORIGIN}/dev/passkeys/${ALICE.login}`)).json();
  expect(passkeys.passkeys, 'passkeys of alice after the sign-in').toHaveLength(1);
});

test('failed passkey ceremony shows an error', async ({ page, request }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  // An authenticator that cannot verify the user fails every ceremony that requires user verification.
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: false,
    },
  });
  const authorization = newAuthorizationRequest(ACR_PHISHING_RESISTANT);
  const lastMessageId = await latestMessageId(request, ALICE.login);

  await page.goto(authorization.url);
  await submitPassword(page, ALICE);
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await passkeyFrame(page).getByTestId('passkey-register').click();

  await expect(page.getByTestId('op-error')).toContainText('The passkey request was cancelled or timed out.');
  await expect(passkeyFrame(page).getByTestId('passkey-register')).toBeEnabled();
  const passkeys = await (await request.get(`${OP_ORIGIN}/dev/passkeys/${ALICE.login}`)).json();
  expect(passkeys.passkeys, 'passkeys of alice after the failed ceremony').toHaveLength(0);
});
