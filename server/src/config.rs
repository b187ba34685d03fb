//! Server configuration from environment variables.
//!
//! Every variable has a default that points at the local development provider, so
//! `cargo leptos watch` runs with no set-up. An invalid value stops the server at start
//! with an error that names the variable.

use app::session::SecretString;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use url::Url;

/// Issuer of the local provider in `end2end/provider`.
pub const DEFAULT_ISSUER_URL: &str = "http://127.0.0.1:4000";
pub const DEFAULT_CLIENT_ID: &str = "stepup-app";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";
pub const DEFAULT_API_AUDIENCE: &str = "api://default";
pub const DEFAULT_DATA_DIR: &str = "data";

/// The server's settings.
#[derive(Clone)]
pub struct Config {
    /// The OpenID Provider's issuer identifier, exactly as the provider spells it (a
    /// trailing slash matters); discovery is read from
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer_url: String,
    pub client_id: String,
    /// Set for a confidential client; `None` for a public client, which relies on PKCE.
    pub client_secret: Option<SecretString>,
    /// The URL users reach the app at; the redirect URI is `{public_url}/auth/callback`.
    pub public_url: Url,
    /// The `aud` value access tokens for `/api/*` must carry.
    pub api_audience: String,
    /// The step-up policy file; `None` uses the built-in `config/policy.toml`.
    pub policy_file: Option<std::path::PathBuf>,
    /// Whether the session cookie is marked `Secure`: true unless `public_url` is plain
    /// http, and forced by `STEPUP_COOKIE_SECURE`.
    pub secure_cookies: bool,
    /// Client authentication method at the token endpoint, used when there is a secret.
    pub client_auth: ClientAuthMethod,
    /// Session store kind.
    pub session_store: SessionStoreKind,
    /// Folder for persistent state (the SQLite session database).
    pub data_dir: std::path::PathBuf,
    /// Redis or Valkey URL for [`SessionStoreKind::Redis`].
    pub redis_url: Option<SecretString>,
    pub log_format: LogFormat,
    /// Whether access tokens must carry `typ: at+jwt` (RFC 9068); `STEPUP_ACCESS_TOKEN_TYPE`
    /// is `at+jwt` (default) or `any` for providers that do not type their tokens.
    pub require_typed_access_tokens: bool,
    /// Namespace of step-up claims in access tokens, for providers (Auth0) that do not
    /// allow the standard names: `{namespace}acr`, `{namespace}amr`, `{namespace}auth_time`.
    pub access_token_claim_namespace: Option<String>,
    /// Sign-in starts allowed per client address per minute; 0 turns the limit off.
    pub login_rate_limit: u32,
    /// Verified access tokens kept so that a repeated token skips the signature check;
    /// 0 turns the cache off.
    pub token_cache_size: usize,
    /// Overrides the listen address of the Leptos configuration (`LEPTOS_SITE_ADDR`).
    pub listen_addr: Option<std::net::SocketAddr>,
}

/// Token endpoint client authentication (OpenID Connect Core 1.0 §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `client_secret_basic`: the secret in an HTTP Basic `Authorization` header.
    Basic,
    /// `client_secret_post`: the secret in the request body.
    Post,
}

/// The session store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStoreKind {
    /// In memory: lost at restart, one process only. For tests and development.
    Memory,
    /// SQLite in `data_dir`: survives restarts, one host.
    Sqlite,
    /// Redis or Valkey: shared by several replicas.
    Redis,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting, by its environment variable name. A configuration file uses the same
/// names in lower case without the `STEPUP_` prefix (`issuer_url = "…"`).
pub const VARIABLES: &[&str] = &[
    "STEPUP_ISSUER_URL",
    "STEPUP_CLIENT_ID",
    "STEPUP_CLIENT_SECRET",
    "STEPUP_CLIENT_AUTH",
    "STEPUP_PUBLIC_URL",
    "STEPUP_API_AUDIENCE",
    "STEPUP_POLICY_FILE",
    "STEPUP_COOKIE_SECURE",
    "STEPUP_SESSION_STORE",
    "STEPUP_DATA_DIR",
    "STEPUP_REDIS_URL",
    "STEPUP_LOG_FORMAT",
    "STEPUP_LISTEN_ADDR",
    "STEPUP_ACCESS_TOKEN_TYPE",
    "STEPUP_LOGIN_RATE_LIMIT",
    "STEPUP_ACCESS_TOKEN_CLAIM_NAMESPACE",
    "STEPUP_TOKEN_CACHE_SIZE",
];

