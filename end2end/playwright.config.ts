// Browser tests against the real app server and the development OpenID Provider.
//
// Build the app first (`cargo leptos build` from the repository root), then run `npx playwright test` here.
// Playwright starts both servers on 127.0.0.1 and stops them with SIGTERM. Chromium comes from the system
// (CHROMIUM_PATH, default /usr/bin/chromium), so set PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 for `npm ci`.
// STEPUP_SERVER_BIN overrides the server binary, relative to the repository root (for a release build).

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig } from '@playwright/test';

import { APP_ORIGIN, APP_PORT, OP_ORIGIN, OP_PORT } from './tests/support/origins';

const end2endDir = path.dirname(fileURLToPath(import.meta.url));
const repositoryRoot = path.resolve(end2endDir, '..');
const serverBinary = path.resolve(repositoryRoot, process.env.STEPUP_SERVER_BIN ?? 'target/debug/server');

const SERVER_START_TIMEOUT_MS = 60_000;
const gracefulShutdown = { signal: 'SIGTERM' as const, timeout: 5_000 };

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: 'list',
  use: {
    baseURL: APP_ORIGIN,
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  // Playwright starts these in order, so the provider is up before the app reads its discovery document.
  webServer: [
    {
      command: 'node provider/server.mjs',
      cwd: end2endDir,
      // The app server reads its client secret from STEPUP_CLIENT_SECRET. Passing the same value (or none)
      // keeps both sides on one client type, whatever OP_CLIENT_SECRET the caller's environment has.
      env: { OP_PORT: String(OP_PORT), APP_ORIGIN, OP_CLIENT_SECRET: process.env.STEPUP_CLIENT_SECRET ?? '' },
      url: `${OP_ORIGIN}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      stdout: 'pipe',
      gracefulShutdown,
      timeout: SERVER_START_TIMEOUT_MS,
    },
    {
      command: JSON.stringify(serverBinary),
      cwd: repositoryRoot,
      env: {
        LEPTOS_SITE_ADDR: `127.0.0.1:${APP_PORT}`,
        LEPTOS_SITE_ROOT: 'target/site',
        LEPTOS_SITE_PKG_DIR: 'pkg',
        LEPTOS_OUTPUT_NAME: 'stepup-app',
        STEPUP_ISSUER_URL: OP_ORIGIN,
        STEPUP_PUBLIC_URL: APP_ORIGIN,
        RUST_LOG: 'info',
      },
      url: `${APP_ORIGIN}/`,
      reuseExistingServer: false,
      stdout: 'pipe',
      gracefulShutdown,
      timeout: SERVER_START_TIMEOUT_MS,
    },
  ],
});
