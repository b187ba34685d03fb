// Interaction routes (password, one-time code and passkey steps), the passkey frame and the dev endpoints,
// as Koa middleware that runs before oidc-provider's own routes and passes on every other request.
//
// Flow of a login prompt:
// 1. Without a session, or when a built-in login check fired (max_age, prompt=login, id_token_hint), the
//    user enters a password. Otherwise only the step-up check fired, and the factors of the session count
//    as proven.
// 2. The request's acr_values give a target level for the account (levels.mjs). Below it, the next step is
//    a one-time code (to the dev mailbox) for `urn:okta:loa:2fa:any`, and the passkey page for `phr`.
//    There the user signs in with a registered passkey. Once password and code are proven, the page also
//    offers to register one first. An account without a second factor ends with
//    `unmet_authentication_requirements`, which oidc-provider redirects to the client.
// 3. The result carries the acr, amr and time of this authentication, which oidc-provider stores in the
//    session and stamps on codes and tokens.

import { errors } from 'oidc-provider';

import { findAccountById, listDemoAccounts, verifyPassword } from './accounts.mjs';
import { STEP_UP_REASON } from './config.mjs';
import {
  AMR,
  Level,
  PASSWORD_LEVEL,
  Step,
  TWO_FACTOR_LEVEL,
  enrolledFactors,
  levelOfAmr,
  mayRegisterPasskey,
  nextStep,
  parseAcrValues,
  phishingResistantLevel,
  requestedLevels,
  targetLevel,
} from './levels.mjs';
import { CodeCheck } from './one-time-codes.mjs';
import { Ceremony, PasskeyRejected } from './passkeys.mjs';
import { codePage, errorPage, loginPage, passkeyFramePage, passkeyPage } from './views.mjs';

const MAX_FORM_BYTES = 8 * 1024;
const INVALID_CREDENTIALS = 'Invalid username or password.';
const PASSKEY_REJECTED = 'The passkey could not be verified. Try again.';
const CODE_MESSAGES = Object.freeze({
  [CodeCheck.invalid]: 'Invalid code. Enter the latest code from the dev mailbox.',
  [CodeCheck.expired]: 'The code has expired. Send a new code.',
  [CodeCheck.tooManyAttempts]: 'Too many invalid codes. Send a new code.',
});

const INTERACTION_ROUTE = /^\/interaction\/([\w-]+)(\/login|\/code|\/code\/resend|\/passkey|\/abort)?$/;
const MAILBOX_ROUTE = /^\/dev\/mailbox\/([\w.-]+)$/;
const DEV_PASSKEYS_ROUTE = /^\/dev\/passkeys\/([\w.-]+)$/;
const PASSKEY_FRAME_PATH = '/passkey/frame';

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function epochSeconds() {
  return Math.floor(Date.now() / 1000);
}