/// Settings that may hold secrets, and so may also come from a file named by the
/// `_FILE` variant (`STEPUP_CLIENT_SECRET_FILE=/run/secrets/client_secret`).
const SECRET_VARIABLES: &[&str] = &["STEPUP_CLIENT_SECRET", "STEPUP_REDIS_URL"];

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("issuer_url", &redact_userinfo(&self.issuer_url))
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("public_url", &redact_userinfo(self.public_url.as_str()))
            .field("api_audience", &self.api_audience)
            .field("policy_file", &self.policy_file)
            .field("secure_cookies", &self.secure_cookies)
            .field("client_auth", &self.client_auth)
            .field("session_store", &self.session_store)
            .field("data_dir", &self.data_dir)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "[redacted]"))
            .field("log_format", &self.log_format)
            .field("listen_addr", &self.listen_addr)
            .field("login_rate_limit", &self.login_rate_limit)
            .field("token_cache_size", &self.token_cache_size)
            .field(
                "access_token_claim_namespace",
                &self.access_token_claim_namespace,
            )
            .field(
                "require_typed_access_tokens",
                &self.require_typed_access_tokens,
            )
            .finish()
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl Config {
    /// Reads the configuration from the process environment only.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] naming the first variable whose value is invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(None)
    }

    /// Reads the configuration from an optional TOML file, then the environment.
    ///
    /// For each setting, the first of these that is set wins: the environment variable,
    /// its `_FILE` variant (secrets only), the file's key, the file's `_file` key (secrets
    /// only), the default.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] naming the variable, or `STEPUP_CONFIG_FILE` for a file
    /// that cannot be read or has unknown keys.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let file_values = match file {
            Some(path) => read_config_file(path)?,
            None => HashMap::new(),
        };
        let mut resolved = HashMap::new();
        for &variable in VARIABLES {
            if let Some(value) = resolve(variable, &file_values)? {
                resolved.insert(variable, value);
            }
        }
        Self::from_lookup(|name| resolved.get(name).cloned())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] naming the first variable whose value is invalid.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str, default: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };

        let issuer_url = value("STEPUP_ISSUER_URL", DEFAULT_ISSUER_URL);
        parse_http_url("STEPUP_ISSUER_URL", &issuer_url)?;
        let public_url = parse_http_url(
            "STEPUP_PUBLIC_URL",
            &value("STEPUP_PUBLIC_URL", DEFAULT_PUBLIC_URL),
        )?;
        if public_url.path() != "/" || public_url.query().is_some() {
            return Err(ConfigError {
                variable: "STEPUP_PUBLIC_URL",
                reason: "must be an origin such as https://app.example.com, without a path"
                    .to_owned(),
            });
        }

        let client_id = value("STEPUP_CLIENT_ID", DEFAULT_CLIENT_ID);
        let client_secret = lookup("STEPUP_CLIENT_SECRET")
            .filter(|secret| !secret.is_empty())
            .map(SecretString::new);
        let api_audience = value("STEPUP_API_AUDIENCE", DEFAULT_API_AUDIENCE);

        let secure_cookies = match lookup("STEPUP_COOKIE_SECURE").as_deref().map(str::trim) {
            None | Some("") => public_url.scheme() == "https",
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(ConfigError {
                    variable: "STEPUP_COOKIE_SECURE",
                    reason: format!("expected true or false, found {other:?}"),
                })
            }
        };

        let client_auth = match value("STEPUP_CLIENT_AUTH", "client_secret_basic").as_str() {
            "client_secret_basic" => ClientAuthMethod::Basic,
            "client_secret_post" => ClientAuthMethod::Post,
            other => {
                return Err(invalid(
                    "STEPUP_CLIENT_AUTH",
                    format!("expected client_secret_basic or client_secret_post, found {other:?}"),
                ))
            }
        };
        let session_store = match value("STEPUP_SESSION_STORE", "sqlite").as_str() {
            "memory" => SessionStoreKind::Memory,
            "sqlite" => SessionStoreKind::Sqlite,
            "redis" => SessionStoreKind::Redis,
            other => {
                return Err(invalid(
                    "STEPUP_SESSION_STORE",
                    format!("expected memory, sqlite or redis, found {other:?}"),
                ))
            }
        };
        let data_dir = std::path::PathBuf::from(value("STEPUP_DATA_DIR", DEFAULT_DATA_DIR));
        let redis_url = lookup("STEPUP_REDIS_URL")
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty());
        if let Some(url) = &redis_url {
            let parsed = Url::parse(url)
                .map_err(|_| invalid("STEPUP_REDIS_URL", "is not a URL".to_owned()))?;
            if !matches!(parsed.scheme(), "redis" | "rediss" | "valkey" | "valkeys") {
                return Err(invalid(
                    "STEPUP_REDIS_URL",
                    "must start with redis:// or rediss://".to_owned(),
                ));
            }
        }
        if session_store == SessionStoreKind::Redis && redis_url.is_none() {
            return Err(invalid(
                "STEPUP_REDIS_URL",
                "is required when STEPUP_SESSION_STORE is redis".to_owned(),
            ));
        }
        let log_format = match value("STEPUP_LOG_FORMAT", "text").as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "STEPUP_LOG_FORMAT",
                    format!("expected text or json, found {other:?}"),
                ))
            }
        };
        let listen_addr = match lookup("STEPUP_LISTEN_ADDR")
            .map(|addr| addr.trim().to_owned())
            .filter(|addr| !addr.is_empty())
        {
            Some(addr) => Some(addr.parse().map_err(|_| {
                invalid(
                    "STEPUP_LISTEN_ADDR",
                    format!("{addr:?} is not an address such as 0.0.0.0:3000"),
                )
            })?),
            None => None,
        };

        let require_typed_access_tokens = match value("STEPUP_ACCESS_TOKEN_TYPE", "at+jwt").as_str()
        {
            "at+jwt" => true,
            "any" => false,
            other => {
                return Err(invalid(
                    "STEPUP_ACCESS_TOKEN_TYPE",
                    format!("expected at+jwt or any, found {other:?}"),
                ))
            }
        };

        let login_rate_limit = value("STEPUP_LOGIN_RATE_LIMIT", "30")
            .parse::<u32>()
            .map_err(|_| {
                invalid(
                    "STEPUP_LOGIN_RATE_LIMIT",
                    "must be a whole number of sign-ins per minute (0 turns the limit off)"
                        .to_owned(),
                )
            })?;

        let token_cache_size = value("STEPUP_TOKEN_CACHE_SIZE", "10000")
            .parse::<usize>()
            .map_err(|_| {
                invalid(
                    "STEPUP_TOKEN_CACHE_SIZE",
                    "must be a whole number of tokens (0 turns the cache off)".to_owned(),
                )
            })?;

        let policy_file = lookup("STEPUP_POLICY_FILE")
            .map(|path| path.trim().to_owned())
            .filter(|path| !path.is_empty())
            .map(std::path::PathBuf::from);

        Ok(Self {
            policy_file,
            issuer_url,
            client_id,
            client_secret,
            public_url,
            api_audience,
            secure_cookies,
            client_auth,
            session_store,
            data_dir,
            redis_url: redis_url.map(SecretString::new),
            log_format,
            listen_addr,
            require_typed_access_tokens,
            login_rate_limit,
            token_cache_size,
            access_token_claim_namespace: lookup("STEPUP_ACCESS_TOKEN_CLAIM_NAMESPACE")
                .map(|namespace| namespace.trim().to_owned())
                .filter(|namespace| !namespace.is_empty()),
        })
    }

    /// Returns the redirect URI registered with the provider.
    pub fn redirect_url(&self) -> String {
        format!("{}auth/callback", self.public_url)
    }

    /// Returns where the provider sends the user after RP-initiated logout.
    pub fn post_logout_redirect_url(&self) -> String {
        self.public_url.to_string()
    }
}

