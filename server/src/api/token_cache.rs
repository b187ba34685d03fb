//! A bounded cache of access tokens that already passed every check of
//! [`AccessTokenVerifier::verify`](super::AccessTokenVerifier::verify), so that a client
//! calling the API many times with one token pays for one signature check, as API gateways
//! do.
//!
//! Rules that keep a cached result equal to the result of a full verification now:
//!
//! 1. The key is the SHA-256 digest of the whole token as received. Another token with the
//!    same key would be a second preimage of SHA-256 (FIPS 180-4; RFC 6234 §1), so a hit
//!    means these exact bytes verified before, header, claims and signature included.
//! 2. Only tokens that passed every check are stored. A rejected token is checked in full
//!    each time, so its outcome never depends on the cache, and it cannot fill the cache.
//! 3. An entry is used only while the current time is before the token's `exp` (RFC 7519
//!    §4.1.4), with no leeway. A token inside the leeway window is verified in full again.
//!    The other time checks of `verify` (`nbf`, and `auth_time` not in the future) can only
//!    go from failing to passing as time moves on, so an earlier pass still holds. If the
//!    clock steps back to before the verification, the entry is not used either.
//! 4. Each entry records the generation of the key set (JWKS) it verified under, and is used
//!    only under that generation. So a key removed from the JWKS (RFC 7517 §5) stops
//!    vouching for cached tokens as soon as the verifier would stop accepting fresh ones.
//!    Entries of an older generation are removed at the first store under a newer one.
//! 5. Only the token's own verification is cached. The policy decision (`acr` and
//!    `max_age` against `auth_time`, RFC 9470 §3) and the request checks run every time.
//! 6. At most `capacity` entries are kept. When the cache is full, expired entries are
//!    dropped, and if it is still full an eighth of it goes, in hash order. Digests are
//!    SHA-256 outputs, so no client picks which. A dropped token costs one more full
//!    verification, never a wrong result.
//!
//! The cache does not change revocation: a JWT access token is verified locally, without
//! asking the provider, whether it is cached or not, and stays valid until `exp`.

use super::AccessClaims;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// Default number of tokens kept. An entry keeps the claims the API reads (`sub`, `acr`,
/// `amr`): a few hundred bytes for usual tokens, at most about 8 KiB for one at
/// [`super::verifier::MAX_TOKEN_BYTES`].
pub const DEFAULT_CAPACITY: usize = 10_000;

/// SHA-256 of a token, the cache key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }
}

/// Never prints the digest: it identifies a bearer token.
impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest([redacted])")
    }
}

struct Entry {
    claims: AccessClaims,
    key_generation: u64,
    /// When the token passed its checks, in epoch seconds.
    verified_at: i64,
}

struct Entries {
    /// The newest key-set generation seen; entries of older ones are gone.
    key_generation: u64,
    by_digest: HashMap<TokenDigest, Entry>,
}

/// The verified-token cache of one verifier (one issuer and audience).
pub struct VerifiedTokenCache {
    capacity: usize,
    entries: RwLock<Entries>,
}

