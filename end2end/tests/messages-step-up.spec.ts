// /messages calls the API. The API's step-up challenge sends the browser back to the provider with the
// challenge's acr_values, and the messages load after the one-time code.

import { expect, test } from '@playwright/test';

import {
  ACR_TWO_FACTOR,
  ALICE,
  latestMessageId,
  recordAuthorizationRequests,
  requestsForAcr,
  signInWithPassword,
  submitOneTimeCode,
  waitForAppPage,
} from './support/flows';

test('API challenge steps up and messages load', async ({ page, request }) => {
  await signInWithPassword(page, ALICE);
  const authorizationRequests = recordAuthorizationRequests(page);
  const lastMessageId = await latestMessageId(request, ALICE.login);

  await page.goto('/messages');
  await submitOneTimeCode(page, request, ALICE, lastMessageId);

  const stepUpRequests = requestsForAcr(authorizationRequests, ACR_TWO_FACTOR);
  expect(stepUpRequests, 'authorization requests with the challenge acr_values').toHaveLength(1);

  await waitForAppPage(page, '/messages');
  await expect(page.getByTestId('messages-list')).toBeVisible();
  await expect(page.getByTestId('message')).not.toHaveCount(0);
  await expect(page.getByTestId('messages-error')).toHaveCount(0);
});
