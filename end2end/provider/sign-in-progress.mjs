// Factors proven so far in each interaction, for sign-ins that take more than one step (password, then
// one-time code, then passkey).

// As long as oidc-provider keeps an interaction (ttl.Interaction in config.mjs).
const PROGRESS_TTL_SECONDS = 60 * 60;

function epochSeconds(nowMs) {
  return Math.floor(nowMs / 1000);
}

/** Account and authentication methods (`amr`) proven in each interaction, kept in memory. */
export class SignInProgress {
  #byInteraction = new Map();
  #now;

  constructor({ now = () => Date.now() } = {}) {
    this.#now = now;
  }

  /** Records that `accountId` has proven the methods `amr` in interaction `uid`. */
  record(interactionUid, accountId, amr) {
    this.#forgetStale();
    this.#byInteraction.set(interactionUid, {
      accountId,
      amr: Object.freeze([...amr]),
      expiresAt: epochSeconds(this.#now()) + PROGRESS_TTL_SECONDS,
    });
  }

  /** Returns `{ accountId, amr }` of interaction `uid`, or `undefined` when nothing was proven yet. */
  get(interactionUid) {
    const entry = this.#byInteraction.get(interactionUid);
    if (!entry || epochSeconds(this.#now()) >= entry.expiresAt) {
      return undefined;
    }
    return { accountId: entry.accountId, amr: entry.amr };
  }

  /** Forgets interaction `uid`, when it ends or a new password sign-in starts over. */
  discard(interactionUid) {
    this.#byInteraction.delete(interactionUid);
  }

  #forgetStale() {
    const now = epochSeconds(this.#now());
    for (const [uid, entry] of this.#byInteraction) {
      if (entry.expiresAt <= now) {
        this.#byInteraction.delete(uid);
      }
    }
  }
}
