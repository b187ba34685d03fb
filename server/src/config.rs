//! Server configuration from environment variables.
//!
//! Every variable has a default that points at the local development provider, so
//! `cargo leptos watch` runs with no set-up. An invalid value stops the server at start
//! with an error that names the variable.

use app::session::SecretString;
use std::fmt;
use url::Url;

/// Issuer of the local provider in `end2end/provider`.
pub const DEFAULT_ISSUER_URL: &str = "http://127.0.0.1:4000";
pub const DEFAULT_CLIENT_ID: &str = "stepup-app";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";
pub const DEFAULT_API_AUDIENCE: &str = "api://default";

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
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("public_url", &self.public_url.as_str())
            .field("api_audience", &self.api_audience)
            .field("policy_file", &self.policy_file)
            .field("secure_cookies", &self.secure_cookies)
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
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] naming the first variable whose value is invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
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
    fn debug_redacts_client_secret() {
        let config = config_from(&[("STEPUP_CLIENT_SECRET", "very-secret-value")]).expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("very-secret-value"), "{printed}");
    }
}
