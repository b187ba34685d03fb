// Passkeys (WebAuthn) of the development provider: registered credentials and pending ceremonies, kept in
// memory, with the checks of @simplewebauthn/server plus the frame origin checks described below.
//
// WebAuthn rejects IP-literal origins, so a page on the issuer origin (http://127.0.0.1:PORT) cannot run
// a ceremony at all: Chromium 156 throws "SecurityError: This is an invalid domain" for every RP ID.
// The provider therefore serves the buttons in a frame from http://localhost:PORT (RP ID `localhost`),
// embedded in the interaction page on 127.0.0.1, which keeps the interaction cookie. The frame posts the
// result to the page, and the page submits it. The client data then has `origin` http://localhost:PORT,
// `crossOrigin` true and `topOrigin` the issuer; all three are checked here.

import { randomBytes } from 'node:crypto';

import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';

export const Ceremony = Object.freeze({ registration: 'registration', authentication: 'authentication' });

const RP_NAME = 'Development OpenID Provider';
const CEREMONY_TTL_SECONDS = 5 * 60;
const USER_HANDLE_BYTES = 32;

/** A passkey response that failed a check. `message` is the cause for the log, not for the user. */
export class PasskeyRejected extends Error {}

function epochSeconds(nowMs) {
  return Math.floor(nowMs / 1000);
}

function decodeClientData(response) {
  try {
    return JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8'));
  } catch {
    throw new PasskeyRejected('clientDataJSON is missing or not JSON');
  }
}

/**
 * Registered passkeys per account and the challenge of each interaction's pending ceremonies.
 *
 * NOTE: everything lives in the memory of one provider process, so a restart deletes every passkey.
 * That suits development and tests only.
 */
export class Passkeys {
  #credentialsByAccount = new Map();
  #userHandles = new Map();
  #ceremoniesByInteraction = new Map();
  #rpId;
  #origin;
  #topOrigin;
  #now;

  /**
   * `rpId` and `origin` are those of the frame that runs the ceremonies, `topOrigin` the origin of the
   * page that embeds it.
   */
  constructor({ rpId, origin, topOrigin, now = () => Date.now() }) {
    this.#rpId = rpId;
    this.#origin = origin;
    this.#topOrigin = topOrigin;
    this.#now = now;
  }

