use super::guarded::Guarded;
#[cfg(feature = "hydrate")]
use crate::guard::start_redirect;
use crate::guard::GuardedRoute;
use crate::messages::{Message, MessagesFetch};
use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use leptos_router::hooks::use_location;

/// The messages page. Any signed-in user may open it, but the API behind it requires 2FA.
#[component]
pub fn MessagesPage() -> impl IntoView {
    view! {
        <h1>"Messages"</h1>
        <Guarded route=GuardedRoute::Messages children=|_viewer| view! { <MessageList/> }/>
    }
}

/// Fetches `/api/messages` from the browser once the page is interactive.
///
/// The fetch runs in an effect, which only the browser runs; the server renders the
/// loading state, so hydration always finds the same markup.
#[component]
fn MessageList() -> impl IntoView {
    let outcome = RwSignal::new(None::<MessagesFetch>);

    #[cfg(feature = "hydrate")]
    {
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
        Effect::new(move |_| {
            let return_to = return_to.clone();
            leptos::task::spawn_local(async move {
                let fetched = crate::messages::fetch_messages(return_to).await;
                if let MessagesFetch::SteppingUp { login_url } = &fetched {
                    start_redirect(login_url);
                }
                outcome.set(Some(fetched));
            });
        });
    }

    move || match outcome.get() {
        None => view! { <p class="status" data-testid="messages-loading">"Loading messages…"</p> }
            .into_any(),
        Some(MessagesFetch::Loaded(list)) => view! { <MessageItems list/> }.into_any(),
        Some(MessagesFetch::SteppingUp { login_url }) => view! {
            <p class="status" data-testid="messages-stepping-up">
                "The messages need a stronger sign-in. Taking you to the sign-in page… "
                <a href=login_url rel="external">"Continue"</a>
            </p>
        }
        .into_any(),
        Some(MessagesFetch::Failed(message)) => {
            view! { <p class="error" data-testid="messages-error">{message}</p> }.into_any()
        }
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
