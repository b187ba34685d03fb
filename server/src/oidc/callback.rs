//! `GET /auth/callback`: finishes the authorization code flow.

use super::pending::{self, PendingLogin};
use super::OidcState;
use crate::pages::message_page;
use app::audit::{self, Outcome};
use app::session::{
    AuthState, SecretString, TokenSet, AUTH_STATE_KEY, AUTH_STATE_VERSION, PENDING_ACTION_KEY,
};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::CoreIdTokenClaims;
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClaimsVerificationError, Nonce,
    OAuth2TokenResponse, PkceCodeVerifier, SignatureVerificationError, TokenResponse,
};
use serde::Deserialize;
use stepup::{AcrScheme, Authentication, Decision, Requirement};
use tower_sessions::Session;

/// Maximum length of a provider `error_description` shown to the user, in characters.
const MAX_DESCRIPTION_CHARS: usize = 300;

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// Reason a callback was rejected. Nothing is stored in the session for any of them.
#[derive(Debug)]
enum CallbackError {
    /// No `state`, or one this session did not issue (RFC 6749 §10.12).
    UnknownState,
    /// The provider returned an error (OpenID Connect Core 1.0 §3.1.2.6).
    Provider {
        error: String,
        description: Option<String>,
    },
    /// The authentication did not reach what the request asked for (RFC 9470 §4).
    Unmet {
        required: Vec<String>,
        description: Option<String>,
    },
    MissingCode,
    TokenExchange(String),
    /// The provider refused the code (`invalid_grant` and the like): a forged, replayed or
    /// expired code, a client mistake rather than a provider fault.
    CodeRejected(String),
    /// The response names another issuer in `iss` (RFC 9207 §2.4).
    WrongIssuer,
    MissingIdToken,
    InvalidIdToken(String),
    /// The ID token names a `kid` the provider's keys do not have.
    UnknownSigningKey,
    Session(tower_sessions::session::Error),
}

/// Checks the provider's response and signs the user in.
///
/// Steps (OpenID Connect Core 1.0 §3.1.2.5 to §3.1.3.7, RFC 7636 §4.5):
/// 1. Match `state` with a pending request of this session and consume it.
/// 2. Turn a provider error into a page; `unmet_authentication_requirements` gets the
///    step-up page, with no new redirect.
/// 3. Exchange the code, sending the PKCE verifier.
/// 4. Verify the ID token: signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, and the
///    `acr` and `auth_time` the request asked for.
/// 5. Cycle the session id, store the user and tokens, and go back to `return_to`.
pub async fn callback(
    State(oidc): State<OidcState>,
    session: Session,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        tracing::info!("sign-in callback with invalid or repeated parameters");
        return message_page(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "The sign-in response has invalid or repeated parameters. Start again from the home page.",
            "auth-error",
        );
    };
    match complete_sign_in(&oidc, &session, query).await {
        Ok(return_to) => Redirect::to(&return_to).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn complete_sign_in(
    oidc: &OidcState,
    session: &Session,
    query: CallbackQuery,
) -> Result<String, CallbackError> {
    let now = crate::unix_now();

    // 1. `state` binds the response to this browser's request; each one works once.
    let state = query.state.ok_or(CallbackError::UnknownState)?;
    let pending = pending::take(session, &state, now)
        .await
        .map_err(CallbackError::Session)?;
    // Save the spent `state` now: the session layer saves nothing when the response is a
    // 5xx, and a provider failure below must not leave the `state` usable again.
    session.save().await.map_err(CallbackError::Session)?;
    let pending = pending.ok_or(CallbackError::UnknownState)?;

    // 2. Error responses.
    if let Some(error) = query.error {
        let description = query
            .error_description
            .map(|text| text.chars().take(MAX_DESCRIPTION_CHARS).collect());
        if error == "unmet_authentication_requirements" {
            let requirement = Requirement {
                acr_values: pending.acr_values.clone(),
                max_age: pending.max_age,
            };
            audit::record(Outcome::Unmet, None, &pending.return_to, &requirement);
            return Err(CallbackError::Unmet {
                required: pending.acr_values,
                description,
            });
        }
        return Err(CallbackError::Provider { error, description });
    }
    // RFC 9207 §2.4: when the provider names itself in `iss`, it must be the one this
    // request went to, which defeats mix-up attacks.
    if query
        .iss
        .as_deref()
        .is_some_and(|iss| iss != oidc.provider.issuer)
    {
        return Err(CallbackError::WrongIssuer);
    }
    let code = query.code.ok_or(CallbackError::MissingCode)?;

    // 3. Code exchange with the PKCE verifier.
    let token_response = oidc
        .provider
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|error| CallbackError::TokenExchange(error.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(
            pending.pkce_verifier.expose_secret().to_owned(),
        ))
        .request_async(&oidc.provider.http)
        .await
        .map_err(|error| match &error {
            openidconnect::RequestTokenError::ServerResponse(response) => {
                CallbackError::CodeRejected(response.error().to_string())
            }
            _ => CallbackError::TokenExchange(super::provider::error_chain(&error)),
        })?;

    // 4. ID token validation.
    let id_token = token_response
        .id_token()
        .ok_or(CallbackError::MissingIdToken)?;
    let claims = match verify_id_token(oidc, id_token, &pending, now) {
        Err(CallbackError::UnknownSigningKey) if oidc.provider.refetch_id_token_keys().await => {
            verify_id_token(oidc, id_token, &pending, now)?
        }
        result => result?,
    };

    // 5. Sign the user in.
    let auth_state = AuthState {
        version: AUTH_STATE_VERSION,
        subject: claims.subject().to_string(),
        name: claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.to_string()),
        email: claims.email().map(|email| email.to_string()),
        acr: claims.auth_context_ref().map(|acr| acr.to_string()),
        amr: claims
            .auth_method_refs()
            .map(|methods| methods.iter().map(|method| method.to_string()).collect())
            .unwrap_or_default(),
        auth_time: claims.auth_time().map(|time| time.timestamp()),
        reauthenticated_at: (pending.max_age == Some(0)).then_some(now),
        tokens: TokenSet {
            id_token: SecretString::new(id_token.to_string()),
            access_token: SecretString::new(token_response.access_token().secret().clone()),
            access_token_expires_at: token_response
                .expires_in()
                .and_then(|lifetime| i64::try_from(lifetime.as_secs()).ok())
                .map(|lifetime| now.saturating_add(lifetime)),
            refresh_token: token_response
                .refresh_token()
                .map(|token| SecretString::new(token.secret().clone())),
        },
    };
    // The session id changes at every sign-in and step-up, so an id planted before it
    // is worthless afterwards (session fixation).
    session.cycle_id().await.map_err(CallbackError::Session)?;
    session
        .insert(AUTH_STATE_KEY, &auth_state)
        .await
        .map_err(CallbackError::Session)?;
    tracing::info!(
        user.sub = %auth_state.subject,
        auth.acr = auth_state.acr.as_deref().unwrap_or("-"),
        stepup.required = %pending.acr_values.join(" "),
        "signed in"
    );
    let requirement = Requirement {
        acr_values: pending.acr_values.clone(),
        max_age: pending.max_age,
    };
    audit::record(
        Outcome::Satisfied,
        Some(&auth_state.subject),
        &pending.return_to,
        &requirement,
    );

    // The API call that asked for this step-up waits for the user's confirmation; only the
    // user who made it may confirm it.
    if let Some(mut action) = pending.action {
        if action.subject == auth_state.subject {
            action.ready = true;
            session
                .insert(PENDING_ACTION_KEY, &action)
                .await
                .map_err(CallbackError::Session)?;
        } else {
            tracing::warn!("dropping a pending action made by another user");
        }
    }
    Ok(pending.return_to)
}

