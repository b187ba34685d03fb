// Authentication context class references (acr) that this provider advertises, their order, and the rule
// that decides which level an authorization request needs from an account.

export const ACR = Object.freeze({
  oneFactorAny: 'urn:okta:loa:1fa:any',
  oneFactorPassword: 'urn:okta:loa:1fa:pwd',
  twoFactorAny: 'urn:okta:loa:2fa:any',
  twoFactorIfPossible: 'urn:okta:loa:2fa:any:ifpossible',
  phishingResistant: 'phr',
});

export const SUPPORTED_ACR_VALUES = Object.freeze([
  ACR.oneFactorAny,
  ACR.oneFactorPassword,
  ACR.twoFactorAny,
  ACR.twoFactorIfPossible,
  ACR.phishingResistant,
]);

/** Strength of an authentication, in increasing order. Comparable with `<`. */
export const Level = Object.freeze({
  none: 0,
  oneFactor: 1,
  twoFactor: 2,
  phishingResistant: 3,
});

const LEVEL_OF_ACR = new Map([
  [ACR.oneFactorAny, Level.oneFactor],
  [ACR.oneFactorPassword, Level.oneFactor],
  [ACR.twoFactorAny, Level.twoFactor],
  [ACR.phishingResistant, Level.phishingResistant],
]);

/**
 * Authentication method reference values (RFC 8176, section 2) that this provider produces.
 *
 * A passkey is reported as `hwk`. The provider requests attestation `none`, so it cannot tell a
 * device-bound key from a synced one (strictly `swk`), nor which user verification method the
 * authenticator used (`pin`, `fpt`, `face`).
 */
export const AMR = Object.freeze({ password: 'pwd', oneTimeCode: 'otp', passkey: 'hwk' });

/** The `acr` and `amr` values that each way of signing in produces. */
export const PASSWORD_LEVEL = Object.freeze({ acr: ACR.oneFactorPassword, amr: Object.freeze([AMR.password]) });
export const TWO_FACTOR_LEVEL = Object.freeze({
  acr: ACR.twoFactorAny,
  amr: Object.freeze([AMR.password, AMR.oneTimeCode]),
});

/**
 * Returns the `acr` and `amr` of a passkey sign-in on top of the factors in `previousAmr`.
 *
 * `previousAmr` lists the factors already proven in the interaction or, for a step-up of a signed-in
 * session, the session's methods, so a session with password and code gets `["pwd","otp","hwk"]`.
 */
export function phishingResistantLevel(previousAmr) {
  const amr = [...new Set([...previousAmr, AMR.passkey])];
  return Object.freeze({ acr: ACR.phishingResistant, amr: Object.freeze(amr) });
}

/**
 * Returns the level of an acr value, or `Level.none` for an absent or unknown one.
 *
 * `urn:okta:loa:2fa:any:ifpossible` counts as one factor, because it accepts a password sign-in.
 */
export function levelOfAcr(acr) {
  if (acr === ACR.twoFactorIfPossible) {
    return Level.oneFactor;
  }
  return LEVEL_OF_ACR.get(acr) ?? Level.none;
}

/** Returns the level that a list of authentication methods (`amr`) proves. */
export function levelOfAmr(amr) {
  const methods = new Set(amr ?? []);
  if (methods.has(AMR.passkey)) {
    return Level.phishingResistant;
  }
  if (methods.has(AMR.oneTimeCode)) {
    return Level.twoFactor;
  }
  return methods.has(AMR.password) ? Level.oneFactor : Level.none;
}

/** Splits an `acr_values` parameter (space-separated, possibly absent) into its values. */
export function parseAcrValues(acrValues) {
  if (typeof acrValues !== 'string') {
    return [];
  }
  return acrValues.split(' ').filter((value) => value.length > 0);
}

/**
 * Maps the requested `acr_values` to the weakest level the request accepts and the strongest it names.
 *
 * `acr_values` lists acceptable values in order of preference (OpenID Connect Core 1.0, section 3.1.2.1),
 * so the weakest listed value is the requirement. `urn:okta:loa:2fa:any:ifpossible` accepts one factor
 * and prefers two. Unknown values are ignored, and a request without known values needs one factor.
 */
export function requestedLevels(acrValues) {
  const required = [];
  const preferred = [];
  for (const acr of acrValues) {
    if (acr === ACR.twoFactorIfPossible) {
      required.push(Level.oneFactor);
      preferred.push(Level.twoFactor);
    } else if (LEVEL_OF_ACR.has(acr)) {
      required.push(LEVEL_OF_ACR.get(acr));
      preferred.push(LEVEL_OF_ACR.get(acr));
    }
  }
  if (required.length === 0) {
    return { required: Level.oneFactor, preferred: Level.oneFactor };
  }
  return { required: Math.min(...required), preferred: Math.max(...preferred) };
}

/**
 * Returns the level that a request needs from an account.
 *
 * It is the strongest preferred level that the account can reach with the factors it already has, and
 * never less than the request requires. A passkey counts only once registered, so a request that merely
 * prefers `phr` uses the one-time code for an account without a passkey. A requirement above what the
 * account has may still be reachable by registering a passkey (see `nextStep`).
 */
export function targetLevel({ required, preferred }, { hasSecondFactor, hasPasskey }) {
  let enrolled = Level.oneFactor;
  if (hasPasskey) {
    enrolled = Level.phishingResistant;
  } else if (hasSecondFactor) {
    enrolled = Level.twoFactor;
  }
  return Math.max(required, Math.min(preferred, enrolled));
}

/** The step an interaction takes next. */
export const Step = Object.freeze({
  /** The proven factors meet the target level. */
  done: 'done',
  /** Send a one-time code and ask for it. */
  oneTimeCode: 'one-time-code',
  /** Show the passkey page: sign in with a registered passkey, or register one first. */
  passkey: 'passkey',
  /** The account cannot reach the target level. */
  unmet: 'unmet',
});

/**
 * Decides the next step of an interaction from the level it must reach and the factors proven so far.
 *
 * A passkey may only be registered once two factors are proven, so an account without a passkey goes
 * through the one-time code before the passkey page, and an account without a second factor cannot
 * reach `phr`.
 */
export function nextStep(target, provenAmr, { hasSecondFactor, hasPasskey }) {
  const proven = levelOfAmr(provenAmr);
  if (proven >= target) {
    return Step.done;
  }
  if (target === Level.phishingResistant) {
    if (hasPasskey || proven >= Level.twoFactor) {
      return Step.passkey;
    }
    return hasSecondFactor ? Step.oneTimeCode : Step.unmet;
  }
  return hasSecondFactor ? Step.oneTimeCode : Step.unmet;
}

/**
 * Reports whether the proven factors allow registering a passkey: two factors, such as password and
 * one-time code, or password and an already registered passkey.
 */
export function mayRegisterPasskey(provenAmr) {
  return levelOfAmr(provenAmr) >= Level.twoFactor;
}

/** Returns the factors that `account` can use: a one-time code, and a passkey once one is registered. */
export function enrolledFactors(account, passkeys) {
  if (!account) {
    return { hasSecondFactor: false, hasPasskey: false };
  }
  return { hasSecondFactor: account.hasSecondFactor, hasPasskey: passkeys.has(account.accountId) };
}
