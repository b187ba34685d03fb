use super::guarded::Guarded;
use crate::api_client::ApiResult;
use crate::guard::GuardedRoute;
use crate::messages::{Message, MessageList};
use crate::IslandScripts;
use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;

/// Renders the messages page. Any signed-in user may open it, but the API behind it requires 2FA.
#[component]
pub fn MessagesPage() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let return_to = super::path_and_query(
        location.pathname.get_untracked(),
        &location.search.get_untracked(),
    );
    view! {
        <h1>"Messages"</h1>
        <Guarded route=GuardedRoute::Messages children=move |_viewer| {
            view! {
                <MessageList return_to=return_to.clone()/>
                <IslandScripts/>
            }
        }/>
    }
}

/// Fetches `/api/messages` from the browser once the page is interactive. An island:
/// the server renders the loading state, and the browser hydrates it and fetches.
///
/// `return_to` is the page's path and query, where a step-up brings the user back.
#[island]
fn MessageList(return_to: String) -> impl IntoView {
    let outcome = RwSignal::new(None::<ApiResult<MessageList>>);

    #[cfg(not(feature = "hydrate"))]
    let _ = &return_to;
    #[cfg(feature = "hydrate")]
    {
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

    // `EitherOf4` rather than `into_any()`: in an island, each erased view type adds its own
    // code to the wasm.
    move || match outcome.get() {
        None => EitherOf4::A(
            view! { <p class="status" data-testid="messages-loading">"Loading messages…"</p> },
        ),
        Some(ApiResult::Ok(list)) => EitherOf4::B(view! { <MessageItems list=list.messages/> }),
        Some(ApiResult::SteppingUp { login_url }) => EitherOf4::C(view! {
            <p class="status" data-testid="messages-stepping-up">
                "The messages need a stronger sign-in. Taking you to the sign-in page… "
                <a href=login_url rel="external">"Continue"</a>
            </p>
        }),
        Some(ApiResult::Failed(message)) => {
            EitherOf4::D(view! { <p class="error" data-testid="messages-error">{message}</p> })
        }
    }
}

#[component]
fn MessageItems(list: Vec<Message>) -> impl IntoView {
    if list.is_empty() {
        return Either::Left(view! { <p data-testid="messages-empty">"No messages."</p> });
    }
    Either::Right(view! {
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
    })
}
