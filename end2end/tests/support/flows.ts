// Steps that several specs share: password sign-in, reading one-time codes from the provider's dev mailbox,
// passkeys with a Chromium virtual authenticator, and recording the authorization requests that a page
// sends.

import { type APIRequestContext, type FrameLocator, type Page, expect } from '@playwright/test';

import { APP_ORIGIN, OP_ORIGIN } from './origins';

export const ACR_TWO_FACTOR = 'urn:okta:loa:2fa:any';
export const ACR_PHISHING_RESISTANT = 'phr';

export interface DemoUser {
  login: string;
  password: string;
  name: string;
}

/** Demo account with a one-time code second factor. */
export const ALICE: DemoUser = { login: 'alice', password: 'alice-password', name: 'Alice Example' };
/** Demo account without a second factor. */
export const BOB: DemoUser = { login: 'bob', password: 'bob-password', name: 'Bob Example' };

const MAILBOX_TIMEOUT_MS = 10_000;

interface MailboxMessage {
  id: number;
  login: string;
  code: string;
  sent_at: number;
}

async function readMailbox(request: APIRequestContext, login: string): Promise<MailboxMessage | undefined> {
  const response = await request.get(`${OP_ORIGIN}/dev/mailbox/${login}`);
  if (response.status() === 404) {
    return undefined;
  }
  expect(response.status(), `dev mailbox of ${login}`).toBe(200);
  return (await response.json()) as MailboxMessage;
}

/** Returns the id of the latest message in the dev mailbox of `login`, or 0 when it is empty. */
export async function latestMessageId(request: APIRequestContext, login: string): Promise<number> {
  return (await readMailbox(request, login))?.id ?? 0;
}

/** Polls the dev mailbox until a message newer than `afterId` arrives and returns its code. */
export async function waitForNewCode(request: APIRequestContext, login: string, afterId: number): Promise<string> {
  let code = '';
  await expect
    .poll(
      async () => {
        const message = await readMailbox(request, login);
        if (message && message.id > afterId) {
          code = message.code;
        }
        return message?.id ?? 0;
      },
      { message: `a new one-time code for ${login} in the dev mailbox`, timeout: MAILBOX_TIMEOUT_MS },
    )
    .toBeGreaterThan(afterId);
  expect(code).toMatch(/^[0-9]{6}$/);
  return code;
}

function isProviderInteraction(url: URL): boolean {
  return url.origin === OP_ORIGIN && url.pathname.startsWith('/interaction/');
}

/** Waits for the provider's password form and submits the credentials of `user`. */
export async function submitPassword(page: Page, user: DemoUser): Promise<void> {
  await page.waitForURL(isProviderInteraction);
  await page.locator('input[name=login]').fill(user.login);
  await page.locator('input[name=password]').fill(user.password);
  await page.getByTestId('login-submit').click();
}

/** Waits for the provider's one-time code form, reads the new code for `user` and submits it. */
export async function submitOneTimeCode(
  page: Page,
  request: APIRequestContext,
  user: DemoUser,
  afterMessageId: number,
): Promise<void> {
  await page.waitForURL(isProviderInteraction);
  await expect(page.locator('input[name=code]')).toBeVisible();
  await expect(page.getByTestId('otp-sent')).toContainText('dev mailbox');
  const code = await waitForNewCode(request, user.login, afterMessageId);
  await page.locator('input[name=code]').fill(code);
  await page.getByTestId('otp-submit').click();
}

/**
 * Waits until the page shows `path` of the app. With `search` (such as `?page=2`), the query must match
 * too.
 */
export async function waitForAppPage(page: Page, path: string, search?: string): Promise<void> {
  await page.waitForURL(
    (url) => url.origin === APP_ORIGIN && url.pathname === path && (search === undefined || url.search === search),
  );
}

/** Signs in from the home page with a password only and waits until home shows the user's name. */
export async function signInWithPassword(page: Page, user: DemoUser): Promise<void> {
  await page.goto('/');
  await page.getByTestId('sign-in').click();
  await submitPassword(page, user);
  await waitForAppPage(page, '/');
  await expect(page.getByTestId('user-name')).toHaveText(user.name);
}

/**
 * Records every request that the page sends to the provider's authorization endpoint, redirects included.
 * `page.route()` would miss requests reached through a redirect, so this listens to `request` events.
 */
export function recordAuthorizationRequests(page: Page): URL[] {
  const requests: URL[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === OP_ORIGIN && url.pathname === '/auth') {
      requests.push(url);
    }
  });
  return requests;
}

/** Keeps the authorization requests whose `acr_values` contains `acr`. */
export function requestsForAcr(requests: URL[], acr: string): URL[] {
  return requests.filter((url) => (url.searchParams.get('acr_values') ?? '').split(' ').includes(acr));
}

/** Keeps the authorization requests that carry `max_age` with the value `maxAge`. */
export function requestsWithMaxAge(requests: URL[], maxAge: number): URL[] {
  return requests.filter((url) => url.searchParams.get('max_age') === String(maxAge));
}

/**
 * Adds a CDP virtual authenticator to the page's browser context: a platform authenticator (CTAP2,
 * internal transport) that stores discoverable credentials and reports every user as verified.
 * It contains no credential at first, and it lives as long as the page.
 */
export async function addVirtualAuthenticator(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
}

/**
 * Deletes the passkeys that the provider keeps for `login`. Passkeys outlive a test in the provider's
 * memory, while each test's virtual authenticator starts empty, so a test that registers one calls this
 * first.
 */
export async function deletePasskeys(request: APIRequestContext, login: string): Promise<void> {
  const response = await request.delete(`${OP_ORIGIN}/dev/passkeys/${login}`);
  expect(response.status(), `deleting the passkeys of ${login}`).toBe(200);
}

/**
 * Returns the frame with the provider's passkey buttons. It comes from http://localhost, because WebAuthn
 * rejects the IP-literal origin of the provider's own pages.
 */
export function passkeyFrame(page: Page): FrameLocator {
  return page.frameLocator('[data-testid=passkey-frame]');
}

function isPasskeySubmission(method: string, url: URL): boolean {
  return method === 'POST' && url.origin === OP_ORIGIN && /^\/interaction\/[\w-]+\/passkey$/.test(url.pathname);
}

/** Waits for the provider's passkey page and signs in with a passkey the virtual authenticator holds. */
export async function signInWithPasskey(page: Page): Promise<void> {
  await page.waitForURL(isProviderInteraction);
  await passkeyFrame(page).getByTestId('passkey-signin').click();
}

/**
 * Waits for the provider's passkey page, registers a passkey in the virtual authenticator, and then signs
 * in with it. The account must have no passkey yet (see `deletePasskeys`) and must have proven password
 * and one-time code, so that the page offers registration only.
 */
export async function registerPasskeyAndSignIn(page: Page): Promise<void> {
  await page.waitForURL(isProviderInteraction);
  const frame = passkeyFrame(page);
  await expect(frame.getByTestId('passkey-register')).toBeVisible();
  // Without a passkey there is nothing to sign in with, so the sign-in button that appears below can only
  // belong to the page that the provider returns after the registration.
  await expect(frame.getByTestId('passkey-signin')).toBeHidden();
  const registration = page.waitForRequest(
    (request) => isPasskeySubmission(request.method(), new URL(request.url())),
  );
  await frame.getByTestId('passkey-register').click();
  await registration;
  await signInWithPasskey(page);
}
