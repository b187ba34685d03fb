//! The provider presets in `config/presets/` against recorded, anonymised provider data.
//!
//! `fixtures/providers/<provider>/` contains a discovery document, the JOSE header of the
//! provider's access tokens, and the decoded claims of an access token after a one-factor
//! sign-in and after a step-up. `docs/providers.md` says which provider documentation each
//! shape follows. For every provider the tests check that
//!
//! - the discovery document deserialises as the server reads it at start;
//! - the preset parses through `load_policy`, as `STEPUP_POLICY_FILE` would load it;
//! - the preset challenges the one-factor claims and accepts the stepped-up claims on
//!   `/api/messages`, at a fixed time;
//! - `/auth/login` can request every acr value the preset names, which it only does for
//!   values in `acr_values_supported`;
//! - the access-token verifier accepts the recorded token shape. The claims are re-signed
//!   with `fixtures/test-signing-key.pem` under the recorded header, and their times are
//!   moved to now so that `exp` passes.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{EncodingKey, Header};
use openidconnect::ProviderMetadataWithLogout;
use serde_json::Value;
use server::api::jwks::JwksCache;
use server::api::{AccessClaims, AccessTokenVerifier, TokenError};
use server::policy_file::load_policy;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use stepup::{AcrScheme, Authentication, Decision, Policy, Requirement};

/// Time of the decisions on recorded claims, 2026-01-01T00:11:00Z: one minute after the
/// step-up in every fixture, and eleven minutes after its one-factor sign-in.
const NOW: i64 = 1_767_226_260;

/// `kid` of the key in `fixtures/test-jwks.json`, which replaces the recorded `kid`.
const TEST_KID: &str = "test-key-1";
const TEST_SIGNING_KEY: &[u8] = include_bytes!("fixtures/test-signing-key.pem");
const TEST_JWKS: &str = include_str!("fixtures/test-jwks.json");

/// A transfer amount above every preset's payload threshold of 1000.
const LARGE_AMOUNT: f64 = 5000.0;

/// What a provider's fixtures contain, and the settings `docs/providers.md` gives for it.
struct Provider {
    /// Folder under `fixtures/providers/` and file stem under `config/presets/`.
    name: &'static str,
    issuer: &'static str,
    jwks_uri: &'static str,
    end_session_endpoint: &'static str,
    /// `acr_values_supported` of the discovery document, or `None` when the provider leaves it out.
    acr_values_supported: Option<&'static [&'static str]>,
    /// `STEPUP_API_AUDIENCE` for this provider.
    audience: &'static str,
    /// Whether the access-token header carries `typ: at+jwt`, so the default
    /// `STEPUP_ACCESS_TOKEN_TYPE=at+jwt` accepts the token.
    typed_access_tokens: bool,
    /// Prefix of the claims that carry `acr`, `amr` and `auth_time`: empty for the standard
    /// names. Auth0 only lets an Action add them under a namespace.
    claim_prefix: &'static str,
}

const OKTA: Provider = Provider {
    name: "okta",
    issuer: "https://example.okta.com/oauth2/default",
    jwks_uri: "https://example.okta.com/oauth2/default/v1/keys",
    end_session_endpoint: "https://example.okta.com/oauth2/default/v1/logout",
    acr_values_supported: None,
    audience: "api://default",
    typed_access_tokens: false,
    claim_prefix: "",
};

const AUTH0: Provider = Provider {
    name: "auth0",
    issuer: "https://example.eu.auth0.com/",
    jwks_uri: "https://example.eu.auth0.com/.well-known/jwks.json",
    end_session_endpoint: "https://example.eu.auth0.com/oidc/logout",
    acr_values_supported: None,
    audience: "https://api.example.com/stepup",
    typed_access_tokens: true,
    claim_prefix: "https://stepup.example.com/",
};

const KEYCLOAK: Provider = Provider {
    name: "keycloak",
    issuer: "https://sso.example.com/realms/demo",
    jwks_uri: "https://sso.example.com/realms/demo/protocol/openid-connect/certs",
    end_session_endpoint: "https://sso.example.com/realms/demo/protocol/openid-connect/logout",
    acr_values_supported: Some(&["silver", "gold", "platinum", "1", "2", "3"]),
    audience: "stepup-api",
    typed_access_tokens: true,
    claim_prefix: "",
};

