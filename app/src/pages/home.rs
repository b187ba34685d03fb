use crate::guard::current_viewer;
use leptos::prelude::*;

/// Renders the home page: who is signed in, with sign-in and sign-out.
#[component]
pub fn HomePage() -> impl IntoView {
    let viewer = Resource::new(|| (), |()| current_viewer());

    view! {
        <h1>"Step-up authentication demo"</h1>
        <p>
            "The profile page needs a two-factor sign-in. The messages page needs any sign-in, "
            "and its API asks for a second factor itself (RFC 9470)."
        </p>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => {
                        view! {
                            <p>
                                "Signed in as "
                                <strong data-testid="user-name">{viewer.display_name()}</strong>
                            </p>
                            <form method="post" action="/auth/logout">
                                <button type="submit" data-testid="sign-out">"Sign out"</button>
                            </form>
                        }
                            .into_any()
                    }
                    Ok(None) => {
                        view! {
                            <p>"You are not signed in."</p>
                            <a class="button" href="/auth/login?return_to=%2F" rel="external" data-testid="sign-in">
                                "Sign in"
                            </a>
                        }
                            .into_any()
                    }
                    Err(_) => {
                        view! {
                            <p class="error">"Your sign-in state could not be loaded. Reload the page to try again."</p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
