// A large transfer that triggers a step-up is kept on the server while the user signs in with a passkey.
// Back on /transfers the user confirms or discards it, and a confirmed transfer runs exactly once.

import { randomBytes } from 'node:crypto';

import { type APIRequestContext, type Page, expect, test } from '@playwright/test';

import {
  ALICE,
  addVirtualAuthenticator,
  deletePasskeys,
  latestMessageId,
  registerPasskeyAndSignIn,
  signInWithPassword,
  submitOneTimeCode,
  waitForAppPage,
} from './support/flows';

const LARGE_AMOUNT = '2500';

/**
 * Signs alice in with two factors, submits a large transfer to a new recipient, completes the passkey
 * step-up, and returns the recipient once /transfers shows the pending transfer.
 */
async function leavePendingTransfer(page: Page, request: APIRequestContext): Promise<string> {
  await deletePasskeys(request, ALICE.login);
  await addVirtualAuthenticator(page);
  await signInWithPassword(page, ALICE);
  const lastMessageId = await latestMessageId(request, ALICE.login);
  await page.goto('/transfers');
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await waitForAppPage(page, '/transfers');
  await expect(page.getByTestId('transfers-list').or(page.getByTestId('transfers-empty'))).toBeVisible();

  const recipient = `acct-${randomBytes(4).toString('hex')}`;
  await page.locator('input[name=to]').fill(recipient);
  await page.locator('input[name=amount]').fill(LARGE_AMOUNT);
  await page.getByTestId('transfer-submit').click();
  await registerPasskeyAndSignIn(page);
  await waitForAppPage(page, '/transfers');

  const pending = page.getByTestId('pending-transfer');
  await expect(pending).toContainText(recipient);
  await expect(pending).toContainText(LARGE_AMOUNT);
  await expect(page.getByTestId('pending-confirm')).toBeVisible();
  await expect(page.getByTestId('pending-discard')).toBeVisible();
  return recipient;
}

/** Waits until the transfers list (or its empty state) has loaded. */
async function waitForList(page: Page): Promise<void> {
  await expect(page.getByTestId('transfers-list').or(page.getByTestId('transfers-empty'))).toBeVisible();
}

test('pending transfer runs once after confirm', async ({ page, request }) => {
  const recipient = await leavePendingTransfer(page, request);
  const items = page.getByTestId('transfer').filter({ hasText: recipient });
  await waitForList(page);
  await expect(items, 'the pending transfer must not run before the confirmation').toHaveCount(0);

  await page.getByTestId('pending-confirm').click();
  await expect(page.getByTestId('transfer-status')).toContainText(recipient);
  await expect(page.getByTestId('pending-transfer')).toHaveCount(0);
  await expect(items).toHaveCount(1);
  await expect(items).toContainText(LARGE_AMOUNT);

  await page.reload();
  await waitForAppPage(page, '/transfers');
  await waitForList(page);
  await expect(items).toHaveCount(1);
  await expect(page.getByTestId('pending-transfer')).toHaveCount(0);
});

test('discarded pending transfer never runs', async ({ page, request }) => {
  const recipient = await leavePendingTransfer(page, request);

  await page.getByTestId('pending-discard').click();
  await expect(page.getByTestId('pending-transfer')).toHaveCount(0);

  await page.reload();
  await waitForAppPage(page, '/transfers');
  await waitForList(page);
  await expect(page.getByTestId('pending-transfer')).toHaveCount(0);
  await expect(page.getByTestId('transfer').filter({ hasText: recipient })).toHaveCount(0);
});
