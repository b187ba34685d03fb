use super::guarded::Guarded;
use crate::api_client::ApiResult;
use crate::guard::GuardedRoute;
use crate::messages::{Message, MessageList};
use leptos::prelude::*;

/// Renders the messages page. Any signed-in user may open it, but the API behind it requires 2FA.
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
    let outcome = RwSignal::new(None::<ApiResult<MessageList>>);

    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        let return_to = super::path_and_query(
            location.pathname.get_untracked(),
            &location.search.get_untracked(),
        );
        Effect::new(move |_| {
            let return_to = return_to.clone();
            leptos::task::spawn_local(async move {
                let fetched = crate::messages::fetch_messages(&return_to).await;
                if let ApiResult::SteppingUp { login_url } = &fetched {
                    crate::guard::start_redirect(login_url);
                }
                outcome.set(Some(fetched));
            });
        });
    }

    move || match outcome.get() {
        None => view! { <p class="status" data-testid="messages-loading">"Loading messages…"</p> }
            .into_any(),
        Some(ApiResult::Ok(list)) => view! { <MessageItems list=list.messages/> }.into_any(),
        Some(ApiResult::SteppingUp { login_url }) => view! {
            <p class="status" data-testid="messages-stepping-up">
                "The messages need a stronger sign-in. Taking you to the sign-in page… "
                <a href=login_url rel="external">"Continue"</a>
            </p>
        }
        .into_any(),
        Some(ApiResult::Failed(message)) => {
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
