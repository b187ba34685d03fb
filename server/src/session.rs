//! The session cookie and its store.
//!
//! The cookie carries only a random session id; the record lives on the server.

use crate::config::Config;
use std::path::Path;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::fred::prelude::{
    ClientLike, Config as RedisConfig, Pool as RedisPool,
};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use tower_sessions_sqlx_store::SqliteStore;

/// Name of the session cookie. It must differ from the provider's cookie names, since
/// cookies are shared across ports of one host.
pub const SESSION_COOKIE_NAME: &str = "stepup_session";

/// A session ends after this long without a request.
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::hours(8);

/// Builds the session layer: `HttpOnly`, `SameSite=Lax` (the cookie must come along on the
/// provider's top-level redirect back to `/auth/callback`), `Secure` per configuration.
pub fn session_layer<Store: SessionStore + Clone>(
    store: Store,
    config: &Config,
) -> SessionManagerLayer<Store> {
    SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE_NAME)
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE_TIMEOUT))
}

/// File name of the SQLite session database inside the data folder.
pub const SQLITE_FILE_NAME: &str = "sessions.sqlite3";

/// How often expired sessions are deleted from the SQLite store.
const EXPIRED_DELETION_PERIOD: std::time::Duration = std::time::Duration::from_secs(600);

/// How long a SQLite writer waits for another to finish before failing.
const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Connections in the Redis pool.
const REDIS_POOL_SIZE: usize = 4;

/// A session store that could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("could not open the SQLite session store: {0}")]
    Sqlite(#[from] tower_sessions_sqlx_store::sqlx::Error),
    #[error("could not connect to Redis: {0}")]
    Redis(#[from] tower_sessions_redis_store::fred::error::Error),
}

/// A session store that treats a record it cannot decode as no record: it logs a warning,
/// deletes the record and returns "not found", so the browser gets a fresh session instead
/// of an error on every request until its cookie expires. Such records come from another
/// version of the app or from tampering with the store.
#[derive(Clone, Debug)]
pub struct DropUnreadable<Store>(pub Store);

#[async_trait::async_trait]
impl<Store: SessionStore> SessionStore for DropUnreadable<Store> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self.0.load(id).await {
            Err(session_store::Error::Decode(reason)) => {
                tracing::warn!(
                    reason,
                    "dropping an unreadable session record; possibly suspicious"
                );
                if let Err(error) = self.0.delete(id).await {
                    tracing::warn!(%error, "could not delete the unreadable session record");
                }
                Ok(None)
            }
            other => other,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

/// Opens (and creates) the SQLite session store in `data_dir`, and starts a task that
/// deletes expired sessions every 10 minutes.
///
/// # Errors
///
/// Returns a [`StoreError`] when the folder or database cannot be created.
pub async fn open_sqlite_store(data_dir: &Path) -> Result<DropUnreadable<SqliteStore>, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    // Write-ahead logging lets readers go on while one request writes, and the busy timeout
    // makes a writer wait for another instead of failing. With the default rollback journal,
    // one sign-in in several thousand failed with "database is locked" under load.
    let options = SqliteConnectOptions::new()
        .filename(data_dir.join(SQLITE_FILE_NAME))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new().connect_with(options).await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;
    tokio::spawn({
        let store = store.clone();
        async move {
            if let Err(error) = store
                .continuously_delete_expired(EXPIRED_DELETION_PERIOD)
                .await
            {
                tracing::error!(%error, "the expired-session deletion task stopped");
            }
        }
    });
    Ok(DropUnreadable(store))
}

/// Connects to Redis or Valkey at `url`.
///
/// # Errors
///
/// Returns a [`StoreError`] when the URL is invalid or the server does not respond.
pub async fn open_redis_store(
    url: &str,
) -> Result<DropUnreadable<RedisStore<RedisPool>>, StoreError> {
    let config = RedisConfig::from_url(url)?;
    let pool = RedisPool::new(config, None, None, None, REDIS_POOL_SIZE)?;
    pool.init().await?;
    Ok(DropUnreadable(RedisStore::new(pool)))
}
