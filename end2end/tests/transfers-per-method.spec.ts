// The transfers API needs a different authentication per method and amount: reading the list and small
// transfers need urn:okta:loa:2fa:any, and a transfer above 1000 needs `phr` from the last 300 seconds,
// which the provider meets with a passkey.

import { randomBytes } from 'node:crypto';

import { expect, test } from '@playwright/test';

import {
  ACR_PHISHING_RESISTANT,
  ACR_TWO_FACTOR,
  ALICE,
  addVirtualAuthenticator,
  deletePasskeys,
  latestMessageId,
  recordAuthorizationRequests,
  registerPasskeyAndSignIn,
  requestsForAcr,
  signInWithPassword,
  submitOneTimeCode,
  waitForAppPage,
} from './support/flows';

/** Returns a recipient account that no other test uses, so that list items can be counted. */
function uniqueRecipient(): string {
  return `acct-${randomBytes(4).toString('hex')}`;
}

test('list and small transfer need two factors', async ({ page, request }) => {
  await signInWithPassword(page, ALICE);
  const authorizationRequests = recordAuthorizationRequests(page);
  const lastMessageId = await latestMessageId(request, ALICE.login);

  await page.goto('/transfers');
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await waitForAppPage(page, '/transfers');
  await expect(page.getByTestId('transfers-list').or(page.getByTestId('transfers-empty'))).toBeVisible();
  expect(requestsForAcr(authorizationRequests, ACR_TWO_FACTOR), 'step-up requests for the list').toHaveLength(1);

  const recipient = uniqueRecipient();
  await page.locator('input[name=to]').fill(recipient);
  await page.locator('input[name=amount]').fill('250');
  await page.getByTestId('transfer-submit').click();

  await expect(page.getByTestId('transfer-status')).toContainText(recipient);
  await expect(page.getByTestId('transfer').filter({ hasText: recipient })).toHaveCount(1);
  await expect(page.getByTestId('transfer').filter({ hasText: recipient })).toContainText('250');
  await expect(page.getByTestId('transfer-error')).toHaveCount(0);
  // The form empties once the transfer is made, so a second click does not send it again.
  await expect(page.locator('input[name=to]')).toHaveValue('');
  await expect(page.locator('input[name=amount]')).toHaveValue('');
  expect(authorizationRequests, 'a small transfer needs no further sign-in').toHaveLength(1);
});

test('large transfer steps up to phr with a passkey', async ({ page, request }) => {
  await deletePasskeys(request, ALICE.login);
  await addVirtualAuthenticator(page);
  await signInWithPassword(page, ALICE);
  const lastMessageId = await latestMessageId(request, ALICE.login);
  await page.goto('/transfers');
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await waitForAppPage(page, '/transfers');
  await expect(page.getByTestId('transfers-list').or(page.getByTestId('transfers-empty'))).toBeVisible();
  const authorizationRequests = recordAuthorizationRequests(page);

  const recipient = uniqueRecipient();
  await page.locator('input[name=to]').fill(recipient);
  await page.locator('input[name=amount]').fill('1500');
  await page.getByTestId('transfer-submit').click();
  await registerPasskeyAndSignIn(page);
  await waitForAppPage(page, '/transfers');

  expect(authorizationRequests, 'authorization requests for the large transfer').toHaveLength(1);
  const [stepUp] = authorizationRequests;
  expect(stepUp.searchParams.get('acr_values')).toBe(ACR_PHISHING_RESISTANT);
  expect(stepUp.searchParams.get('max_age')).toBe('300');
  const codeRequests = requestsForAcr(authorizationRequests, ACR_TWO_FACTOR);
  expect(codeRequests, 'no code step for a two-factor session').toHaveLength(0);

  await expect(page.getByTestId('pending-transfer')).toContainText(recipient);
  await page.getByTestId('pending-confirm').click();
  await expect(page.getByTestId('transfer-status')).toContainText(recipient);
  await expect(page.getByTestId('transfer').filter({ hasText: recipient })).toHaveCount(1);
  await expect(page.getByTestId('transfer').filter({ hasText: recipient })).toContainText('1500');
  expect(authorizationRequests, 'the confirmed transfer needs no further sign-in').toHaveLength(1);
});
