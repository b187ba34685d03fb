// Server-rendered pages of the development provider: plain HTML forms, inline styles, no external assets.
// Browser tests locate elements by `name` attributes and `data-testid`.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in HTML content and quoted attribute values. */
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (character) => ESCAPES[character]);
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
    + `<td>${escapeHtml(account.name)}</td><td>${account.hasSecondFactor ? 'one-time code' : 'none'}</td></tr>`);
  return `<table data-testid="demo-accounts">
    <thead><tr><th>Login</th><th>Password</th><th>Name</th><th>Second factor</th></tr></thead>
    <tbody>${rows.join('')}
    </tbody>
  </table>`;
}

/** Renders the password form. `clientName` is the application that started the sign-in. */
export function loginPage({ uid, clientName, demoAccounts, login = '', errorMessage, secondFactorRequested }) {
  const stepUpNote = secondFactorRequested
    ? '<p class="note">This application asks for two-step verification: a one-time code follows the password.</p>'
    : '';
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