async function readForm(ctx) {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'The form must be sent as application/x-www-form-urlencoded.');
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) {
      throw new HttpError(413, `The form is larger than ${MAX_FORM_BYTES} bytes.`);
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(ctx, html, status = 200) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

function seeOther(ctx, location) {
  ctx.status = 303;
  ctx.redirect(location);
}

/** Reports whether this interaction needs a password, as opposed to stronger factors on top of the session. */
function needsPassword(interaction) {
  if (!interaction.session?.accountId) {
    return true;
  }
  return interaction.prompt.reasons.some((reason) => reason !== STEP_UP_REASON);
}

function requestedLevelsOf(interaction) {
  return requestedLevels(parseAcrValues(interaction.params.acr_values));
}

/** Returns the `acr` and `amr` that the proven methods `amr` give. */
function resultLevel(amr) {
  const level = levelOfAmr(amr);
  if (level === Level.phishingResistant) {
    return phishingResistantLevel(amr.filter((method) => method !== AMR.passkey));
  }
  return level === Level.twoFactor ? TWO_FACTOR_LEVEL : PASSWORD_LEVEL;
}

/**
 * Creates the middleware. `settings` is the output of readSettings, `codes` a OneTimeCodes store,
 * `mailbox` a DevMailbox, `passkeys` a Passkeys store, `progress` a SignInProgress and `log` the logger.
 */
export function interactionRoutes({ provider, settings, codes, mailbox, passkeys, progress, log }) {
  async function loadInteraction(ctx, uid) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== uid) {
      throw new errors.SessionNotFound('interaction cookie does not match the URL');
    }
    if (interaction.prompt.name !== 'login') {
      // The first-party grant in config.mjs covers consent, so only the login prompt reaches this point.
      throw new Error(`unsupported interaction prompt ${interaction.prompt.name}`);
    }
    return interaction;
  }

  /**
   * Returns `{ accountId, amr }` proven so far: what this interaction recorded, or else the session's
   * methods when only the step-up check fired. Returns `undefined` when the password comes first.
   */
  function provenFactors(interaction) {
    const recorded = progress.get(interaction.uid);
    if (recorded) {
      return recorded;
    }
    if (needsPassword(interaction)) {
      return undefined;
    }
    return { accountId: interaction.session.accountId, amr: interaction.session.amr ?? [] };
  }

  function targetFor(interaction, account) {
    return targetLevel(requestedLevelsOf(interaction), enrolledFactors(account, passkeys));
  }

  function forget(uid) {
    codes.discard(uid);
    passkeys.discard(uid);
    progress.discard(uid);
  }

  async function finish(ctx, result) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    seeOther(ctx, returnTo);
  }

  function finishSignIn(ctx, interaction, accountId, level) {
    forget(interaction.uid);
    log.info('sign-in completed', {
      'interaction.uid': interaction.uid, 'user.sub': accountId, 'auth.acr': level.acr, 'auth.amr': level.amr.join(','),
    });
    return finish(ctx, {
      login: { accountId, acr: level.acr, amr: [...level.amr], ts: epochSeconds(), remember: true },
    });
  }

  function finishUnmet(ctx, interaction, accountId) {
    forget(interaction.uid);
    log.info('requested level cannot be reached by the account', {
      'interaction.uid': interaction.uid, 'user.sub': accountId, 'auth.acr_values': interaction.params.acr_values,
    });
    return finish(ctx, {
      error: 'unmet_authentication_requirements',
      error_description: 'the account has no factor enrolled that meets the requested acr_values',
    });
  }

  async function renderLogin(ctx, interaction, { login, errorMessage } = {}) {
    const { required, preferred } = requestedLevelsOf(interaction);
    let stepUp;
    if (required >= Level.phishingResistant) {
      stepUp = 'phishingResistant';
    } else if (preferred >= Level.twoFactor) {
      stepUp = 'twoFactor';
    }
    const client = await provider.Client.find(interaction.params.client_id);
    sendHtml(ctx, loginPage({
      uid: interaction.uid,
      clientName: client?.clientName ?? interaction.params.client_id,
      demoAccounts: listDemoAccounts(),
      login,
      errorMessage,
      stepUp,
    }));
  }

  function renderCode(ctx, interaction, accountId, errorMessage) {
    sendHtml(ctx, codePage({ uid: interaction.uid, login: accountId, errorMessage }));
  }

  async function renderPasskey(ctx, interaction, proven, errorMessage) {
    const account = findAccountById(proven.accountId);
    const mayRegister = mayRegisterPasskey(proven.amr);
    const options = await passkeys.start(interaction.uid, account, { registration: mayRegister, authentication: true });
    const frameUrl = `${settings.passkeyOrigin}${PASSKEY_FRAME_PATH}#${encodeURIComponent(JSON.stringify(options))}`;
    sendHtml(ctx, passkeyPage({
      uid: interaction.uid,
      login: account.accountId,
      frameUrl,
      passkeyOrigin: settings.passkeyOrigin,
      hasPasskey: passkeys.has(account.accountId),
      mayRegister,
      errorMessage,
    }), errorMessage ? 400 : 200);
  }

  /**
   * Takes the step after a factor was verified in this request: finishes the sign-in, or records the
   * proven factors and continues with a one-time code or the passkey page, or ends with unmet.
   */
  async function advance(ctx, interaction, proven) {
    const account = findAccountById(proven.accountId);
    const step = nextStep(targetFor(interaction, account), proven.amr, enrolledFactors(account, passkeys));
    switch (step) {
      case Step.done:
        await finishSignIn(ctx, interaction, proven.accountId, resultLevel(proven.amr));
        return;
      case Step.oneTimeCode:
        progress.record(interaction.uid, proven.accountId, proven.amr);
        codes.issue(interaction.uid, proven.accountId);
        seeOther(ctx, `/interaction/${interaction.uid}`);
        return;
      case Step.passkey:
        progress.record(interaction.uid, proven.accountId, proven.amr);
        seeOther(ctx, `/interaction/${interaction.uid}`);
        return;
      default:
        await finishUnmet(ctx, interaction, proven.accountId);
    }
  }

  async function showInteraction(ctx, uid) {
    const interaction = await loadInteraction(ctx, uid);
    const pendingAccountId = codes.pendingAccountId(uid);
    if (pendingAccountId) {
      renderCode(ctx, interaction, pendingAccountId);
      return;
    }
    const proven = provenFactors(interaction);
    if (!proven) {
      await renderLogin(ctx, interaction);
      return;
    }

    const account = findAccountById(proven.accountId);
    const step = nextStep(targetFor(interaction, account), proven.amr, enrolledFactors(account, passkeys));
    switch (step) {
      case Step.oneTimeCode:
        progress.record(uid, proven.accountId, proven.amr);
        codes.issue(uid, proven.accountId);
        renderCode(ctx, interaction, proven.accountId);
        return;
      case Step.passkey:
        await renderPasskey(ctx, interaction, proven);
        return;
      case Step.unmet:
        await finishUnmet(ctx, interaction, proven.accountId);
        return;
      default:
        // The proven factors already meet the target although a prompt fired. Finishing here would renew
        // auth_time without any factor, so the password is asked for instead.
        log.warn('step-up prompt without a missing factor', { 'interaction.uid': uid, 'user.sub': proven.accountId });
        progress.discard(uid);
        await renderLogin(ctx, interaction);
    }
  }

  async function submitPassword(ctx, uid) {
    const interaction = await loadInteraction(ctx, uid);
    const form = await readForm(ctx);
    const login = form.get('login') ?? '';
    const account = verifyPassword(login, form.get('password') ?? '');
    if (!account) {
      log.info('password sign-in rejected', { 'interaction.uid': uid, login });
      await renderLogin(ctx, interaction, { login, errorMessage: INVALID_CREDENTIALS });
      return;
    }

    forget(uid);
    await advance(ctx, interaction, { accountId: account.accountId, amr: [AMR.password] });
  }

  async function submitCode(ctx, uid) {
    const interaction = await loadInteraction(ctx, uid);
    const form = await readForm(ctx);
    const accountId = codes.pendingAccountId(uid);
    if (!accountId) {
      seeOther(ctx, `/interaction/${uid}`);
      return;
    }

    const outcome = codes.verify(uid, form.get('code'));
    if (outcome === CodeCheck.valid) {
      const before = progress.get(uid)?.amr ?? [AMR.password];
      await advance(ctx, interaction, { accountId, amr: [...new Set([...before, AMR.oneTimeCode])] });
      return;
    }
    log.info('one-time code rejected', { 'interaction.uid': uid, 'user.sub': accountId, reason: outcome });
    renderCode(ctx, interaction, accountId, CODE_MESSAGES[outcome]);
  }

  async function resendCode(ctx, uid) {
    await loadInteraction(ctx, uid);
    const accountId = codes.pendingAccountId(uid);
    if (accountId) {
      codes.issue(uid, accountId);
    }
    seeOther(ctx, `/interaction/${uid}`);
  }

  async function submitPasskey(ctx, uid) {
    const interaction = await loadInteraction(ctx, uid);
    const form = await readForm(ctx);
    const proven = provenFactors(interaction);
    if (!proven) {
      seeOther(ctx, `/interaction/${uid}`);
      return;
    }
    const ceremony = form.get('ceremony');
    if (ceremony !== Ceremony.registration && ceremony !== Ceremony.authentication) {
      throw new HttpError(400, 'The ceremony must be "registration" or "authentication".');
    }
    let response;
    try {
      response = JSON.parse(form.get('credential') ?? '');
    } catch {
      throw new HttpError(400, 'The passkey response is not valid JSON.');
    }
    if (typeof response !== 'object' || response === null || typeof response.response !== 'object') {
      throw new HttpError(400, 'The passkey response is not a WebAuthn credential.');
    }

    const fields = { 'interaction.uid': uid, 'user.sub': proven.accountId, 'passkey.ceremony': ceremony };
    try {
      if (ceremony === Ceremony.registration) {
        // NOTE: the session's two factors count however long ago they were proven. A deployed provider
        // would ask for recent ones before it adds a credential.
        if (!mayRegisterPasskey(proven.amr)) {
          throw new PasskeyRejected('registration needs two proven factors');
        }
        const credentialId = await passkeys.finishRegistration(uid, proven.accountId, response);
        log.info('passkey registered', { ...fields, 'passkey.id': credentialId });
        seeOther(ctx, `/interaction/${uid}`);
        return;
      }
      const credentialId = await passkeys.finishAuthentication(uid, proven.accountId, response);
      log.info('passkey verified', { ...fields, 'passkey.id': credentialId });
      await finishSignIn(ctx, interaction, proven.accountId, phishingResistantLevel(proven.amr));
    } catch (error) {
      if (!(error instanceof PasskeyRejected)) {
        throw error;
      }
      log.info('passkey response rejected', { ...fields, reason: error.message });
      await renderPasskey(ctx, interaction, proven, PASSKEY_REJECTED);
    }
  }

  async function abort(ctx, uid) {
    const interaction = await loadInteraction(ctx, uid);
    forget(uid);
    log.info('sign-in cancelled by the user', { 'interaction.uid': interaction.uid });
    await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  }

  function readMailbox(ctx, login) {
    const message = mailbox.latest(login);
    ctx.set('Cache-Control', 'no-store');
    if (!message) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: `no message for ${login}` };
      return;
    }
    ctx.body = message;
  }

  /** Lists (GET) or deletes (DELETE) the passkeys of a demo account, so tests can start without one. */
  function devPasskeys(ctx, login) {
    ctx.set('Cache-Control', 'no-store');
    if (!findAccountById(login)) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: `no account ${login}` };
      return;
    }
    if (ctx.method === 'DELETE') {
      const deleted = passkeys.removeAll(login);
      log.info('dev passkeys deleted', { login, count: deleted });
      ctx.body = { login, deleted };
      return;
    }
    ctx.body = { login, passkeys: passkeys.list(login) };
  }

  function passkeyFrame(ctx) {
    const { html, contentSecurityPolicy } = passkeyFramePage({ topOrigin: settings.issuer });
    ctx.set('Content-Security-Policy', contentSecurityPolicy);
    sendHtml(ctx, html);
  }

  const handlers = {
    'GET ': showInteraction,
    'POST /login': submitPassword,
    'POST /code': submitCode,
    'POST /code/resend': resendCode,
    'POST /passkey': submitPasskey,
    'POST /abort': abort,
  };

  return async function routeInteractions(ctx, next) {
    const mailboxMatch = MAILBOX_ROUTE.exec(ctx.path);
    if (mailboxMatch && ctx.method === 'GET') {
      readMailbox(ctx, mailboxMatch[1]);
      return;
    }
    const devPasskeysMatch = DEV_PASSKEYS_ROUTE.exec(ctx.path);
    if (devPasskeysMatch && (ctx.method === 'GET' || ctx.method === 'DELETE')) {
      devPasskeys(ctx, devPasskeysMatch[1]);
      return;
    }
    if (ctx.path === PASSKEY_FRAME_PATH && ctx.method === 'GET') {
      passkeyFrame(ctx);
      return;
    }

    const match = INTERACTION_ROUTE.exec(ctx.path);
    const handler = match ? handlers[`${ctx.method} ${match[2] ?? ''}`] : undefined;
    if (!handler) {
      await next();
      return;
    }

    const uid = match[1];
    try {
      await handler(ctx, uid);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) {
        log.info('interaction not found', { 'interaction.uid': uid, reason: error.error_description });
        sendHtml(ctx, errorPage({
          title: 'Sign-in expired',
          message: 'This sign-in is no longer active. Return to the application and sign in again.',
        }), 400);
      } else if (error instanceof HttpError) {
        log.info('interaction request rejected', { 'interaction.uid': uid, 'http.status': error.status, reason: error.message });
        sendHtml(ctx, errorPage({ title: 'Bad request', message: error.message }), error.status);
      } else {
        log.error('interaction failed', { 'interaction.uid': uid, error });
        sendHtml(ctx, errorPage({ title: 'Server error', message: 'The provider failed to handle this step.' }), 500);
      }
    }
  };
}