impl VerifiedTokenCache {
    /// Creates a cache of at most `capacity` tokens; 0 turns it off.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: RwLock::new(Entries {
                key_generation: 0,
                by_digest: HashMap::new(),
            }),
        }
    }

    /// Returns the claims of a token verified before under key-set `key_generation`, if
    /// its `exp` is still after `now` (rules 1, 3 and 4).
    pub fn get(&self, digest: &TokenDigest, key_generation: u64, now: i64) -> Option<AccessClaims> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.by_digest.get(digest)?;
        let usable = entry.key_generation == key_generation
            && entry.verified_at <= now
            && now < entry.claims.exp;
        usable.then(|| entry.claims.clone())
    }

    /// Stores the claims of a token that passed every check under key-set
    /// `key_generation` (rules 2, 4 and 6). The caller reads the generation before it looks
    /// the key up, so a refetch that lands in between only makes the entry unusable.
    pub fn insert(&self, digest: TokenDigest, claims: AccessClaims, key_generation: u64, now: i64) {
        if self.capacity == 0 || now >= claims.exp {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if key_generation < entries.key_generation {
            return;
        }
        if key_generation > entries.key_generation {
            entries.key_generation = key_generation;
            entries.by_digest.clear();
        }
        if entries.by_digest.len() >= self.capacity && !entries.by_digest.contains_key(&digest) {
            entries.by_digest.retain(|_, entry| now < entry.claims.exp);
            // Dropping an eighth at once makes the scan above happen once per eighth of the
            // capacity, not on every store, and keeps most hot tokens when live tokens
            // outnumber the capacity.
            let keep = self.capacity - self.capacity.div_ceil(8);
            let excess = entries.by_digest.len().saturating_sub(keep);
            if excess > 0 {
                let dropped: Vec<TokenDigest> =
                    entries.by_digest.keys().take(excess).copied().collect();
                for digest in &dropped {
                    entries.by_digest.remove(digest);
                }
            }
        }
        entries.by_digest.insert(
            digest,
            Entry {
                claims,
                key_generation,
                verified_at: now,
            },
        );
    }

    /// Number of tokens held, for tests and metrics.
    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_digest
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn claims(sub: &str, exp: i64) -> AccessClaims {
        AccessClaims {
            sub: sub.to_owned(),
            exp,
            acr: Some("2fa".to_owned()),
            auth_time: Some(NOW - 10),
            amr: vec!["pwd".to_owned(), "otp".to_owned()],
        }
    }

    #[test]
    fn get_serves_entry_until_exp() {
        let cache = VerifiedTokenCache::new(10);
        let digest = TokenDigest::of("header.claims.signature");
        cache.insert(digest, claims("alice", NOW + 300), 0, NOW);
        assert_eq!(cache.get(&digest, 0, NOW), Some(claims("alice", NOW + 300)));
        assert!(cache.get(&digest, 0, NOW + 299).is_some());
        assert_eq!(cache.get(&digest, 0, NOW + 300), None);
        assert_eq!(cache.get(&digest, 0, NOW + 10_000), None);
    }

    #[test]
    fn get_misses_after_clock_steps_back() {
        let cache = VerifiedTokenCache::new(10);
        let digest = TokenDigest::of("header.claims.signature");
        cache.insert(digest, claims("alice", NOW + 300), 0, NOW);
        assert_eq!(cache.get(&digest, 0, NOW - 1), None);
        assert!(cache.get(&digest, 0, NOW).is_some());
    }

    #[test]
    fn get_misses_token_one_byte_apart() {
        let cache = VerifiedTokenCache::new(10);
        cache.insert(
            TokenDigest::of("aaaa.bbbb.cccc"),
            claims("alice", NOW + 300),
            0,
            NOW,
        );
        assert_eq!(cache.get(&TokenDigest::of("aaaa.bbbb.cccd"), 0, NOW), None);
        assert_eq!(cache.get(&TokenDigest::of("aaaa.bbbb.ccc"), 0, NOW), None);
    }

    #[test]
    fn insert_skips_expired_token() {
        let cache = VerifiedTokenCache::new(10);
        cache.insert(TokenDigest::of("t1"), claims("alice", NOW), 0, NOW);
        cache.insert(TokenDigest::of("t2"), claims("alice", NOW - 30), 0, NOW);
        assert!(cache.is_empty());
    }

    #[test]
    fn new_key_generation_drops_entries() {
        let cache = VerifiedTokenCache::new(10);
        let old = TokenDigest::of("signed-with-old-key");
        cache.insert(old, claims("alice", NOW + 300), 0, NOW);
        // Looked up under the new generation, the old entry is not used.
        assert_eq!(cache.get(&old, 1, NOW), None);
        let new = TokenDigest::of("signed-with-new-key");
        cache.insert(new, claims("bob", NOW + 300), 1, NOW);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&new, 1, NOW).is_some());
        // A verification that started before the refetch cannot put its result back.
        cache.insert(old, claims("alice", NOW + 300), 0, NOW);
        assert_eq!(cache.get(&old, 0, NOW), None);
        assert_eq!(cache.get(&old, 1, NOW), None);
    }

    #[test]
    fn cache_never_exceeds_capacity() {
        let cache = VerifiedTokenCache::new(3);
        for index in 0..3 {
            cache.insert(
                TokenDigest::of(&format!("t{index}")),
                claims("u", NOW + 300),
                0,
                NOW,
            );
        }
        assert_eq!(cache.len(), 3);
        // Full of live tokens: the fourth drops one (an eighth of 3, rounded up).
        cache.insert(TokenDigest::of("t3"), claims("u", NOW + 300), 0, NOW);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&TokenDigest::of("t3"), 0, NOW).is_some());
        for index in 0..1_000 {
            cache.insert(
                TokenDigest::of(&format!("n{index}")),
                claims("u", NOW + 300),
                0,
                NOW,
            );
            assert!(cache.len() <= 3);
        }
    }

    #[test]
    fn full_cache_keeps_most_live_tokens() {
        let cache = VerifiedTokenCache::new(800);
        let digests: Vec<TokenDigest> = (0..800)
            .map(|index| TokenDigest::of(&format!("t{index}")))
            .collect();
        for digest in &digests {
            cache.insert(*digest, claims("u", NOW + 300), 0, NOW);
        }
        cache.insert(TokenDigest::of("one more"), claims("u", NOW + 300), 0, NOW);

        assert_eq!(cache.len(), 701);
        let kept = digests
            .iter()
            .filter(|digest| cache.get(digest, 0, NOW).is_some())
            .count();
        assert_eq!(kept, 700);
        assert!(cache.get(&TokenDigest::of("one more"), 0, NOW).is_some());
    }

    #[test]
    fn full_cache_drops_expired_entries_first() {
        let cache = VerifiedTokenCache::new(2);
        cache.insert(TokenDigest::of("short"), claims("u", NOW + 10), 0, NOW);
        cache.insert(TokenDigest::of("long"), claims("u", NOW + 300), 0, NOW);
        cache.insert(
            TokenDigest::of("later"),
            claims("u", NOW + 300),
            0,
            NOW + 20,
        );
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&TokenDigest::of("long"), 0, NOW + 20).is_some());
        assert!(cache.get(&TokenDigest::of("later"), 0, NOW + 20).is_some());
    }

    #[test]
    fn zero_capacity_disables_cache() {
        let cache = VerifiedTokenCache::new(0);
        let digest = TokenDigest::of("t");
        cache.insert(digest, claims("u", NOW + 300), 0, NOW);
        assert_eq!(cache.get(&digest, 0, NOW), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn digest_debug_is_redacted() {
        let printed = format!("{:?}", TokenDigest::of("secret-token"));
        assert!(!printed.contains(|c: char| c.is_ascii_digit()), "{printed}");
    }
}
