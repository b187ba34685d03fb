//! The provider's signing keys (JWKS, RFC 7517), cached and refetched on rotation.

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use url::Url;

/// Shortest time between two JWKS fetches caused by unknown `kid`s, so that tokens with
/// made-up `kid`s cannot make the server hammer the provider.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Largest JWKS document read, in bytes.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// One verification key with the `kid` and `alg` the JWKS gives it.
#[derive(Clone)]
struct CachedKey {
    kid: Option<String>,
    algorithm: Option<Algorithm>,
    key: DecodingKey,
}

/// The result of looking a key up.
pub enum KeyLookup {
    Found(DecodingKey),
    NotFound,
    Ambiguous,
}

/// Source of the keys.
enum KeySource {
    Remote { url: Url, http: reqwest::Client },
    Fixed,
}

/// A JWKS failure at fetch time.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("fetching the JWKS failed: {0}")]
    Fetch(#[from] reqwest::Error),
    #[error("the JWKS endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the JWKS is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("the JWKS is not valid JSON: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("the JWKS has no usable signing key")]
    NoUsableKey,
}

/// The cached key set.
pub struct JwksCache {
    source: KeySource,
    keys: RwLock<Arc<Vec<CachedKey>>>,
    /// Number of changes of the key set, so that results verified under an older one can be
    /// recognised. It is raised after `keys` is replaced.
    generation: AtomicU64,
    /// SHA-256 of the JWKS document behind `keys`: a refetch that returns the same
    /// document is not a change.
    document_digest: std::sync::Mutex<[u8; 32]>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl JwksCache {
    /// Fetches the key set at `url` once; later lookups refetch it on unknown `kid`s.
    ///
    /// # Errors
    ///
    /// Returns a [`JwksError`] when the first fetch fails or yields no usable key.
    pub async fn fetch(url: Url, http: reqwest::Client) -> Result<Self, JwksError> {
        let (keys, document_digest) = download(&url, &http).await?;
        Ok(Self {
            source: KeySource::Remote { url, http },
            keys: RwLock::new(Arc::new(keys)),
            generation: AtomicU64::new(0),
            document_digest: std::sync::Mutex::new(document_digest),
            // The first unknown `kid` may refetch at once; only refetches count.
            last_fetch: tokio::sync::Mutex::new(None),
        })
    }

    /// Uses a fixed key set that is never refetched (tests, or keys pinned by config).
    ///
    /// # Errors
    ///
    /// Returns [`JwksError::NoUsableKey`] when the set has no usable signing key.
    pub fn fixed(set: &JwkSet) -> Result<Self, JwksError> {
        let keys = usable_keys(set)?;
        Ok(Self {
            source: KeySource::Fixed,
            keys: RwLock::new(Arc::new(keys)),
            generation: AtomicU64::new(0),
            document_digest: std::sync::Mutex::new([0; 32]),
            last_fetch: tokio::sync::Mutex::new(None),
        })
    }

    /// Finds the key for a token with `kid` signed with `algorithm`.
    ///
    /// An unknown `kid` triggers one refetch, at most every [`MIN_REFETCH_INTERVAL`].
    pub async fn find(&self, kid: Option<&str>, algorithm: Algorithm) -> KeyLookup {
        let lookup = select(&self.snapshot(), kid, algorithm);
        if !matches!(lookup, KeyLookup::NotFound) || kid.is_none() {
            return lookup;
        }
        if self.refetch().await {
            select(&self.snapshot(), kid, algorithm)
        } else {
            lookup
        }
    }

    /// Returns the current generation of the key set: 0 for the first one, raised each time
    /// a refetch brings a different document. Callers read it before [`Self::find`], so a
    /// token that then verifies was checked against keys of this generation or a newer one.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn snapshot(&self) -> Arc<Vec<CachedKey>> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Refetches the key set unless it was fetched recently; returns whether it changed.
    async fn refetch(&self) -> bool {
        let KeySource::Remote { url, http } = &self.source else {
            return false;
        };
        let mut last_fetch = self.last_fetch.lock().await;
        if last_fetch.is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL) {
            return false;
        }
        *last_fetch = Some(Instant::now());
        match download(url, http).await {
            Ok((keys, document_digest)) => {
                tracing::info!(jwks.keys = keys.len(), "refetched the provider's JWKS");
                let changed = {
                    let mut current = self
                        .document_digest
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let changed = *current != document_digest;
                    *current = document_digest;
                    changed
                };
                if changed {
                    match self.keys.write() {
                        Ok(mut current) => *current = Arc::new(keys),
                        Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
                    }
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                changed
            }
            Err(error) => {
                tracing::warn!(%error, jwks.url = %url, "refetching the provider's JWKS failed");
                false
            }
        }
    }
}

fn select(keys: &[CachedKey], kid: Option<&str>, algorithm: Algorithm) -> KeyLookup {
    let fits = |key: &&CachedKey| key.algorithm.is_none_or(|alg| alg == algorithm);
    let mut candidates = keys.iter().filter(fits).filter(|key| match kid {
        Some(kid) => key.kid.as_deref() == Some(kid),
        None => true,
    });
    match (candidates.next(), candidates.next()) {
        (Some(key), None) => KeyLookup::Found(key.key.clone()),
        (Some(_), Some(_)) => KeyLookup::Ambiguous,
        (None, _) => KeyLookup::NotFound,
    }
}

/// Fetches the key set and returns its usable keys with the SHA-256 of the document.
async fn download(
    url: &Url,
    http: &reqwest::Client,
) -> Result<(Vec<CachedKey>, [u8; 32]), JwksError> {
    let response = http.get(url.clone()).send().await?;
    if !response.status().is_success() {
        return Err(JwksError::Status(response.status().as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
    {
        return Err(JwksError::TooLarge);
    }
    let body = response.bytes().await?;
    if body.len() > MAX_JWKS_BYTES {
        return Err(JwksError::TooLarge);
    }
    let set: JwkSet = serde_json::from_slice(&body)?;
    Ok((usable_keys(&set)?, Sha256::digest(&body).into()))
}

/// Keeps the keys meant for signatures that `jsonwebtoken` can use.
fn usable_keys(set: &JwkSet) -> Result<Vec<CachedKey>, JwksError> {
    let keys: Vec<CachedKey> = set.keys.iter().filter_map(cached_key).collect();
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey);
    }
    Ok(keys)
}

fn cached_key(jwk: &Jwk) -> Option<CachedKey> {
    if matches!(jwk.common.public_key_use, Some(ref usage) if *usage != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match jwk.common.key_algorithm {
        Some(declared) => Some(Algorithm::try_from(declared).ok()?),
        None => None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(CachedKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key,
    })
}
