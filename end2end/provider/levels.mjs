// Authentication context class references (acr) that this provider advertises, and the rule that decides
// when an authorization request needs a second factor.

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

/** The `acr` and `amr` values that each way of signing in produces. */
export const PASSWORD_LEVEL = Object.freeze({ acr: ACR.oneFactorPassword, amr: Object.freeze(['pwd']) });
export const TWO_FACTOR_LEVEL = Object.freeze({ acr: ACR.twoFactorAny, amr: Object.freeze(['pwd', 'otp']) });

/** Second-factor requirement of an authorization request. */
export const SecondFactor = Object.freeze({
  /** The request cannot be met without a second factor. */
  required: 'required',
  /** Use the second factor when the account has one enrolled, and accept a password otherwise. */
  ifEnrolled: 'if-enrolled',
  /** The request accepts a password sign-in. */
  notRequested: 'not-requested',
});

/** Splits an `acr_values` parameter (space-separated, possibly absent) into its values. */
export function parseAcrValues(acrValues) {
  if (typeof acrValues !== 'string') {
    return [];
  }
  return acrValues.split(' ').filter((value) => value.length > 0);
}

/**
 * Maps the requested `acr_values` to a second-factor requirement.
 *
 * `acr_values` lists acceptable values in order of preference (OpenID Connect Core 1.0, section 3.1.2.1).
 * A list with `urn:okta:loa:2fa:any` and no one-factor value requires the second factor. A list that also
 * accepts one factor, or that requests `urn:okta:loa:2fa:any:ifpossible`, uses the second factor only for
 * accounts that have one enrolled.
 */
export function secondFactorRequirement(acrValues) {
  const requested = new Set(acrValues);
  const acceptsOneFactor = requested.has(ACR.oneFactorAny)
    || requested.has(ACR.oneFactorPassword)
    || requested.has(ACR.twoFactorIfPossible);

  if (requested.has(ACR.twoFactorAny) && !acceptsOneFactor) {
    return SecondFactor.required;
  }
  if (requested.has(ACR.twoFactorAny) || requested.has(ACR.twoFactorIfPossible)) {
    return SecondFactor.ifEnrolled;
  }
  // NOTE: `phr` is advertised but never produced. Because acr_values is voluntary, a request for `phr`
  // alone gets a password sign-in with `urn:okta:loa:1fa:pwd`, and the relying party must reject it.
  return SecondFactor.notRequested;
}

/** Reports whether a session with `sessionAcr` already meets the two-factor level. */
export function isTwoFactorAcr(sessionAcr) {
  return sessionAcr === ACR.twoFactorAny;
}

/** Reports whether the account must enter a one-time code under `requirement`. */
export function mustUseSecondFactor(requirement, hasSecondFactor) {
  if (requirement === SecondFactor.required) {
    return true;
  }
  return requirement === SecondFactor.ifEnrolled && hasSecondFactor;
}