/// Replaces a user name and password inside a URL with `[redacted]`, for printing.
fn redact_userinfo(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(url) if !url.username().is_empty() || url.password().is_some() => {
            let mut redacted = url.clone();
            let _ = redacted.set_username("");
            let _ = redacted.set_password(None);
            redacted.as_str().replacen("://", "://[redacted]@", 1)
        }
        _ => raw.to_owned(),
    }
}

fn invalid(variable: &'static str, reason: String) -> ConfigError {
    ConfigError { variable, reason }
}

/// Looks a variable up in the environment, its `_FILE` variant, then the file's values.
fn resolve(
    variable: &'static str,
    file_values: &HashMap<String, String>,
) -> Result<Option<String>, ConfigError> {
    let is_secret = SECRET_VARIABLES.contains(&variable);
    if let Ok(value) = std::env::var(variable) {
        return Ok(Some(value));
    }
    if is_secret {
        if let Ok(path) = std::env::var(format!("{variable}_FILE")) {
            return read_secret_file(variable, Path::new(&path)).map(Some);
        }
    }
    let key = file_key(variable);
    if let Some(value) = file_values.get(&key) {
        return Ok(Some(value.clone()));
    }
    if is_secret {
        if let Some(path) = file_values.get(&format!("{key}_file")) {
            return read_secret_file(variable, Path::new(path)).map(Some);
        }
    }
    Ok(None)
}

