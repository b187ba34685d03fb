// A user without a second factor who opens /profile gets one step-up attempt and then the app's
// "requirements not met" page, not a redirect loop.

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
