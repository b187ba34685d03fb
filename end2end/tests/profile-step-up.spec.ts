// Opening /profile, which requires urn:okta:loa:2fa:any, steps a password session up with a one-time code.

import { expect, test } from '@playwright/test';

import {
  ACR_TWO_FACTOR,
  ALICE,
  latestMessageId,
  signInWithPassword,
  submitOneTimeCode,
  waitForAppPage,
} from './support/flows';

test('profile steps up a password session', async ({ page, request }) => {
  await signInWithPassword(page, ALICE);
  const lastMessageId = await latestMessageId(request, ALICE.login);

  await page.goto('/profile');
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await waitForAppPage(page, '/profile');

  await expect(page.getByTestId('profile-greeting')).toHaveText('Hello, Alice Example');
  await expect(page.getByTestId('claim-acr')).toContainText(ACR_TWO_FACTOR);
});

test('profile step-up asks for the code, not the password', async ({ page, request }) => {
  await signInWithPassword(page, ALICE);
  const lastMessageId = await latestMessageId(request, ALICE.login);

  await page.goto('/profile');
  await expect(page.locator('input[name=code]')).toBeVisible();
  await expect(page.locator('input[name=password]')).toHaveCount(0);
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await waitForAppPage(page, '/profile');
});