fn file_key(variable: &str) -> String {
    variable.trim_start_matches("STEPUP_").to_ascii_lowercase()
}

/// Reads a secret from a file, without its trailing newline.
fn read_secret_file(variable: &'static str, path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        invalid(
            variable,
            format!("could not read the secret file {}: {error}", path.display()),
        )
    })?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads a TOML configuration file into setting name (lower case) to value.
fn read_config_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        invalid(
            "STEPUP_CONFIG_FILE",
            format!("could not read {}: {error}", path.display()),
        )
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|error| {
        invalid(
            "STEPUP_CONFIG_FILE",
            format!("invalid TOML in {}: {error}", path.display()),
        )
    })?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let known = VARIABLES.iter().any(|variable| {
            let name = file_key(variable);
            key == name || (SECRET_VARIABLES.contains(variable) && key == format!("{name}_file"))
        });
        if !known {
            return Err(invalid(
                "STEPUP_CONFIG_FILE",
                format!("unknown setting {key:?} in {}", path.display()),
            ));
        }
        let text = match value {
            toml::Value::String(text) => text,
            toml::Value::Integer(number) => number.to_string(),
            toml::Value::Boolean(flag) => flag.to_string(),
            other => {
                return Err(invalid(
                    "STEPUP_CONFIG_FILE",
                    format!(
                        "setting {key:?} must be a string, integer or boolean, found {}",
                        other.type_str()
                    ),
                ))
            }
        };
        values.insert(key, text);
    }
    Ok(values)
}

