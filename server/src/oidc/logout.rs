//! `POST /auth/logout`: ends the app session and the provider session.

use super::OidcState;
use app::session::load_auth_state;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Deletes the session on the server, then sends the browser to the provider's
/// `end_session_endpoint` (OpenID Connect RP-Initiated Logout 1.0 §2) with
/// `id_token_hint` and `post_logout_redirect_uri`.
///
/// It takes `POST` only, so a link on another site cannot sign the user out.
pub async fn logout(State(oidc): State<OidcState>, session: Session) -> Response {
    let id_token = load_auth_state(&session)
        .await
        .map(|state| state.tokens.id_token);
    if let Err(error) = session.flush().await {
        tracing::error!(%error, "could not delete the session at sign-out");
    }

    let Some(endpoint) = &oidc.provider.end_session_endpoint else {
        return Redirect::to("/").into_response();
    };
    let mut url = endpoint.url().clone();
    {
        let mut query = url.query_pairs_mut();
        if let Some(id_token) = &id_token {
            query.append_pair("id_token_hint", id_token.expose_secret());
        }
        query.append_pair("client_id", &oidc.config.client_id);
        query.append_pair(
            "post_logout_redirect_uri",
            &oidc.config.post_logout_redirect_url(),
        );
    }
    tracing::info!("signed out");
    Redirect::to(url.as_str()).into_response()
}
