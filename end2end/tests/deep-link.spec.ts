// A deep link opened without a session survives the sign-in: the browser comes back to the same path and
// query, not to the home page.

import { expect, test } from '@playwright/test';

import { ALICE, latestMessageId, submitOneTimeCode, submitPassword, waitForAppPage } from './support/flows';
import { APP_ORIGIN } from './support/origins';

test('deep link returns after sign-in', async ({ page, request }) => {
  const appPages: string[] = [];
  page.on('framenavigated', (frame) => {
    const url = new URL(frame.url());
    if (frame === page.mainFrame() && url.origin === APP_ORIGIN) {
      appPages.push(`${url.pathname}${url.search}`);
    }
  });
  const lastMessageId = await latestMessageId(request, ALICE.login);

  await page.goto('/messages?page=2');
  await submitPassword(page, ALICE);
  // The messages API then requests a second factor, and that step-up returns to the same page again.
  await submitOneTimeCode(page, request, ALICE, lastMessageId);
  await waitForAppPage(page, '/messages', '?page=2');
  await expect(page.getByTestId('messages-list')).toBeVisible();

  expect(appPages[0], 'first app page').toBe('/messages?page=2');
  const afterSignIn = appPages.filter((path) => !path.startsWith('/auth/'));
  expect(afterSignIn, 'app pages shown outside the sign-in routes').toEqual(
    afterSignIn.map(() => '/messages?page=2'),
  );
  expect(appPages, 'the home page must not be shown').not.toContain('/');
});
