use crate::guard::{check_route_access, GuardedRoute, Redirect, RouteAccess, Viewer};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use std::sync::Arc;

/// Renders `children` once the server's route guard grants `route`, and otherwise sends
/// the browser to sign in or step up, coming back to the current path and query.
///
/// The guard is read through a blocking resource, and a refusal sets the `302` inside the
/// resource's future, before the response's headers are read (see [`Redirect`]). Pages are
/// not islands and links are plain page loads, so the check runs on the server for every
/// page view.
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
        let redirect = Redirect::capture();
        async move {
            let access = check_route_access(route, return_to).await;
            if let Ok(
                RouteAccess::SignInRequired { login_url }
                | RouteAccess::StepUpRequired { login_url, .. },
            ) = &access
            {
                redirect.to(login_url);
            }
            access
        }
    });

    view! {
        <Suspense fallback=|| view! { <p class="status">"Checking your sign-in…"</p> }>
            {move || {
                let children = Arc::clone(&children);
                Suspend::new(async move {
                    match access.await {
                        Ok(RouteAccess::Granted(viewer)) => children(viewer).into_any(),
                        Ok(RouteAccess::SignInRequired { login_url }) => {
                            view! { <Redirecting url=login_url reason="Please sign in to see this page.".to_owned()/> }
                                .into_any()
                        }
                        Ok(RouteAccess::StepUpRequired { login_url, reason }) => {
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
/// The guard turns the response into a `302` and this view becomes its body. If a
/// response ever keeps its `200` (say a proxy rewrites redirects), the `refresh` sends the
/// browser on without JavaScript. Browsers honour it in the body too. The guard does not
/// run in the browser: pages are not islands.
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