/// Verifies the ID token with the crate's checks plus the `acr` and `auth_time` hooks,
/// which accept anything unless set.
fn verify_id_token<'a>(
    oidc: &'a OidcState,
    id_token: &'a openidconnect::core::CoreIdToken,
    pending: &PendingLogin,
    now: i64,
) -> Result<&'a CoreIdTokenClaims, CallbackError> {
    let policy = &oidc.policy;
    let required_acr = pending.acr_values.clone();
    let recency = Requirement {
        acr_values: Vec::new(),
        max_age: pending.max_age,
    };
    let unmet = || {
        let requirement = Requirement {
            acr_values: pending.acr_values.clone(),
            max_age: pending.max_age,
        };
        audit::record(Outcome::LoopStopped, None, &pending.return_to, &requirement);
        CallbackError::Unmet {
            required: pending.acr_values.clone(),
            description: None,
        }
    };
    // Auth0 reports multi-factor sign-in in `amr`, which the acr hook cannot see; for that
    // scheme the full check runs at the end of this function, after the claims verify.
    let acr_decided_by_hook = !matches!(policy.scheme, AcrScheme::Auth0);

    let verifier = oidc
        .provider
        .id_token_verifier(now, policy.clock_skew_secs)
        // RFC 9470 §4 and OpenID Connect Core 1.0 §3.1.3.7 step 12: the acr must meet what
        // was requested, judged by the policy's scheme (a stronger level also passes).
        .set_auth_context_verifier_fn(move |acr: Option<&AuthenticationContextClass>| {
            let acr = acr.map(|acr| acr.as_str());
            if !acr_decided_by_hook || policy.scheme.satisfies(acr, &[], &required_acr) {
                Ok(())
            } else {
                Err(format!("acr {acr:?} does not meet {required_acr:?}"))
            }
        })
        // Step 13: with max_age, auth_time must be present and recent enough. It may never
        // lie in the future beyond the clock skew.
        .set_auth_time_verifier_fn(move |auth_time| {
            let auth_time = auth_time.map(|time| time.timestamp());
            let latest = now.saturating_add_unsigned(policy.clock_skew_secs);
            if auth_time.is_some_and(|time| time > latest) {
                return Err("auth_time is in the future".to_owned());
            }
            let authentication = Authentication {
                acr: None,
                amr: Vec::new(),
                auth_time,
            };
            match policy.evaluate(&recency, &authentication, now) {
                Decision::Allow => Ok(()),
                Decision::StepUp(_) => Err(format!(
                    "auth_time {auth_time:?} does not meet max_age {:?}",
                    recency.max_age
                )),
            }
        });
    let nonce = Nonce::new(pending.nonce.expose_secret().to_owned());
    let claims = id_token
        .claims(&verifier, &nonce)
        .map_err(|error| match error {
            ClaimsVerificationError::InvalidAuthContext(reason)
            | ClaimsVerificationError::InvalidAuthTime(reason) => {
                tracing::info!(reason, "authentication did not meet the requested level");
                unmet()
            }
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => CallbackError::UnknownSigningKey,
            other => CallbackError::InvalidIdToken(super::provider::error_chain(&other)),
        })?;

    // Step 5: an `azp` must name this client (the crate leaves it unchecked).
    if let Some(party) = claims.authorized_party() {
        if party != oidc.provider.client_id() {
            return Err(CallbackError::InvalidIdToken(format!(
                "azp {} is another client",
                party.as_str()
            )));
        }
    }

    if !acr_decided_by_hook {
        let acr = claims.auth_context_ref().map(|acr| acr.as_str());
        let amr: Vec<String> = claims
            .auth_method_refs()
            .map(|methods| methods.iter().map(|method| method.to_string()).collect())
            .unwrap_or_default();
        if !policy.scheme.satisfies(acr, &amr, &pending.acr_values) {
            tracing::info!(auth.acr = ?acr, auth.amr = ?amr, "authentication did not meet the requested level");
            return Err(unmet());
        }
    }
    Ok(claims)
}

