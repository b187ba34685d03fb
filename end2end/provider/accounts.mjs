// Demo accounts of the development provider. The passwords are public on purpose: the login page lists them.

import { createHash, timingSafeEqual } from 'node:crypto';

const DEMO_ACCOUNTS = Object.freeze([
  Object.freeze({
    accountId: 'alice',
    password: 'alice-password',
    name: 'Alice Example',
    email: 'alice@example.test',
    hasSecondFactor: true,
  }),
  Object.freeze({
    accountId: 'bob',
    password: 'bob-password',
    name: 'Bob Example',
    email: 'bob@example.test',
    hasSecondFactor: false,
  }),
]);

const accountsById = new Map(DEMO_ACCOUNTS.map((account) => [account.accountId, account]));

function sha256(value) {
  return createHash('sha256').update(value, 'utf8').digest();
}

// Unknown logins are compared against this digest so that they take as long as known ones.
const UNKNOWN_LOGIN_DIGEST = sha256('unknown-login-placeholder');

/** Public details of the demo accounts, for the login page. */
export function listDemoAccounts() {
  return DEMO_ACCOUNTS.map(({ accountId, password, name, hasSecondFactor }) => ({
    login: accountId,
    password,
    name,
    hasSecondFactor,
  }));
}

/** Looks up an account by its id, which is also its login name and its `sub` claim. */
export function findAccountById(accountId) {
  return accountsById.get(accountId);
}

/**
 * Checks a login name and password and returns the account, or `undefined` when either is wrong.
 *
 * The comparison of password digests runs in constant time, and an unknown login costs the same comparison.
 */
export function verifyPassword(login, password) {
  if (typeof login !== 'string' || typeof password !== 'string') {
    return undefined;
  }
  const account = accountsById.get(login);
  const expected = account ? sha256(account.password) : UNKNOWN_LOGIN_DIGEST;
  const matches = timingSafeEqual(sha256(password), expected);
  return account && matches ? account : undefined;
}

/** The `findAccount` hook of oidc-provider: returns the claims that scopes and requests select from. */
export async function findAccount(_ctx, sub) {
  const account = accountsById.get(sub);
  if (!account) {
    return undefined;
  }
  return {
    accountId: account.accountId,
    async claims() {
      return {
        sub: account.accountId,
        name: account.name,
        email: account.email,
        email_verified: true,
      };
    },
  };
}