const GENERIC: Provider = Provider {
    name: "generic",
    issuer: "https://id.example.org",
    jwks_uri: "https://id.example.org/jwks",
    end_session_endpoint: "https://id.example.org/session/end",
    acr_values_supported: Some(&[
        "https://refeds.org/profile/sfa",
        "https://refeds.org/profile/mfa",
        "phr",
        "phrh",
    ]),
    audience: "https://api.example.org/stepup",
    typed_access_tokens: true,
    claim_prefix: "",
};

const PROVIDERS: [&Provider; 4] = [&OKTA, &AUTH0, &KEYCLOAK, &GENERIC];

// Fixture access.

fn fixture_dir(provider: &Provider) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/providers")
        .join(provider.name)
}

fn read_json(provider: &Provider, file: &str) -> Value {
    let path = fixture_dir(provider).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

fn discovery(provider: &Provider) -> ProviderMetadataWithLogout {
    serde_json::from_value(read_json(provider, "discovery.json")).unwrap_or_else(|error| {
        panic!(
            "{} discovery does not deserialise as ProviderMetadataWithLogout: {error}",
            provider.name
        )
    })
}

fn preset_path(provider: &Provider) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config/presets")
        .join(format!("{}.toml", provider.name))
}

fn preset(provider: &Provider) -> Policy {
    let path = preset_path(provider);
    load_policy(Some(&path))
        .unwrap_or_else(|error| panic!("{} is not a valid policy: {error}", path.display()))
}