impl IntoResponse for CallbackError {
    fn into_response(self) -> Response {
        match self {
            Self::UnknownState => {
                tracing::warn!("sign-in callback with a missing, used or unknown state; possibly suspicious");
                message_page(
                    StatusCode::BAD_REQUEST,
                    "Sign-in expired",
                    "This sign-in response does not belong to a sign-in started in this browser, or it was already used. Start again from the home page.",
                    "auth-error",
                )
            }
            Self::Provider { error, description } => {
                tracing::info!(oidc.error = %error, "the provider returned an error for the sign-in");
                let detail = description.unwrap_or_else(|| error.clone());
                let status = if error == "access_denied" { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
                message_page(status, "Sign-in did not complete", &format!("The provider ended the sign-in: {detail}"), "auth-error")
            }
            Self::Unmet { required, description } => {
                tracing::info!(
                    stepup.required = %required.join(" "),
                    oidc.error_description = description.as_deref().unwrap_or("-"),
                    "the requested authentication level could not be reached"
                );
                let required = if required.is_empty() { "a stronger sign-in".to_owned() } else { required.join(" or ") };
                let mut message = format!("This page needs the authentication level {required}, and the sign-in could not reach it.");
                if let Some(description) = description {
                    message.push_str(&format!(" The provider said: {description}."));
                }
                message.push_str(" Sign in with an account that has a second factor enrolled, or ask an administrator to enrol one.");
                message_page(StatusCode::FORBIDDEN, "Stronger sign-in not possible", &message, "stepup-unmet")
            }
            Self::MissingCode => message_page(
                StatusCode::BAD_REQUEST,
                "Sign-in failed",
                "The provider's response had no authorization code. Start again from the home page.",
                "auth-error",
            ),
            Self::TokenExchange(reason) => {
                tracing::error!(reason, "the token request to the provider failed");
                message_page(
                    StatusCode::BAD_GATEWAY,
                    "Identity provider unavailable",
                    "The identity provider did not respond, so the sign-in could not finish. Try again in a moment.",
                    "auth-error",
                )
            }
            Self::CodeRejected(error) => {
                tracing::warn!(oidc.error = %error, "the provider rejected the authorization code");
                message_page(
                    StatusCode::BAD_REQUEST,
                    "Sign-in expired",
                    "This sign-in could not be completed. Start again from the home page.",
                    "auth-error",
                )
            }
            Self::WrongIssuer => {
                tracing::warn!("sign-in callback names another issuer; possibly suspicious");
                message_page(
                    StatusCode::BAD_REQUEST,
                    "Sign-in failed",
                    "This sign-in response came from an unexpected identity provider. Start again from the home page.",
                    "auth-error",
                )
            }
            Self::MissingIdToken => {
                tracing::warn!("the token response had no ID token");
                provider_failure()
            }
            Self::UnknownSigningKey => {
                tracing::warn!("the ID token names a signing key the provider does not publish; possibly suspicious");
                provider_failure()
            }
            Self::InvalidIdToken(reason) => {
                tracing::warn!(reason, "the ID token failed verification; possibly suspicious");
                provider_failure()
            }
            Self::Session(error) => {
                tracing::error!(%error, "the session store failed during sign-in");
                message_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sign-in failed",
                    "Your sign-in could not be saved. Try again in a moment.",
                    "auth-error",
                )
            }
        }
    }
}

fn provider_failure() -> Response {
    message_page(
        StatusCode::BAD_GATEWAY,
        "Sign-in failed",
        "The identity provider's response could not be verified. Try again; if it keeps failing, contact support.",
        "auth-error",
    )
}
