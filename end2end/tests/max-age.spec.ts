// /security needs a fresh authentication (max_age=0): opening it sends a signed-in user back to the
// provider's password form, and back to /security afterwards.

import { expect, test } from '@playwright/test';

import {
  ALICE,
  recordAuthorizationRequests,
  requestsWithMaxAge,
  signInWithPassword,
  submitPassword,
  waitForAppPage,
} from './support/flows';
import { OP_ORIGIN } from './support/origins';

test('security page asks for the password again', async ({ page }) => {
  await signInWithPassword(page, ALICE);
  const authorizationRequests = recordAuthorizationRequests(page);

  await page.goto('/security');
  await expect(page.locator('input[name=password]')).toBeVisible();
  expect(new URL(page.url()).origin).toBe(OP_ORIGIN);
  await expect(page.locator('input[name=code]')).toHaveCount(0);
  await submitPassword(page, ALICE);
  await waitForAppPage(page, '/security');

  await expect(page.getByTestId('security-confirmed')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(authorizationRequests, 'authorization requests for /security').toHaveLength(1);
  expect(requestsWithMaxAge(authorizationRequests, 0), 'requests with max_age=0').toHaveLength(1);
});

test('security page without a session signs in once', async ({ page }) => {
  const authorizationRequests = recordAuthorizationRequests(page);

  await page.goto('/security');
  await submitPassword(page, ALICE);
  await waitForAppPage(page, '/security');

  await expect(page.getByTestId('security-confirmed')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(authorizationRequests, 'authorization requests for /security').toHaveLength(1);
  expect(requestsWithMaxAge(authorizationRequests, 0), 'requests with max_age=0').toHaveLength(1);
});
