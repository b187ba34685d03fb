// Signing out ends the app session and, through RP-initiated logout, the provider session too.

import { expect, test } from '@playwright/test';

import {
  ALICE,
  latestMessageId,
  submitOneTimeCode,
  submitPassword,
  waitForAppPage,
} from './support/flows';
import { OP_ORIGIN } from './support/origins';

test('sign-out ends app and provider sessions', async ({ page, request }) => {
  const lastMessageId = await latestMessageId(request, ALICE.login);
  await page.goto('/profile');
  await submitPassword(page, ALICE);
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await waitForAppPage(page, '/profile');
  await expect(page.getByTestId('profile-greeting')).toHaveText('Hello, Alice Example');

  await page.goto('/');
  await expect(page.getByTestId('user-name')).toHaveText(ALICE.name);
  const providerLogout = page.waitForURL((url) => url.origin === OP_ORIGIN && url.pathname === '/session/end');
  await page.getByTestId('sign-out').click();
  await providerLogout;
  await waitForAppPage(page, '/');

  await expect(page.getByTestId('sign-in')).toBeVisible();
  await expect(page.getByTestId('user-name')).toHaveCount(0);

  await page.goto('/profile');
  await expect(page.locator('input[name=password]')).toBeVisible();
  expect(new URL(page.url()).origin).toBe(OP_ORIGIN);
});