/// Builds the authentication from claims as a resource server that reads `acr`, `amr`
/// and `auth_time` under `prefix` would.
fn authentication(claims: &Value, prefix: &str) -> Authentication {
    let claim = |name: &str| &claims[format!("{prefix}{name}")];
    Authentication {
        acr: claim("acr").as_str().map(str::to_owned),
        amr: claim("amr")
            .as_array()
            .map(|methods| {
                methods
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        auth_time: claim("auth_time").as_i64(),
    }
}

fn recorded_authentication(provider: &Provider, file: &str) -> Authentication {
    authentication(&read_json(provider, file), provider.claim_prefix)
}

fn requirement(policy: &Policy, path: &str, method: &str, amount: Option<f64>) -> Requirement {
    policy.requirement_for(path, method, |field| {
        (field == "amount").then_some(amount).flatten()
    })
}

fn messages_decision(provider: &Provider, authentication: &Authentication, now: i64) -> Decision {
    let policy = preset(provider);
    let required = requirement(&policy, "/api/messages", "GET", None);
    policy.evaluate(&required, authentication, now)
}

/// Collects every acr value that a rule of `policy` names, payload rules included.
fn named_acr_values(policy: &Policy) -> BTreeSet<String> {
    policy
        .rules
        .iter()
        .flat_map(|rule| {
            std::iter::once(&rule.requirement)
                .chain(rule.payload.iter().map(|payload| &payload.requirement))
        })
        .flat_map(|requirement| requirement.acr_values.iter().cloned())
        .collect()
}

// Re-signing recorded tokens.

fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("the time fits in i64")
}

/// Signs the recorded claims in `file` with the test key under the recorded header, after
/// moving every time claim by the same offset so that the token is issued now.
fn signed_token(provider: &Provider, file: &str) -> String {
    let mut header: Header =
        serde_json::from_value(read_json(provider, "access-token-header.json")).unwrap_or_else(
            |error| panic!("{} header is not a JOSE header: {error}", provider.name),
        );
    header.kid = Some(TEST_KID.to_owned());

    let mut claims = read_json(provider, file);
    let issued_at = claims["iat"].as_i64().expect("recorded claims have iat");
    let offset = now() - issued_at;
    let auth_time = format!("{}auth_time", provider.claim_prefix);
    for name in ["iat", "exp", "nbf", auth_time.as_str()] {
        if let Some(time) = claims[name].as_i64() {
            claims[name] = Value::from(time + offset);
        }
    }

    let key = EncodingKey::from_rsa_pem(TEST_SIGNING_KEY).expect("fixture RSA key parses");
    jsonwebtoken::encode(&header, &claims, &key).expect("the recorded claims sign")
}

fn verifier(provider: &Provider, require_typed: bool) -> AccessTokenVerifier {
    let set: JwkSet = serde_json::from_str(TEST_JWKS).expect("fixture JWKS parses");
    let keys = JwksCache::fixed(&set).expect("fixture JWKS has a key");
    let verifier = AccessTokenVerifier::new(
        provider.issuer.to_owned(),
        provider.audience.to_owned(),
        keys,
    );
    if require_typed {
        verifier
    } else {
        verifier.accept_untyped_tokens()
    }
}

/// Verifies a re-signed recorded token as the server is configured for the provider.
async fn verify_as_configured(provider: &Provider, file: &str) -> AccessClaims {
    let token = signed_token(provider, file);
    verifier(provider, provider.typed_access_tokens)
        .verify(&token)
        .await
        .unwrap_or_else(|error| panic!("{} {file} rejected: {error}", provider.name))
}

// Shared checks, one per behaviour.

fn check_discovery(provider: &Provider) {
    let metadata = discovery(provider);
    assert_eq!(
        metadata.issuer().as_str(),
        provider.issuer,
        "{} issuer",
        provider.name
    );
    assert_eq!(
        metadata.jwks_uri().url().as_str(),
        provider.jwks_uri,
        "{} jwks_uri",
        provider.name
    );
    assert!(
        metadata.token_endpoint().is_some(),
        "{} has no token endpoint",
        provider.name
    );
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .as_ref()
        .map(|url| url.url().as_str());
    assert_eq!(
        end_session,
        Some(provider.end_session_endpoint),
        "{} end_session_endpoint",
        provider.name
    );
    let advertised: Option<Vec<String>> = metadata
        .acr_values_supported()
        .map(|values| values.iter().map(|value| value.to_string()).collect());
    let expected = provider
        .acr_values_supported
        .map(|values| values.iter().map(|value| (*value).to_owned()).collect());
    assert_eq!(
        advertised, expected,
        "{} acr_values_supported",
        provider.name
    );
}

fn check_preset(provider: &Provider, scheme_is: fn(&AcrScheme) -> bool) {
    let policy = preset(provider);
    assert!(
        scheme_is(&policy.scheme),
        "{} preset has scheme {:?}",
        provider.name,
        policy.scheme
    );
    for value in named_acr_values(&policy) {
        assert!(
            policy.scheme.knows(&value),
            "{} preset names {value:?}, which its scheme cannot rank",
            provider.name
        );
    }
}

fn check_one_factor_challenged(provider: &Provider) {
    let one_factor = recorded_authentication(provider, "access-token-one-factor.json");
    let decision = messages_decision(provider, &one_factor, NOW);
    let Decision::StepUp(shortfall) = decision else {
        panic!("{} one-factor claims were allowed", provider.name);
    };
    assert!(
        shortfall.acr_too_weak,
        "{} shortfall {shortfall:?}",
        provider.name
    );
}

fn check_step_up_allowed(provider: &Provider) {
    let stepped_up = recorded_authentication(provider, "access-token-stepped-up.json");
    assert_eq!(
        messages_decision(provider, &stepped_up, NOW),
        Decision::Allow,
        "{} stepped-up claims {stepped_up:?}",
        provider.name
    );
}

fn check_preset_values_advertised(provider: &Provider) {
    let advertised = provider
        .acr_values_supported
        .expect("the provider advertises acr_values_supported");
    for value in named_acr_values(&preset(provider)) {
        assert!(
            advertised.contains(&value.as_str()),
            "{} preset needs {value:?}, which discovery does not list",
            provider.name
        );
    }
}

async fn check_verifier_accepts_recorded_tokens(provider: &Provider) {
    let now = now();
    let one_factor = verify_as_configured(provider, "access-token-one-factor.json").await;
    let stepped_up = verify_as_configured(provider, "access-token-stepped-up.json").await;

    assert!(
        !messages_decision(provider, &one_factor.authentication(), now).is_allowed(),
        "{} one-factor token was allowed",
        provider.name
    );
    assert_eq!(
        messages_decision(provider, &stepped_up.authentication(), now),
        Decision::Allow,
        "{} stepped-up token",
        provider.name
    );
}

// Okta: custom authorization server `default`.

#[test]
fn okta_discovery_parses() {
    check_discovery(&OKTA);
}

#[test]
fn okta_preset_parses() {
    check_preset(&OKTA, |scheme| *scheme == AcrScheme::okta());
}

#[test]
fn okta_one_factor_is_challenged() {
    check_one_factor_challenged(&OKTA);
}

#[test]
fn okta_step_up_is_allowed() {
    check_step_up_allowed(&OKTA);
}

/// Okta leaves `acr_values_supported` out of discovery, so `/auth/login`, which requests only
/// advertised values, cannot request any value of the Okta preset.
#[test]
fn okta_discovery_lists_no_acr_values() {
    assert!(discovery(&OKTA).acr_values_supported().is_none());
    assert!(!named_acr_values(&preset(&OKTA)).is_empty());
}

/// Okta access tokens carry no `typ`, so they pass only with `STEPUP_ACCESS_TOKEN_TYPE=any`.
#[tokio::test]
async fn okta_token_needs_untyped_setting() {
    let token = signed_token(&OKTA, "access-token-stepped-up.json");
    assert_eq!(
        verifier(&OKTA, true).verify(&token).await,
        Err(TokenError::NotAnAccessToken)
    );
    check_verifier_accepts_recorded_tokens(&OKTA).await;
}

/// Okta's access tokens name the user by login in `sub` and by id in `uid`, while the ID
/// token's `sub` is the id. A transfer kept for a step-up records the access token's `sub`
/// and the callback compares it with the ID token's, so with Okta it never matches.
// NOTE: with Okta, every transfer kept for a step-up is dropped as "started by another
// account" until the server records the session's subject instead.
#[test]
fn okta_access_token_sub_is_not_user_id() {
    let access = read_json(&OKTA, "access-token-stepped-up.json");
    let id_token = read_json(&OKTA, "id-token-stepped-up.json");
    assert_ne!(access["sub"], id_token["sub"]);
    assert_eq!(access["uid"], id_token["sub"]);
}

// Auth0.

#[test]
fn auth0_discovery_parses() {
    check_discovery(&AUTH0);
}

#[test]
fn auth0_preset_parses() {
    check_preset(&AUTH0, |scheme| *scheme == AcrScheme::Auth0);
}

#[test]
fn auth0_one_factor_is_challenged() {
    check_one_factor_challenged(&AUTH0);
}

/// Judged on the namespaced claims the Action in `docs/providers.md` adds.
#[test]
fn auth0_step_up_is_allowed() {
    check_step_up_allowed(&AUTH0);
}

/// Auth0 leaves `acr_values_supported` out of discovery, like Okta.
#[test]
fn auth0_discovery_lists_no_acr_values() {
    assert!(discovery(&AUTH0).acr_values_supported().is_none());
    assert!(!named_acr_values(&preset(&AUTH0)).is_empty());
}

/// The ID token of the step-up reports multi-factor sign-in in the standard claims, so the
/// page guards, which read the session's ID token, accept it.
#[test]
fn auth0_id_token_meets_page_rule() {
    let policy = preset(&AUTH0);
    let claims = read_json(&AUTH0, "id-token-stepped-up.json");
    let required = requirement(&policy, "/profile", "GET", None);
    assert_eq!(
        policy.evaluate(&required, &authentication(&claims, ""), NOW),
        Decision::Allow
    );
}

/// The server reads `acr`, `amr` and `auth_time` only under their standard names, which Auth0
/// does not let an Action set in an access token. So the API challenges the stepped-up token
/// too.
// NOTE: Auth0 step-up on `/api/*` stays impossible until the server reads the namespaced
// claims. Then this test should assert `Decision::Allow` instead.
#[tokio::test]
async fn auth0_verified_token_lacks_step_up_claims() {
    let stepped_up = verify_as_configured(&AUTH0, "access-token-stepped-up.json").await;
    assert_eq!(stepped_up.acr, None);
    assert!(stepped_up.amr.is_empty());
    assert_eq!(stepped_up.auth_time, None);
    assert!(!messages_decision(&AUTH0, &stepped_up.authentication(), now()).is_allowed());
}

// Keycloak: realm `demo` with a step-up browser flow.

#[test]
fn keycloak_discovery_parses() {
    check_discovery(&KEYCLOAK);
}

#[test]
fn keycloak_preset_parses() {
    check_preset(&KEYCLOAK, |scheme| matches!(scheme, AcrScheme::Keycloak(_)));
}

#[test]
fn keycloak_one_factor_is_challenged() {
    check_one_factor_challenged(&KEYCLOAK);
}

#[test]
fn keycloak_step_up_is_allowed() {
    check_step_up_allowed(&KEYCLOAK);
}

#[test]
fn keycloak_preset_values_are_advertised() {
    check_preset_values_advertised(&KEYCLOAK);
}

/// The fixture header has `typ: at+jwt`, which Keycloak 26.2 and later send when the client
/// option "Use at+jwt as access token header type" is on.
#[tokio::test]
async fn keycloak_token_passes_verifier() {
    check_verifier_accepts_recorded_tokens(&KEYCLOAK).await;
}

/// Keycloak sends a bare level when it cannot map the level to a name, such as `0` after the
/// single sign-on level expired. The preset ranks no bare level, so it challenges such a token.
#[test]
fn keycloak_bare_level_is_challenged() {
    let mut claims = read_json(&KEYCLOAK, "access-token-stepped-up.json");
    claims["acr"] = Value::from("0");
    assert!(!messages_decision(&KEYCLOAK, &authentication(&claims, ""), NOW).is_allowed());
}

// A generic provider that implements RFC 9470.

#[test]
fn generic_discovery_parses() {
    check_discovery(&GENERIC);
}

#[test]
fn generic_preset_parses() {
    check_preset(&GENERIC, |scheme| matches!(scheme, AcrScheme::Ordered(_)));
}

#[test]
fn generic_one_factor_is_challenged() {
    check_one_factor_challenged(&GENERIC);
}

#[test]
fn generic_step_up_is_allowed() {
    check_step_up_allowed(&GENERIC);
}

#[test]
fn generic_preset_values_are_advertised() {
    check_preset_values_advertised(&GENERIC);
}

#[tokio::test]
async fn generic_token_passes_verifier() {
    check_verifier_accepts_recorded_tokens(&GENERIC).await;
}

// All presets.

#[test]
fn presets_cover_demo_routes() {
    for provider in PROVIDERS {
        let policy = preset(provider);
        let name = provider.name;
        for (path, method) in [
            ("/profile", "GET"),
            ("/api/messages", "GET"),
            ("/api/transfers", "GET"),
        ] {
            let required = requirement(&policy, path, method, None);
            assert!(!required.acr_values.is_empty(), "{name} {method} {path}");
        }
        let security = requirement(&policy, "/security", "GET", None);
        assert_eq!(security.max_age, Some(0), "{name} /security");
        let small = requirement(&policy, "/api/transfers", "POST", Some(10.0));
        assert!(!small.acr_values.is_empty(), "{name} small transfer");
        assert_eq!(small.max_age, None, "{name} small transfer");
        let large = requirement(&policy, "/api/transfers", "POST", Some(LARGE_AMOUNT));
        assert!(!large.acr_values.is_empty(), "{name} large transfer");
        assert_eq!(large.max_age, Some(300), "{name} large transfer");
    }
}

/// Ten minutes after the step-up, a transfer above 1000 needs a new sign-in with every
/// preset: a stronger level, or for Auth0, which has none, a more recent one.
#[test]
fn large_transfer_needs_new_step_up() {
    for provider in PROVIDERS {
        let policy = preset(provider);
        let stepped_up = recorded_authentication(provider, "access-token-stepped-up.json");
        let small = requirement(&policy, "/api/transfers", "POST", Some(10.0));
        let large = requirement(&policy, "/api/transfers", "POST", Some(LARGE_AMOUNT));
        let later = NOW + 600;
        assert_eq!(
            policy.evaluate(&small, &stepped_up, later),
            Decision::Allow,
            "{} small transfer",
            provider.name
        );
        assert!(
            !policy.evaluate(&large, &stepped_up, later).is_allowed(),
            "{} large transfer",
            provider.name
        );
    }
}
