// Development OpenID Provider for the step-up app: `node end2end/provider/server.mjs`.
// Environment variables are documented at readSettings in config.mjs. It listens on 127.0.0.1 only and keeps
// all state (sessions, grants, tokens, signing keys) in memory, so it suits development and tests only.

import { createServer } from 'node:http';

import { Provider } from 'oidc-provider';

import { CLIENT_ID, buildConfiguration, readSettings } from './config.mjs';
import { interactionRoutes } from './interactions.mjs';
import { log } from './log.mjs';
import { DevMailbox, OneTimeCodes } from './one-time-codes.mjs';
import { Passkeys } from './passkeys.mjs';
import { SignInProgress } from './sign-in-progress.mjs';

const LISTEN_HOST = '127.0.0.1';
const SHUTDOWN_GRACE_MS = 3000;

function subscribeToProviderEvents(provider) {
  provider.on('server_error', (ctx, error) => {
    log.error('provider request failed', { 'http.path': ctx.path, error });
  });
  for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'revocation.error']) {
    provider.on(event, (ctx, error) => {
      log.info('protocol error returned to client', {
        event, 'http.path': ctx.path, error: error.error, reason: error.error_description,
      });
    });
  }
  provider.on('interaction.started', (ctx, prompt) => {
    log.info('interaction started', { prompt: prompt.name, reasons: prompt.reasons.join(',') });
  });
  provider.on('end_session.success', () => {
    log.info('session ended');
  });
}

function main() {
  let settings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    log.error('invalid configuration', { error });
    process.exit(2);
  }

  const passkeys = new Passkeys({
    rpId: settings.passkeyRpId,
    origin: settings.passkeyOrigin,
    topOrigin: settings.issuer,
  });
  const provider = new Provider(settings.issuer, buildConfiguration(settings, { passkeys }));
  const mailbox = new DevMailbox({ log });
  const codes = new OneTimeCodes({ mailbox });
  const progress = new SignInProgress();
  provider.use(interactionRoutes({ provider, settings, codes, mailbox, passkeys, progress, log }));
  subscribeToProviderEvents(provider);

  const server = createServer(provider.callback());
  server.on('error', (error) => {
    log.error('provider server failed', { error, port: settings.port });
    process.exit(1);
  });
  server.listen(settings.port, LISTEN_HOST, () => {
    log.info('provider started', {
      issuer: settings.issuer,
      'client.id': CLIENT_ID,
      'client.auth': settings.clientSecret ? 'client_secret_basic' : 'none',
      'client.redirect_uri': settings.redirectUri,
      'passkey.origin': settings.passkeyOrigin,
    });
  });

  function shutdown(signal) {
    log.info('provider stopping', { signal });
    server.close(() => {
      log.info('provider stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
  }
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main();