fn parse_http_url(variable: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|error| ConfigError {
        variable,
        reason: format!("{raw:?} is not a URL ({error})"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError {
            variable,
            reason: format!("{raw:?} must be an http or https URL with a host"),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_point_at_local_provider() {
        let config = config_from(&[]).expect("defaults are valid");
        assert_eq!(config.issuer_url, "http://127.0.0.1:4000");
        assert_eq!(config.redirect_url(), "http://127.0.0.1:3000/auth/callback");
        assert_eq!(config.api_audience, "api://default");
        assert!(!config.secure_cookies);
        assert!(config.client_secret.is_none());
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let config =
            config_from(&[("STEPUP_PUBLIC_URL", "https://app.example.com")]).expect("valid config");
        assert!(config.secure_cookies);
        assert_eq!(
            config.redirect_url(),
            "https://app.example.com/auth/callback"
        );
    }

    #[test]
    fn invalid_issuer_names_variable() {
        let error = config_from(&[("STEPUP_ISSUER_URL", "not a url")]).expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_ISSUER_URL");
    }

    #[test]
    fn non_http_issuer_is_rejected() {
        let error =
            config_from(&[("STEPUP_ISSUER_URL", "ftp://op.example.com")]).expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_ISSUER_URL");
    }

    #[test]
    fn public_url_with_path_is_rejected() {
        let error = config_from(&[("STEPUP_PUBLIC_URL", "https://app.example.com/app")])
            .expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_PUBLIC_URL");
    }

    #[test]
    fn cookie_secure_accepts_only_booleans() {
        let error = config_from(&[("STEPUP_COOKIE_SECURE", "yes")]).expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_COOKIE_SECURE");
        let config = config_from(&[("STEPUP_COOKIE_SECURE", "true")]).expect("valid");
        assert!(config.secure_cookies);
    }

    #[test]
    fn token_cache_size_is_a_whole_number() {
        assert_eq!(config_from(&[]).expect("valid").token_cache_size, 10_000);
        let config = config_from(&[("STEPUP_TOKEN_CACHE_SIZE", "0")]).expect("valid");
        assert_eq!(config.token_cache_size, 0);
        for bad in ["-1", "ten", "1e4", "10 000"] {
            let error = config_from(&[("STEPUP_TOKEN_CACHE_SIZE", bad)]).expect_err(bad);
            assert_eq!(error.variable, "STEPUP_TOKEN_CACHE_SIZE", "{bad}");
        }
    }

    #[test]
    fn store_and_log_settings_parse() {
        let config = config_from(&[
            ("STEPUP_SESSION_STORE", "memory"),
            ("STEPUP_LOG_FORMAT", "json"),
        ])
        .expect("valid");
        assert_eq!(config.session_store, SessionStoreKind::Memory);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(
            config_from(&[]).expect("valid").session_store,
            SessionStoreKind::Sqlite
        );
        let error = config_from(&[("STEPUP_SESSION_STORE", "postgres")]).expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_SESSION_STORE");
    }

    #[test]
    fn redis_store_needs_redis_url() {
        let error = config_from(&[("STEPUP_SESSION_STORE", "redis")]).expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_REDIS_URL");
        let error = config_from(&[
            ("STEPUP_SESSION_STORE", "redis"),
            ("STEPUP_REDIS_URL", "http://x"),
        ])
        .expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_REDIS_URL");
        let config = config_from(&[
            ("STEPUP_SESSION_STORE", "redis"),
            ("STEPUP_REDIS_URL", "redis://127.0.0.1:6379"),
        ])
        .expect("valid");
        assert!(!format!("{config:?}").contains("6379"));
    }

    #[test]
    fn listen_addr_and_client_auth_are_checked() {
        let error = config_from(&[("STEPUP_LISTEN_ADDR", "localhost")]).expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_LISTEN_ADDR");
        let error = config_from(&[("STEPUP_CLIENT_AUTH", "private_key_jwt")]).expect_err("invalid");
        assert_eq!(error.variable, "STEPUP_CLIENT_AUTH");
        let config = config_from(&[("STEPUP_CLIENT_AUTH", "client_secret_post")]).expect("valid");
        assert_eq!(config.client_auth, ClientAuthMethod::Post);
    }

    #[test]
    fn config_file_values_and_secret_files() {
        let dir = std::env::temp_dir().join(format!("stepup-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let secret_path = dir.join("client_secret");
        std::fs::write(&secret_path, "from-a-file\n").expect("write secret");
        let config_path = dir.join("stepup.toml");
        let text = format!(
            "client_id = \"from-file\"\ncookie_secure = true\nclient_secret_file = {:?}\n",
            secret_path.display().to_string()
        );
        std::fs::write(&config_path, text).expect("write config");
        let values = read_config_file(&config_path).expect("valid file");
        assert_eq!(
            values.get("client_id").map(String::as_str),
            Some("from-file")
        );
        assert_eq!(
            values.get("cookie_secure").map(String::as_str),
            Some("true")
        );
        let secret = resolve("STEPUP_CLIENT_SECRET", &values).expect("secret resolves");
        assert_eq!(secret.as_deref(), Some("from-a-file"));

        std::fs::write(&config_path, "issuer = \"typo\"\n").expect("write config");
        let error = read_config_file(&config_path).expect_err("unknown key");
        assert_eq!(error.variable, "STEPUP_CONFIG_FILE");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn debug_redacts_credentials_in_urls() {
        let config = config_from(&[
            (
                "STEPUP_ISSUER_URL",
                "https://user:issuer-pass@op.example.com",
            ),
            (
                "STEPUP_PUBLIC_URL",
                "https://admin:public-pass@app.example.com",
            ),
        ])
        .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("issuer-pass"), "{printed}");
        assert!(!printed.contains("public-pass"), "{printed}");
        assert!(
            printed.contains("https://[redacted]@op.example.com"),
            "{printed}"
        );
    }

    #[test]
    fn debug_redacts_client_secret() {
        let config = config_from(&[("STEPUP_CLIENT_SECRET", "very-secret-value")]).expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("very-secret-value"), "{printed}");
    }
}
