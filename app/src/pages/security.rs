use super::guarded::Guarded;
use crate::guard::{GuardedRoute, Viewer};
use leptos::prelude::*;

/// The security page. The policy gives it `max_age=0`, so every visit requires the user
/// to sign in again first, as a settings page that changes credentials would.
#[component]
pub fn SecurityPage() -> impl IntoView {
    view! {
        <h1>"Security"</h1>
        <Guarded route=GuardedRoute::Security children=|viewer| view! { <SecurityDetails viewer/> }/>
    }
}

#[component]
fn SecurityDetails(viewer: Viewer) -> impl IntoView {
    let signed_in_at = viewer
        .auth_time_utc
        .unwrap_or_else(|| "an unknown time".to_owned());
    view! {
        <p data-testid="security-confirmed">
            "You confirmed your sign-in at " {signed_in_at} ". This page asks again on every visit."
        </p>
    }
}
