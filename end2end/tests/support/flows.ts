// Steps that several specs share: password sign-in, reading one-time codes from the provider's dev mailbox,
// and recording the authorization requests that a page sends.

import { type APIRequestContext, type Page, expect } from '@playwright/test';

import { APP_ORIGIN, OP_ORIGIN } from './origins';

export const ACR_TWO_FACTOR = 'urn:okta:loa:2fa:any';

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

/** Waits until the page shows `path` of the app. */
export async function waitForAppPage(page: Page, path: string): Promise<void> {
  await page.waitForURL((url) => url.origin === APP_ORIGIN && url.pathname === path);
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
