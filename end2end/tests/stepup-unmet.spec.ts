// A user without a second factor who opens /profile or /transfers, or sends a transfer, gets one
// step-up attempt and then the app's "requirements not met" page, not a redirect loop.

import { expect, test } from '@playwright/test';

import {
  ACR_TWO_FACTOR,
  BOB,
  recordAuthorizationRequests,
  requestsForAcr,
  signInWithPassword,
} from './support/flows';
import { APP_ORIGIN } from './support/origins';

test('user without second factor sees unmet page once', async ({ page }) => {
  await signInWithPassword(page, BOB);
  const authorizationRequests = recordAuthorizationRequests(page);

  await page.goto('/profile');

  await expect(page.getByTestId('stepup-unmet')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(new URL(page.url()).origin).toBe(APP_ORIGIN);
  const stepUpRequests = requestsForAcr(authorizationRequests, ACR_TWO_FACTOR);
  expect(stepUpRequests, 'authorization requests asking for two factors').toHaveLength(1);
});

test('unmet page after transfers list step-up', async ({ page }) => {
  await signInWithPassword(page, BOB);
  const authorizationRequests = recordAuthorizationRequests(page);

  await page.goto('/transfers');

  await expect(page.getByTestId('stepup-unmet')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(new URL(page.url()).origin).toBe(APP_ORIGIN);
  const stepUpRequests = requestsForAcr(authorizationRequests, ACR_TWO_FACTOR);
  expect(stepUpRequests, 'authorization requests asking for two factors').toHaveLength(1);
});

test('unmet page after small transfer step-up', async ({ page }) => {
  await signInWithPassword(page, BOB);
  // The list request is fulfilled in the page, so that the transfer's POST and not the list triggers the step-up.
  // page.route() sees this request because the page fetches it directly, without a redirect.
  await page.route('/api/transfers', async (route) => {
    if (route.request().method() === 'GET') {
      await route.fulfill({ json: { transfers: [] } });
    } else {
      await route.fallback();
    }
  });
  const authorizationRequests = recordAuthorizationRequests(page);

  await page.goto('/transfers');
  await expect(page.getByTestId('transfers-empty')).toBeVisible();
  expect(authorizationRequests, 'the stubbed list must not step up').toHaveLength(0);
  await page.locator('input[name=to]').fill('acct-bob-small');
  await page.locator('input[name=amount]').fill('20');
  await page.getByTestId('transfer-submit').click();

  await expect(page.getByTestId('stepup-unmet')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(new URL(page.url()).origin).toBe(APP_ORIGIN);
  const stepUpRequests = requestsForAcr(authorizationRequests, ACR_TWO_FACTOR);
  expect(stepUpRequests, 'authorization requests asking for two factors').toHaveLength(1);
  expect(authorizationRequests, 'all authorization requests').toHaveLength(1);
});
