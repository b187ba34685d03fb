use super::guarded::Guarded;
use crate::guard::{start_redirect, GuardedRoute};
use crate::messages::{Message, MessagesFetch};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The messages page: any signed-in user may open it; the API behind it asks for more.
#[component]
pub fn MessagesPage() -> impl IntoView {
    view! {
        <h1>"Messages"</h1>
        <Guarded route=GuardedRoute::Messages children=|_viewer| view! { <MessageList/> }/>
    }
}

#[component]
fn MessageList() -> impl IntoView {
    let location = use_location();
    let return_to = {
        let path = location.pathname.get_untracked();
        let search = location.search.get_untracked();
        match search.as_str() {
            "" => path,
            query if query.starts_with('?') => format!("{path}{query}"),
            query => format!("{path}?{query}"),
        }
    };
    let messages = LocalResource::new(move || load(return_to.clone()));

    view! {
        <Suspense fallback=|| view! { <p class="status" data-testid="messages-loading">"Loading messages…"</p> }>
            {move || Suspend::new(async move {
                match messages.await {
                    MessagesFetch::Loaded(list) => view! { <MessageItems list/> }.into_any(),
                    MessagesFetch::SteppingUp { login_url } => {
                        start_redirect(&login_url);
                        view! {
                            <p class="status" data-testid="messages-stepping-up">
                                "The messages need a stronger sign-in. Taking you to the sign-in page… "
                                <a href=login_url rel="external">"Continue"</a>
                            </p>
                        }
                            .into_any()
                    }
                    MessagesFetch::Failed(message) => {
                        view! { <p class="error" data-testid="messages-error">{message}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn MessageItems(list: Vec<Message>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p data-testid="messages-empty">"No messages."</p> }.into_any();
    }
    view! {
        <ul class="messages" data-testid="messages-list">
            {list
                .into_iter()
                .map(|message| {
                    view! {
                        <li data-testid="message">
                            <p class="message-subject">{message.subject}</p>
                            <p class="message-from">"From " {message.from}</p>
                            <p>{message.body}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
async fn load(return_to: String) -> MessagesFetch {
    crate::messages::fetch_messages(return_to).await
}

/// The server never runs a `LocalResource`, so this future is never polled there; it exists
/// so that the `ssr` build type-checks.
#[cfg(not(feature = "hydrate"))]
async fn load(_return_to: String) -> MessagesFetch {
    std::future::pending().await
}
