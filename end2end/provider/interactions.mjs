// Interaction routes (password step, one-time code step) and the dev mailbox, as Koa middleware that
// runs after oidc-provider's own routes.
//
// Flow of a login prompt:
// 1. Without a session, or when a built-in login check fired (max_age, prompt=login, id_token_hint), the
//    user enters a password. Otherwise only the step-up check fired and the session's password sign-in
//    remains valid.
// 2. When the request's acr_values need a second factor and the account has one, a one-time code goes to
//    the dev mailbox and the user enters it. Without an enrolled factor the interaction ends with the
//    `unmet_authentication_requirements` error, which oidc-provider redirects to the client.
// 3. The result carries the acr, amr and time of this authentication, which oidc-provider stores in the
//    session and stamps on codes and tokens.

import { errors } from 'oidc-provider';

import { findAccountById, listDemoAccounts, verifyPassword } from './accounts.mjs';
import { STEP_UP_REASON } from './config.mjs';
import {
  PASSWORD_LEVEL,
  SecondFactor,
  TWO_FACTOR_LEVEL,
  mustUseSecondFactor,
  parseAcrValues,
  secondFactorRequirement,
} from './levels.mjs';
import { CodeCheck } from './one-time-codes.mjs';
import { codePage, errorPage, loginPage } from './views.mjs';

const MAX_FORM_BYTES = 8 * 1024;
const INVALID_CREDENTIALS = 'Invalid username or password.';
const CODE_MESSAGES = Object.freeze({
  [CodeCheck.invalid]: 'Invalid code. Enter the latest code from the dev mailbox.',
  [CodeCheck.expired]: 'The code has expired. Send a new code.',
  [CodeCheck.tooManyAttempts]: 'Too many invalid codes. Send a new code.',
});

const INTERACTION_ROUTE = /^\/interaction\/([\w-]+)(\/login|\/code|\/code\/resend|\/abort)?$/;
const MAILBOX_ROUTE = /^\/dev\/mailbox\/([\w.-]+)$/;

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

/** Reports whether this interaction needs a password, as opposed to a second factor on top of the session. */
function needsPassword(interaction) {
  if (!interaction.session?.accountId) {
    return true;
  }
  return interaction.prompt.reasons.some((reason) => reason !== STEP_UP_REASON);
}

function requirementOf(interaction) {
  return secondFactorRequirement(parseAcrValues(interaction.params.acr_values));
}

/**
 * Creates the middleware. `codes` is a OneTimeCodes store, `mailbox` a DevMailbox, `log` the logger.
 */
export function interactionRoutes({ provider, codes, mailbox, log }) {
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

  async function finish(ctx, result) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    seeOther(ctx, returnTo);
  }

  function finishSignIn(ctx, interaction, accountId, level) {
    log.info('sign-in completed', {
      'interaction.uid': interaction.uid, 'user.sub': accountId, 'auth.acr': level.acr,
    });
    return finish(ctx, {
      login: { accountId, acr: level.acr, amr: [...level.amr], ts: epochSeconds(), remember: true },
    });
  }

  function finishUnmet(ctx, interaction, accountId) {
    log.info('second factor required but not enrolled', {
      'interaction.uid': interaction.uid, 'user.sub': accountId, 'auth.acr_values': interaction.params.acr_values,
    });
    return finish(ctx, {
      error: 'unmet_authentication_requirements',
      error_description: 'the account has no second factor enrolled, so the requested acr_values cannot be met',
    });
  }

  async function renderLogin(ctx, interaction, { login, errorMessage } = {}) {
    const requirement = requirementOf(interaction);
    const client = await provider.Client.find(interaction.params.client_id);
    sendHtml(ctx, loginPage({
      uid: interaction.uid,
      clientName: client?.clientName ?? interaction.params.client_id,
      demoAccounts: listDemoAccounts(),
      login,
      errorMessage,
      secondFactorRequested: requirement !== SecondFactor.notRequested,
    }));
  }

  function renderCode(ctx, interaction, accountId, errorMessage) {
    sendHtml(ctx, codePage({ uid: interaction.uid, login: accountId, errorMessage }));
  }

  async function showInteraction(ctx, uid) {
    const interaction = await loadInteraction(ctx, uid);
    const pendingAccountId = codes.pendingAccountId(uid);
    if (pendingAccountId) {
      renderCode(ctx, interaction, pendingAccountId);
      return;
    }
    if (needsPassword(interaction)) {
      await renderLogin(ctx, interaction);
      return;
    }

    // Only the step-up check fired, so the session's password sign-in remains valid and a second factor is due.
    const account = findAccountById(interaction.session.accountId);
    if (!account?.hasSecondFactor) {
      await finishUnmet(ctx, interaction, interaction.session.accountId);
      return;
    }
    codes.issue(uid, account.accountId);
    renderCode(ctx, interaction, account.accountId);
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

    codes.discard(uid);
    const requirement = requirementOf(interaction);
    if (!mustUseSecondFactor(requirement, account.hasSecondFactor)) {
      await finishSignIn(ctx, interaction, account.accountId, PASSWORD_LEVEL);
      return;
    }
    if (!account.hasSecondFactor) {
      await finishUnmet(ctx, interaction, account.accountId);
      return;
    }
    codes.issue(uid, account.accountId);
    seeOther(ctx, `/interaction/${uid}`);
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
      await finishSignIn(ctx, interaction, accountId, TWO_FACTOR_LEVEL);
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

  async function abort(ctx, uid) {
    const interaction = await loadInteraction(ctx, uid);
    codes.discard(uid);
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

  const handlers = {
    'GET ': showInteraction,
    'POST /login': submitPassword,
    'POST /code': submitCode,
    'POST /code/resend': resendCode,
    'POST /abort': abort,
  };

  return async function routeInteractions(ctx, next) {
    const mailboxMatch = MAILBOX_ROUTE.exec(ctx.path);
    if (mailboxMatch && ctx.method === 'GET') {
      readMailbox(ctx, mailboxMatch[1]);
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