  /** Reports whether `accountId` has at least one passkey. */
  has(accountId) {
    return (this.#credentialsByAccount.get(accountId)?.size ?? 0) > 0;
  }

  /** Lists the passkeys of `accountId` as `{ id, created_at }`, oldest first. */
  list(accountId) {
    const credentials = this.#credentialsByAccount.get(accountId) ?? new Map();
    return [...credentials.values()].map((credential) => ({ id: credential.id, created_at: credential.createdAt }));
  }

  /** Deletes every passkey of `accountId` and returns how many there were. */
  removeAll(accountId) {
    const count = this.#credentialsByAccount.get(accountId)?.size ?? 0;
    this.#credentialsByAccount.delete(accountId);
    return count;
  }

  /**
   * Creates the ceremonies that the passkey page of interaction `uid` offers and returns their options
   * (`PublicKeyCredentialCreationOptionsJSON` and `PublicKeyCredentialRequestOptionsJSON`). A new call
   * replaces the interaction's earlier challenges.
   */
  async start(uid, account, { registration, authentication }) {
    this.#forgetStale();
    const expiresAt = epochSeconds(this.#now()) + CEREMONY_TTL_SECONDS;
    const pending = { accountId: account.accountId, challenges: new Map() };
    const options = {};
    const registered = [...(this.#credentialsByAccount.get(account.accountId) ?? new Map()).values()];
    const descriptors = registered.map(({ id, transports }) => ({ id, transports }));

    if (registration) {
      options.registration = await generateRegistrationOptions({
        rpName: RP_NAME,
        rpID: this.#rpId,
        userName: account.accountId,
        userID: this.#userHandle(account.accountId),
        userDisplayName: account.name,
        attestationType: 'none',
        excludeCredentials: descriptors,
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      pending.challenges.set(Ceremony.registration, { challenge: options.registration.challenge, expiresAt });
    }
    if (authentication && descriptors.length > 0) {
      options.authentication = await generateAuthenticationOptions({
        rpID: this.#rpId,
        allowCredentials: descriptors,
        userVerification: 'required',
      });
      pending.challenges.set(Ceremony.authentication, { challenge: options.authentication.challenge, expiresAt });
    }
    this.#ceremoniesByInteraction.set(uid, pending);
    return options;
  }

  /**
   * Verifies a registration response (`RegistrationResponseJSON`) of interaction `uid` for `accountId`
   * and stores the new passkey. The challenge is consumed even when the response is rejected.
   *
   * @throws {PasskeyRejected} when a check fails.
   */
  async finishRegistration(uid, accountId, response) {
    const expectedChallenge = this.#takeChallenge(uid, accountId, Ceremony.registration);
    this.#checkFrameOrigins(response);
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response,
        expectedChallenge,
        expectedOrigin: this.#origin,
        expectedRPID: this.#rpId,
        expectedType: 'webauthn.create',
        requireUserVerification: true,
      });
    } catch (error) {
      throw new PasskeyRejected(error.message);
    }
    if (!verification.verified) {
      throw new PasskeyRejected('registration response did not verify');
    }

    const { credential } = verification.registrationInfo;
    const credentials = this.#credentialsByAccount.get(accountId) ?? new Map();
    credentials.set(credential.id, {
      id: credential.id,
      publicKey: credential.publicKey,
      counter: credential.counter,
      transports: credential.transports ?? response.response.transports,
      createdAt: epochSeconds(this.#now()),
    });
    this.#credentialsByAccount.set(accountId, credentials);
    return credential.id;
  }

  /**
   * Verifies an authentication response (`AuthenticationResponseJSON`) of interaction `uid` against the
   * passkeys of `accountId` and updates the signature counter. The challenge is consumed even when the
   * response is rejected.
   *
   * @throws {PasskeyRejected} when a check fails.
   */
  async finishAuthentication(uid, accountId, response) {
    const expectedChallenge = this.#takeChallenge(uid, accountId, Ceremony.authentication);
    this.#checkFrameOrigins(response);
    const stored = this.#credentialsByAccount.get(accountId)?.get(response.id);
    if (!stored) {
      throw new PasskeyRejected('the credential is not a passkey of this account');
    }
    const userHandle = response.response.userHandle;
    if (userHandle !== undefined && userHandle !== this.#userHandle(accountId).toString('base64url')) {
      throw new PasskeyRejected('the user handle does not belong to this account');
    }

    let verification;
    try {
      verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: this.#origin,
        expectedRPID: this.#rpId,
        expectedType: 'webauthn.get',
        credential: stored,
        requireUserVerification: true,
      });
    } catch (error) {
      throw new PasskeyRejected(error.message);
    }
    if (!verification.verified) {
      throw new PasskeyRejected('authentication response did not verify');
    }
    stored.counter = verification.authenticationInfo.newCounter;
    return stored.id;
  }

  /** Drops the pending ceremonies of an interaction, for example when the user cancels. */
  discard(uid) {
    this.#ceremoniesByInteraction.delete(uid);
  }

  #userHandle(accountId) {
    let handle = this.#userHandles.get(accountId);
    if (!handle) {
      // A random handle, because WebAuthn user handles must not contain personal data.
      handle = randomBytes(USER_HANDLE_BYTES);
      this.#userHandles.set(accountId, handle);
    }
    return handle;
  }

  #takeChallenge(uid, accountId, ceremony) {
    const pending = this.#ceremoniesByInteraction.get(uid);
    const entry = pending?.challenges.get(ceremony);
    pending?.challenges.delete(ceremony);
    if (!entry) {
      throw new PasskeyRejected(`no ${ceremony} ceremony is pending for this interaction`);
    }
    if (pending.accountId !== accountId) {
      throw new PasskeyRejected(`the ${ceremony} ceremony was started for another account`);
    }
    if (epochSeconds(this.#now()) >= entry.expiresAt) {
      throw new PasskeyRejected(`the ${ceremony} challenge has expired`);
    }
    return entry.challenge;
  }

  // WebAuthn Level 3 lets a relying party accept client data with `crossOrigin` true only when it expects
  // to be framed, and then check `topOrigin`. @simplewebauthn/server 13.3.3 checks neither.
  #checkFrameOrigins(response) {
    const clientData = decodeClientData(response);
    if (clientData.crossOrigin !== true) {
      throw new PasskeyRejected('the ceremony did not run in a cross-origin frame');
    }
    if (clientData.topOrigin !== this.#topOrigin) {
      throw new PasskeyRejected(`unexpected topOrigin ${JSON.stringify(clientData.topOrigin)}`);
    }
  }

  #forgetStale() {
    const now = epochSeconds(this.#now());
    for (const [uid, pending] of this.#ceremoniesByInteraction) {
      const live = [...pending.challenges.values()].some((entry) => entry.expiresAt > now);
      if (!live) {
        this.#ceremoniesByInteraction.delete(uid);
      }
    }
  }
}
