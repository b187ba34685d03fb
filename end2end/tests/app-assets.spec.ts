// The home page's hydration assets load. Without them no page hydrates, and the specs that need the
// browser side of the app wait until they time out.

import { expect, test } from '@playwright/test';

test('home page assets load', async ({ request }) => {
  const home = await request.get('/');
  expect(home.status()).toBe(200);
  const html = await home.text();
  const assetPaths = [...html.matchAll(/(?:href|src)="(\/pkg\/[^"]+)"/g)].map((match) => match[1]);
  expect(assetPaths, 'assets under /pkg/ that the home page references').not.toHaveLength(0);

  for (const path of assetPaths) {
    const response = await request.get(path);
    // A server binary built by plain cargo instead of `cargo leptos build` references
    // `/pkg/<name>_bg.wasm`, which cargo-leptos does not write (leptos 0.8.23, src/hydration/mod.rs).
    expect(response.status(), `GET ${path}; rebuild with \`cargo leptos build\` if it is missing`).toBe(200);
  }
});
