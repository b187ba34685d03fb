use crate::guard::{check_route_access, start_redirect, GuardedRoute, RouteAccess, Viewer};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use std::sync::Arc;

/// Renders `children` once the server's route guard grants `route`, and otherwise sends
/// the browser to sign in or step up, coming back to the current path and query.
///
/// The guard is read through a blocking resource, so the server can still respond with a
/// `302`. Pages are not islands and links are plain page loads, so the check runs on the
/// server for every page view.
#[component]
pub fn Guarded<F, V>(route: GuardedRoute, children: F) -> impl IntoView
where
    F: Fn(Viewer) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = Arc::new(children);
    let location = use_location();
    let return_to = move || super::path_and_query(location.pathname.get(), &location.search.get());
    let access = Resource::new_blocking(return_to, move |return_to| {
        check_route_access(route, return_to)
    });

    view! {
        <Suspense fallback=|| view! { <p class="status">"Checking your sign-in…"</p> }>
            {move || {
                let children = Arc::clone(&children);
                Suspend::new(async move {
                    match access.await {
                        Ok(RouteAccess::Granted(viewer)) => children(viewer).into_any(),
                        Ok(RouteAccess::SignInRequired { login_url }) => {
                            start_redirect(&login_url);
                            view! { <Redirecting url=login_url reason="Please sign in to see this page.".to_owned()/> }
                                .into_any()
                        }
                        Ok(RouteAccess::StepUpRequired { login_url, reason }) => {
                            start_redirect(&login_url);
                            view! { <Redirecting url=login_url reason/> }.into_any()
                        }
                        Err(_) => {
                            view! {
                                <p class="error" data-testid="guard-error">
                                    "Your sign-in could not be checked. Reload the page to try again."
                                </p>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// Shown while the browser leaves for sign-in, with a link in case it does not.
///
/// The guard normally turns the response into a `302`, but a response whose headers are
/// already on their way keeps its `200`, and the guard does not run in the browser (pages
/// are not islands). The `refresh` then sends the browser on without JavaScript; browsers
/// honour it in the body too.
#[component]
fn Redirecting(url: String, reason: String) -> impl IntoView {
    let refresh = format!("0;url={url}");
    view! {
        <meta http-equiv="refresh" content=refresh/>
        <div class="status" data-testid="redirecting">
            <p>{reason}</p>
            <p>
                <a href=url rel="external">"Continue to sign-in"</a>
            </p>
        </div>
    }
}
