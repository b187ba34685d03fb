// A WebAuthn authenticator in software for the self-test. It turns registration and authentication
// options into the JSON that a browser's `PublicKeyCredential.toJSON()` returns, signed with an ES256 key.
// It does what a ctap2 platform authenticator with user verification does, minus any real user check,
// and lets a check corrupt one field at a time (origin, topOrigin, flags) to test the provider's checks.

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_ATTESTED_CREDENTIAL_DATA = 0x40;
const COSE_KEY_TYPE_EC2 = 2;
const COSE_ALG_ES256 = -7;
const COSE_CURVE_P256 = 1;

function sha256(data) {
  return createHash('sha256').update(data).digest();
}

// Minimal CBOR encoder (RFC 8949) for the types an attestation object uses: integers, byte strings,
// text strings and maps.
function cborHeader(majorType, length) {
  if (length < 24) {
    return Buffer.from([(majorType << 5) | length]);
  }
  if (length < 0x100) {
    return Buffer.from([(majorType << 5) | 24, length]);
  }
  const header = Buffer.alloc(3);
  header[0] = (majorType << 5) | 25;
  header.writeUInt16BE(length, 1);
  return header;
}

function cborEncode(value) {
  if (Number.isInteger(value)) {
    return value >= 0 ? cborHeader(0, value) : cborHeader(1, -1 - value);
  }
  if (Buffer.isBuffer(value)) {
    return Buffer.concat([cborHeader(2, value.length), value]);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHeader(3, bytes.length), bytes]);
  }
  if (value instanceof Map) {
    const parts = [cborHeader(5, value.size)];
    for (const [key, entry] of value) {
      parts.push(cborEncode(key), cborEncode(entry));
    }
    return Buffer.concat(parts);
  }
  throw new TypeError(`cannot encode ${typeof value} as CBOR`);
}

/** One ES256 passkey for one RP ID, with a signature counter. */
export class SoftwareAuthenticator {
  #privateKey;
  #publicJwk;
  #credentialId = randomBytes(32);
  #userHandle;
  #signCount = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    this.#publicJwk = publicKey.export({ format: 'jwk' });
  }

  /** The credential id, base64url-encoded as in WebAuthn JSON. */
  get credentialId() {
    return this.#credentialId.toString('base64url');
  }

  /**
   * Creates the credential and returns the registration response for
   * `PublicKeyCredentialCreationOptionsJSON`. `origin` and `topOrigin` go into the client data.
   * `crossOrigin` defaults to true when `topOrigin` is given, and `userVerified` sets the UV flag.
   */
  create(options, { origin, topOrigin, crossOrigin = topOrigin !== undefined, userVerified = true }) {
    this.#userHandle = options.user.id;
    const clientData = this.#clientData('webauthn.create', options.challenge, { origin, topOrigin, crossOrigin });
    const coseKey = new Map([
      [1, COSE_KEY_TYPE_EC2],
      [3, COSE_ALG_ES256],
      [-1, COSE_CURVE_P256],
      [-2, Buffer.from(this.#publicJwk.x, 'base64url')],
      [-3, Buffer.from(this.#publicJwk.y, 'base64url')],
    ]);
    const credentialIdLength = Buffer.alloc(2);
    credentialIdLength.writeUInt16BE(this.#credentialId.length);
    const attestedCredentialData = Buffer.concat([
      Buffer.alloc(16), // AAGUID: all zero, as authenticators without attestation report it
      credentialIdLength,
      this.#credentialId,
      cborEncode(coseKey),
    ]);
    const authenticatorData = this.#authenticatorData(options.rp.id, {
      flags: FLAG_ATTESTED_CREDENTIAL_DATA | this.#userFlags(userVerified),
      attestedCredentialData,
    });
    const attestationObject = cborEncode(new Map([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', authenticatorData],
    ]));
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientData.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal'],
      },
    };
  }

  /**
   * Signs and returns the authentication response for `PublicKeyCredentialRequestOptionsJSON`. The client
   * data options are those of `create`.
   */
  get(options, { origin, topOrigin, crossOrigin = topOrigin !== undefined, userVerified = true }) {
    const clientData = this.#clientData('webauthn.get', options.challenge, { origin, topOrigin, crossOrigin });
    const authenticatorData = this.#authenticatorData(options.rpId, { flags: this.#userFlags(userVerified) });
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientData)]), this.#privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: this.#userHandle,
      },
    };
  }

  #userFlags(userVerified) {
    return FLAG_USER_PRESENT | (userVerified ? FLAG_USER_VERIFIED : 0);
  }

  #clientData(type, challenge, { origin, topOrigin, crossOrigin }) {
    const clientData = { type, challenge, origin, crossOrigin };
    if (topOrigin !== undefined) {
      clientData.topOrigin = topOrigin;
    }
    return Buffer.from(JSON.stringify(clientData), 'utf8');
  }

  #authenticatorData(rpId, { flags, attestedCredentialData = Buffer.alloc(0) }) {
    this.#signCount += 1;
    const signCount = Buffer.alloc(4);
    signCount.writeUInt32BE(this.#signCount);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), signCount, attestedCredentialData]);
  }
}
