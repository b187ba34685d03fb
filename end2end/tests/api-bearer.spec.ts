// The resource server at /api/* rejects requests without a valid bearer token with 401 and a Bearer challenge.

import { expect, test } from '@playwright/test';

test('API without a token returns a Bearer challenge', async ({ request }) => {
  const response = await request.get('/api/messages');

  expect(response.status()).toBe(401);
  expect(response.headers()['www-authenticate']).toMatch(/^Bearer\b/);
});

test('API rejects a malformed bearer token', async ({ request }) => {
  const response = await request.get('/api/messages', {
    headers: { Authorization: 'Bearer not.a.jwt' },
  });

  expect(response.status()).toBe(401);
  const challenge = response.headers()['www-authenticate'];
  expect(challenge).toMatch(/^Bearer\b/);
  expect(challenge).toContain('error="invalid_token"');
});
