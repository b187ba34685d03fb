// Server-rendered pages of the development provider: plain HTML forms, inline styles, no external assets.
// Browser tests locate elements by `name` attributes and `data-testid`.

import { createHash } from 'node:crypto';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in HTML content and quoted attribute values. */
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

/** Serializes a value as a JavaScript literal that is safe inside an inline `<script>` element. */
function scriptLiteral(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 28rem; padding: 0 1rem; color: #1b1b1b; }
  h1 { font-size: 1.4rem; }
  label { display: block; margin-top: 0.8rem; }
  input { display: block; width: 100%; box-sizing: border-box; padding: 0.4rem; font-size: 1rem; }
  button { margin-top: 1rem; padding: 0.5rem 1rem; font-size: 1rem; }
  .error { color: #a30000; border-left: 3px solid #a30000; padding-left: 0.6rem; }
  .note { color: #555; font-size: 0.9rem; }
  table { border-collapse: collapse; margin-top: 0.4rem; }
  td, th { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
  form.inline { display: inline; }
`;

function page(title, body, { head = '' } = {}) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <link rel="icon" href="data:,">
  <style>${STYLE}</style>
  ${head}
</head>
<body>
  <p class="note">Development OpenID Provider</p>
${body}
</body>
</html>`;
}

function errorBlock(message) {
  return message ? `<p class="error" role="alert" data-testid="op-error">${escapeHtml(message)}</p>` : '';
}

function cancelForm(uid) {
  return `<form class="inline" method="post" action="/interaction/${escapeHtml(uid)}/abort">
    <button type="submit" data-testid="op-cancel">Cancel and return to the application</button>
  </form>`;
}

function demoAccountsTable(accounts) {
  const rows = accounts.map((account) => `
      <tr><td>${escapeHtml(account.login)}</td><td>${escapeHtml(account.password)}</td>`
    + `<td>${escapeHtml(account.name)}</td><td>${account.hasSecondFactor ? 'one-time code, passkey' : 'none'}</td></tr>`);
  return `<table data-testid="demo-accounts">
    <thead><tr><th>Login</th><th>Password</th><th>Name</th><th>Second factor</th></tr></thead>
    <tbody>${rows.join('')}
    </tbody>
  </table>
  <p class="note">An account with a one-time code registers a passkey, after the code, the first time an
    application asks for <code>phr</code>. Passkeys are kept in memory until the provider restarts.</p>`;
}

const STEP_UP_NOTES = Object.freeze({
  twoFactor: 'This application asks for two-step verification: a one-time code follows the password.',
  phishingResistant: 'This application asks for a phishing-resistant sign-in: a passkey follows the password.',
});

/**
 * Renders the password form. `clientName` is the application that started the sign-in, and `stepUp`
 * (`twoFactor`, `phishingResistant` or undefined) selects a note about the steps after the password.
 */
export function loginPage({ uid, clientName, demoAccounts, login = '', errorMessage, stepUp }) {
  const stepUpNote = STEP_UP_NOTES[stepUp] ? `<p class="note">${escapeHtml(STEP_UP_NOTES[stepUp])}</p>` : '';
  return page('Sign in', `
  <h1>Sign in to ${escapeHtml(clientName)}</h1>
  ${errorBlock(errorMessage)}
  ${stepUpNote}
  <form method="post" action="/interaction/${escapeHtml(uid)}/login">
    <label>Login <input name="login" value="${escapeHtml(login)}" autocomplete="username" required autofocus autocapitalize="none"></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit" data-testid="login-submit">Sign in</button>
  </form>
  ${cancelForm(uid)}
  <h2>Demo accounts</h2>
  <p class="note">This provider is for development and tests only.</p>
  ${demoAccountsTable(demoAccounts)}`);
}

/** Renders the one-time code form of the second sign-in step. */
export function codePage({ uid, login, errorMessage }) {
  return page('Enter your one-time code', `
  <h1>Two-step verification</h1>
  <p data-testid="otp-sent">We sent a 6-digit code to the dev mailbox of <strong>${escapeHtml(login)}</strong>.
    It is printed in the provider log and served at <code>/dev/mailbox/${escapeHtml(login)}</code>.
    It expires in 5 minutes.</p>
  ${errorBlock(errorMessage)}
  <form method="post" action="/interaction/${escapeHtml(uid)}/code" autocomplete="off">
    <label>One-time code
      <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus>
    </label>
    <button type="submit" data-testid="otp-submit">Verify</button>
  </form>
  <form class="inline" method="post" action="/interaction/${escapeHtml(uid)}/code/resend">
    <button type="submit" data-testid="otp-resend">Send a new code</button>
  </form>
  ${cancelForm(uid)}`);
}

/**
 * Renders the passkey step on the issuer origin.
 *
 * The buttons sit in a frame from `passkeyOrigin`, because WebAuthn rejects the IP-literal issuer origin
 * (see passkeys.mjs). `frameUrl` carries the ceremony options in its fragment. The frame posts the
 * credential to this page, which submits it to `/interaction/{uid}/passkey` with this page's cookies.
 */
export function passkeyPage({ uid, login, frameUrl, passkeyOrigin, hasPasskey, mayRegister, errorMessage }) {
  let instructions = 'Sign in with the passkey that you registered for this account.';
  if (!hasPasskey) {
    instructions = 'This account has no passkey yet. Register one on this device, then sign in with it.';
  } else if (mayRegister) {
    instructions = 'Sign in with your passkey, or register another one on this device first.';
  }
  const script = `(() => {
    const frameOrigin = ${scriptLiteral(passkeyOrigin)};
    const frame = document.querySelector('[data-testid=passkey-frame]');
    const form = document.getElementById('passkey-form');

    function showError(text) {
      let element = document.querySelector('[data-testid=op-error]');
      if (!element) {
        element = document.createElement('p');
        element.className = 'error';
        element.setAttribute('role', 'alert');
        element.dataset.testid = 'op-error';
        frame.before(element);
      }
      element.textContent = text;
    }

    window.addEventListener('message', (event) => {
      if (event.origin !== frameOrigin || event.source !== frame.contentWindow) {
        return;
      }
      const message = event.data ?? {};
      if (message.type === 'passkey-result') {
        form.elements.ceremony.value = message.ceremony;
        form.elements.credential.value = JSON.stringify(message.credential);
        form.submit();
      } else if (message.type === 'passkey-error') {
        showError(message.message);
      }
    });
  })();`;
  return page('Passkey', `
  <h1>Passkey verification</h1>
  <p data-testid="passkey-instructions">${escapeHtml(instructions)} Account: <strong>${escapeHtml(login)}</strong>.</p>
  ${errorBlock(errorMessage)}
  <iframe data-testid="passkey-frame" title="Passkey buttons" src="${escapeHtml(frameUrl)}"
    allow="publickey-credentials-get; publickey-credentials-create"
    style="border: 0; width: 100%; height: 7rem;"></iframe>
  <form id="passkey-form" method="post" action="/interaction/${escapeHtml(uid)}/passkey">
    <input type="hidden" name="ceremony" value="">
    <input type="hidden" name="credential" value="">
  </form>
  ${cancelForm(uid)}
  <script>${script}</script>`);
}

const PASSKEY_FRAME_SCRIPT = `(() => {
  // Options arrive in the fragment, which the browser never sends to a server.
  let options = {};
  try {
    options = JSON.parse(decodeURIComponent(window.location.hash.slice(1)));
  } catch {
    options = {};
  }
  const topOrigin = document.documentElement.dataset.topOrigin;
  const buttons = [...document.querySelectorAll('button')];
  const supported = typeof window.PublicKeyCredential?.parseCreationOptionsFromJSON === 'function'
    && typeof window.PublicKeyCredential?.parseRequestOptionsFromJSON === 'function';

  function post(message) {
    window.parent.postMessage(message, topOrigin);
  }

  function describe(error) {
    if (error?.name === 'NotAllowedError') {
      return 'The passkey request was cancelled or timed out. Try again.';
    }
    if (error?.name === 'InvalidStateError') {
      return 'This device already holds a passkey for this account. Sign in with it instead.';
    }
    return 'The passkey request failed (' + (error?.name ?? 'unknown error') + '). Try again.';
  }

  function offer(testId, ceremony, run) {
    const button = document.querySelector('[data-testid="' + testId + '"]');
    if (!options[ceremony]) {
      return;
    }
    button.hidden = false;
    button.addEventListener('click', async () => {
      if (!supported) {
        post({ type: 'passkey-error', message: 'This browser lacks the WebAuthn JSON methods that this page uses.' });
        return;
      }
      buttons.forEach((each) => { each.disabled = true; });
      try {
        const credential = await run(options[ceremony]);
        post({ type: 'passkey-result', ceremony, credential: credential.toJSON() });
      } catch (error) {
        buttons.forEach((each) => { each.disabled = false; });
        post({ type: 'passkey-error', message: describe(error) });
      }
    });
  }

  offer('passkey-register', 'registration',
    (json) => navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(json) }));
  offer('passkey-signin', 'authentication',
    (json) => navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json) }));
})();`;

/**
 * Renders the frame with the passkey buttons, served from the passkey origin and embedded by
 * `passkeyPage`. Returns the HTML and a Content-Security-Policy that allows only its inline script and
 * only `topOrigin` as the embedding page.
 */
export function passkeyFramePage({ topOrigin }) {
  const scriptHash = createHash('sha256').update(PASSKEY_FRAME_SCRIPT, 'utf8').digest('base64');
  const html = `<!DOCTYPE html>
<html lang="en" data-top-origin="${escapeHtml(topOrigin)}">
<head>
  <meta charset="utf-8">
  <title>Passkey</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 0; }
    button { margin: 0.5rem 0.5rem 0 0; padding: 0.5rem 1rem; font-size: 1rem; }
  </style>
</head>
<body>
  <button type="button" data-testid="passkey-register" hidden>Register a passkey</button>
  <button type="button" data-testid="passkey-signin" hidden>Sign in with a passkey</button>
  <script>${PASSKEY_FRAME_SCRIPT}</script>
</body>
</html>`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    "style-src 'unsafe-inline'",
    `frame-ancestors ${topOrigin}`,
  ].join('; ');
  return { html, contentSecurityPolicy };
}

/** Renders an error that ends the interaction inside the provider instead of at the application. */
export function errorPage({ title, message }) {
  return page(title, `
  <h1>${escapeHtml(title)}</h1>
  ${errorBlock(message)}`);
}

/**
 * Renders the RP-initiated logout page. `form` is oidc-provider's form markup with its CSRF token.
 *
 * With `autoSubmit`, a script submits the form when the page loads, so the user sees no question.
 */
export function logoutPage({ form, host, autoSubmit }) {
  const formWithLogout = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  if (autoSubmit) {
    return page('Signing out', `
  <h1>Signing out</h1>
  ${formWithLogout}
  <noscript><button type="submit" form="op.logoutForm" data-testid="logout-confirm">Continue</button></noscript>
  <script>document.getElementById('op.logoutForm').submit();</script>`);
  }
  return page('Sign out', `
  <h1>Sign out of ${escapeHtml(host)}?</h1>
  ${form}
  <button type="submit" form="op.logoutForm" name="logout" value="yes" data-testid="logout-confirm">Yes, sign me out</button>
  <button type="submit" form="op.logoutForm" data-testid="logout-cancel">No, stay signed in</button>`);
}

/** Renders the page shown after a logout that has no post-logout redirect URI. */
export function logoutSuccessPage() {
  return page('Signed out', `
  <h1>You are signed out</h1>
  <p data-testid="logout-done">You can close this page.</p>`);
}

/** Renders the errors that oidc-provider reports itself, such as an unregistered redirect URI. */
export function protocolErrorPage(out) {
  const details = Object.entries(out)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('');
  return page('Sign-in error', `
  <h1>The sign-in request failed</h1>
  <dl data-testid="op-error">${details}</dl>`);
}
