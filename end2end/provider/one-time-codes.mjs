// One-time codes for the second sign-in step, and the development mailbox that "delivers" them.

import { randomInt, timingSafeEqual } from 'node:crypto';

export const CODE_TTL_SECONDS = 5 * 60;
export const MAX_FAILED_ATTEMPTS = 5;
const CODE_DIGITS = 6;
// Pending codes outlive their expiry by this long so that the code page can still report "expired".
const PENDING_RETENTION_SECONDS = 60 * 60;

/** Outcome of `OneTimeCodes.verify`. */
export const CodeCheck = Object.freeze({
  valid: 'valid',
  invalid: 'invalid',
  expired: 'expired',
  tooManyAttempts: 'too-many-attempts',
  notIssued: 'not-issued',
});

function epochSeconds(nowMs) {
  return Math.floor(nowMs / 1000);
}

/**
 * Latest message per login, readable over loopback at `GET /dev/mailbox/:login`.
 *
 * It replaces e-mail or SMS delivery in development, so it prints each code to the log on purpose.
 */
export class DevMailbox {
  #latestByLogin = new Map();
  #nextMessageId = 1;
  #log;

  constructor({ log }) {
    this.#log = log;
  }

  /** Stores `code` as the latest message for `login` and prints it to the provider log. */
  deliver(login, code, sentAt) {
    const message = { id: this.#nextMessageId, login, code, sent_at: sentAt };
    this.#nextMessageId += 1;
    this.#latestByLogin.set(login, message);
    this.#log.info('dev mailbox received a one-time code', { login, code, 'message.id': message.id });
    return message;
  }

  /** Returns the latest message for `login`, or `undefined` when none was sent. */
  latest(login) {
    return this.#latestByLogin.get(login);
  }
}

/**
 * One-time codes bound to an interaction (one authorization request in one browser).
 *
 * Each code comes from a CSPRNG, expires after CODE_TTL_SECONDS, is accepted once, and is discarded after
 * MAX_FAILED_ATTEMPTS wrong entries. Codes live in memory, so a restart discards them.
 */
export class OneTimeCodes {
  #pendingByInteraction = new Map();
  #mailbox;
  #now;

  constructor({ mailbox, now = () => Date.now() }) {
    this.#mailbox = mailbox;
    this.#now = now;
  }

  /** Sends a new code for `accountId` to the dev mailbox and replaces any earlier code of the interaction. */
  issue(interactionUid, accountId) {
    this.#forgetStale();

    const code = randomInt(0, 10 ** CODE_DIGITS).toString().padStart(CODE_DIGITS, '0');
    const sentAt = epochSeconds(this.#now());
    this.#pendingByInteraction.set(interactionUid, {
      accountId,
      code,
      expiresAt: sentAt + CODE_TTL_SECONDS,
      failedAttempts: 0,
    });
    this.#mailbox.deliver(accountId, code, sentAt);
  }

  /** Returns the account waiting for a code in this interaction, or `undefined`. */
  pendingAccountId(interactionUid) {
    return this.#pendingByInteraction.get(interactionUid)?.accountId;
  }

  /** Checks a submitted code and consumes it when it is valid. */
  verify(interactionUid, submitted) {
    const pending = this.#pendingByInteraction.get(interactionUid);
    if (!pending || pending.code === undefined) {
      return pending ? CodeCheck.tooManyAttempts : CodeCheck.notIssued;
    }
    if (epochSeconds(this.#now()) >= pending.expiresAt) {
      return CodeCheck.expired;
    }

    const normalized = typeof submitted === 'string' ? submitted.replace(/\s+/g, '') : '';
    const wellFormed = normalized.length === CODE_DIGITS && /^[0-9]+$/.test(normalized);
    if (wellFormed && timingSafeEqual(Buffer.from(normalized), Buffer.from(pending.code))) {
      this.#pendingByInteraction.delete(interactionUid);
      return CodeCheck.valid;
    }

    pending.failedAttempts += 1;
    if (pending.failedAttempts >= MAX_FAILED_ATTEMPTS) {
      pending.code = undefined;
      return CodeCheck.tooManyAttempts;
    }
    return CodeCheck.invalid;
  }

  /** Drops the code of an interaction, for example when the user cancels. */
  discard(interactionUid) {
    this.#pendingByInteraction.delete(interactionUid);
  }

  #forgetStale() {
    const cutoff = epochSeconds(this.#now()) - PENDING_RETENTION_SECONDS;
    for (const [uid, pending] of this.#pendingByInteraction) {
      if (pending.expiresAt < cutoff) {
        this.#pendingByInteraction.delete(uid);
      }
    }
  }
}
