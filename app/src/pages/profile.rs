use super::guarded::Guarded;
use crate::guard::{GuardedRoute, Viewer};
use leptos::prelude::*;

/// Renders the profile page, which requires a two-factor authentication.
#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <h1>"Profile"</h1>
        <Guarded route=GuardedRoute::Profile children=|viewer| view! { <ProfileDetails viewer/> }/>
    }
}

#[component]
fn ProfileDetails(viewer: Viewer) -> impl IntoView {
    let greeting = format!("Hello, {}", viewer.display_name());
    let auth_time = match (viewer.auth_time_utc, viewer.auth_time) {
        (Some(utc), Some(epoch)) => format!("{utc} ({epoch})"),
        _ => "not stated".to_owned(),
    };

    view! {
        <p class="greeting" data-testid="profile-greeting">{greeting}</p>
        <dl class="claims">
            <dt>"Name"</dt>
            <dd data-testid="claim-name">{viewer.name.unwrap_or_default()}</dd>
            <dt>"Email"</dt>
            <dd data-testid="claim-email">{viewer.email.unwrap_or_default()}</dd>
            <dt>"Authentication level (acr)"</dt>
            <dd data-testid="claim-acr">{viewer.acr.unwrap_or_else(|| "not stated".to_owned())}</dd>
            <dt>"Methods (amr)"</dt>
            <dd data-testid="claim-amr">{viewer.amr.join(", ")}</dd>
            <dt>"Authenticated at (auth_time)"</dt>
            <dd data-testid="claim-auth-time">{auth_time}</dd>
        </dl>
    }
}
