// Settings from the environment and the oidc-provider 9.13 configuration built from them.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

import { errors, interactionPolicy } from 'oidc-provider';

import { findAccount, findAccountById } from './accounts.mjs';
import {
  SUPPORTED_ACR_VALUES,
  enrolledFactors,
  levelOfAcr,
  parseAcrValues,
  requestedLevels,
  targetLevel,
} from './levels.mjs';
import { logoutPage, logoutSuccessPage, protocolErrorPage } from './views.mjs';

export const CLIENT_ID = 'stepup-app';
export const API_RESOURCE = 'api://default';
/** Scopes of the API resource server. The first-party client gets them without a consent page. */
export const API_SCOPES = 'messages:read';
/** Reason of the login prompt check that requests a stronger factor from an already signed-in user. */
export const STEP_UP_REASON = 'acr_step_up';

function parsePort(value, name) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a TCP port number (1-65535), got ${JSON.stringify(value)}`);
  }
  return port;
}

function parseSeconds(value, name) {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new Error(`${name} must be a positive whole number of seconds, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

function parseOrigin(value, name) {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value) {
    throw new Error(`${name} must be an origin such as http://127.0.0.1:3000 (no path or trailing slash), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Reads the provider settings from environment variables.
 *
 * - OP_PORT: listening port on 127.0.0.1 (default 4000). The issuer is `http://127.0.0.1:${OP_PORT}`.
 * - APP_ORIGIN: origin of the relying party (default http://127.0.0.1:3000), which gives its redirect URI
 *   `${APP_ORIGIN}/auth/callback` and post-logout redirect URI `${APP_ORIGIN}/`.
 * - OP_CLIENT_SECRET: when set, the client is confidential and authenticates with client_secret_basic.
 * - OP_ACCESS_TOKEN_TTL: access token lifetime in seconds (default 600).
 *
 * Passkeys use the RP ID `localhost` and the origin `http://localhost:${OP_PORT}`, because WebAuthn
 * rejects the IP-literal issuer origin (see passkeys.mjs).
 *
 * @throws {Error} naming the variable when a value is invalid.
 */
export function readSettings(env) {
  const port = parsePort(env.OP_PORT ?? '4000', 'OP_PORT');
  const appOrigin = parseOrigin(env.APP_ORIGIN ?? 'http://127.0.0.1:3000', 'APP_ORIGIN');
  const clientSecret = env.OP_CLIENT_SECRET ? env.OP_CLIENT_SECRET : undefined;
  const accessTokenTtl = parseSeconds(env.OP_ACCESS_TOKEN_TTL ?? '600', 'OP_ACCESS_TOKEN_TTL');
  return {
    port,
    issuer: `http://127.0.0.1:${port}`,
    appOrigin,
    redirectUri: `${appOrigin}/auth/callback`,
    postLogoutRedirectUri: `${appOrigin}/`,
    clientSecret,
    accessTokenTtl,
    passkeyRpId: 'localhost',
    passkeyOrigin: `http://localhost:${port}`,
  };
}

function clientMetadata(settings) {
  const common = {
    client_id: CLIENT_ID,
    client_name: 'Step-up demo app',
    application_type: 'web',
    redirect_uris: [settings.redirectUri],
    post_logout_redirect_uris: [settings.postLogoutRedirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    require_auth_time: true,
  };
  if (settings.clientSecret) {
    return { ...common, client_secret: settings.clientSecret, token_endpoint_auth_method: 'client_secret_basic' };
  }
  return { ...common, token_endpoint_auth_method: 'none' };
}

/**
 * Generates the signing key of this process.
 *
 * NOTE: keys live only as long as the process, so tokens from an earlier start fail verification. That is
 * fine for development and tests, never for a deployed provider.
 */
function generateSigningKeys() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
}

/**
 * Adds a login prompt check that compares the level the requested acr_values need from the signed-in
 * account with the level of the session's acr.
 *
 * oidc-provider treats acr_values as voluntary and would return the session's one-factor acr, so without
 * this check a step-up request would not prompt at all.
 */
function buildInteractionPolicy(passkeys) {
  const policy = interactionPolicy.base();
  const stepUpCheck = new interactionPolicy.Check(
    STEP_UP_REASON,
    'the requested authentication context class needs a stronger factor',
    (ctx) => {
      const { session, params } = ctx.oidc;
      if (!session.accountId) {
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      }
      const account = findAccountById(session.accountId);
      const requested = requestedLevels(parseAcrValues(params.acr_values));
      const target = targetLevel(requested, enrolledFactors(account, passkeys));
      if (levelOfAcr(session.acr) < target) {
        return interactionPolicy.Check.REQUEST_PROMPT;
      }
      return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    },
  );
  policy.get('login').checks.add(stepUpCheck);
  return policy;
}

/**
 * Grants every requested scope, claim and API scope to the first-party client, so no consent page appears.
 *
 * This replaces oidc-provider's `loadExistingGrant`, which would otherwise send the user to a consent
 * interaction on every new scope.
 */
async function loadOrCreateFirstPartyGrant(ctx) {
  const { oidc } = ctx;
  const { Grant } = oidc.provider;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await Grant.find(grantId) : undefined;
  if (oidc.client.clientId !== CLIENT_ID) {
    return grant;
  }

  grant ??= new Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  grant.addOIDCClaims([...oidc.requestParamClaims]);
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers)) {
    const requested = [...oidc.requestParamScopes].filter((scope) => resourceServer.scopes.has(scope));
    grant.addResourceScope(indicator, requested.join(' '));
  }
  await grant.save();
  return grant;
}

/**
 * Copies `acr`, `amr` and `auth_time` into JWT access tokens.
 *
 * The values come from the authorization code at the code exchange and from the refresh token at a
 * refresh. Both were stamped from the session when the user authenticated, so a refresh keeps them.
 */
async function authenticationClaimsForAccessToken(ctx, token) {
  if (token.kind !== 'AccessToken') {
    return undefined;
  }
  const source = ctx?.oidc?.entities.AuthorizationCode ?? ctx?.oidc?.entities.RefreshToken;
  if (!source) {
    return undefined;
  }
  return { acr: source.acr, amr: source.amr, auth_time: source.authTime };
}

/**
 * Renders RP-initiated logout: without a question when the request names the signed-in user through
 * `id_token_hint` and carries a registered `post_logout_redirect_uri`, with a confirmation page otherwise.
 */
async function renderLogout(ctx, form) {
  const { params, session, entities } = ctx.oidc;
  // oidc-provider has already validated the hint's signature and audience, and has dropped or rejected a
  // post_logout_redirect_uri that the client did not register.
  const hintedSubject = entities.IdTokenHint?.payload?.sub;
  const autoSubmit = Boolean(params.post_logout_redirect_uri)
    && hintedSubject !== undefined
    && hintedSubject === session.accountId;
  ctx.type = 'html';
  ctx.body = logoutPage({ form, host: ctx.host, autoSubmit });
}

/**
 * Builds the oidc-provider configuration from `readSettings` output. `passkeys` is the Passkeys store
 * that the login prompt check consults.
 */
export function buildConfiguration(settings, { passkeys }) {
  return {
    clients: [clientMetadata(settings)],
    jwks: generateSigningKeys(),
    cookies: {
      // Random per start: sessions and interactions from an earlier start become invalid.
      keys: [randomBytes(32).toString('base64url')],
    },
    acrValues: [...SUPPORTED_ACR_VALUES],
    // acr, amr and auth_time sit under the openid scope so that every ID token carries them. As standalone
    // claims, oidc-provider would include them only when the request names them (acr through acr_values).
    claims: {
      iss: null,
      sid: null,
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    // Put profile and email claims into the ID token even though the userinfo endpoint exists, because the
    // access token is for the API and cannot call userinfo.
    conformIdTokenClaims: false,
    findAccount,
    loadExistingGrant: loadOrCreateFirstPartyGrant,
    // Issues refresh tokens to the first-party client even without `prompt=consent`. oidc-provider drops the
    // offline_access scope when a request has a `prompt` without `consent`, and its default
    // issueRefreshToken requires that scope.
    issueRefreshToken: async (_ctx, client) => client.clientId === CLIENT_ID && client.grantTypeAllowed('refresh_token'),
    extraTokenClaims: authenticationClaimsForAccessToken,
    interactions: {
      policy: buildInteractionPolicy(passkeys),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    pkce: { required: () => true },
    responseTypes: ['code'],
    clientBasedCORS: () => false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: renderLogout,
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = logoutSuccessPage();
        },
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // The relying party sends no `resource`, so every access token is for the API.
        defaultResource: async () => API_RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (resourceIndicator !== API_RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: API_SCOPES,
            audience: API_RESOURCE,
            accessTokenTTL: settings.accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = protocolErrorPage(out);
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? settings.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 10 * 60,
      Interaction: 60 * 60,
      RefreshToken: 24 * 60 * 60,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
    },
  };
}
