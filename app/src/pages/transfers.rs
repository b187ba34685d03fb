use super::guarded::Guarded;
use crate::api_client::ApiResult;
use crate::guard::GuardedRoute;
use crate::transfers::{
    format_amount, parse_amount, PendingTransfer, Transfer, TransferList, TransferRequest,
};
use crate::IslandScripts;
use leptos::either::{Either, EitherOf3, EitherOf4};
use leptos::prelude::*;

/// Renders the transfers page: a form, the list, and a transfer waiting for confirmation after a
/// step-up. Small transfers need 2FA, and the policy requires more for large ones.
#[component]
pub fn TransfersPage() -> impl IntoView {
    view! {
        <h1>"Transfers"</h1>
        <Guarded route=GuardedRoute::Transfers children=|_viewer| {
            view! {
                <TransfersPanel/>
                <IslandScripts/>
            }
        }/>
    }
}

/// The page's state; every field is filled by the browser after hydration.
#[derive(Clone, Copy)]
struct PanelState {
    list: RwSignal<Option<ApiResult<TransferList>>>,
    pending: RwSignal<Option<PendingTransfer>>,
    /// Outcome of the last submission: `Ok` for a confirmation, `Err` for an error.
    status: RwSignal<Option<Result<String, String>>>,
    busy: RwSignal<bool>,
    /// The form's recipient and amount, as typed.
    to: RwSignal<String>,
    amount: RwSignal<String>,
}

/// The form, the list and the pending transfer: an island, hydrated in the browser.
#[island]
fn TransfersPanel() -> impl IntoView {
    let state = PanelState {
        list: RwSignal::new(None),
        pending: RwSignal::new(None),
        status: RwSignal::new(None),
        busy: RwSignal::new(false),
        to: RwSignal::new(String::new()),
        amount: RwSignal::new(String::new()),
    };
    let PanelState { to, amount, .. } = state;

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        leptos::task::spawn_local(browser::load_pending(state));
        leptos::task::spawn_local(browser::load_list(state));
    });

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let checked = parse_amount(&amount.get_untracked())
            .map(|amount| TransferRequest {
                to: to.get_untracked().trim().to_owned(),
                amount,
            })
            .and_then(|request| request.validate().map(|()| request));
        match checked {
            Err(message) => state.status.set(Some(Err(message.to_owned()))),
            #[cfg(feature = "hydrate")]
            Ok(request) => leptos::task::spawn_local(browser::submit(state, request, None)),
            #[cfg(not(feature = "hydrate"))]
            Ok(_) => {}
        }
    };

    view! {
        <PendingPanel state/>
        <form class="transfer-form" data-testid="transfer-form" on:submit=on_submit>
            <label>
                "Recipient account "
                <input name="to" required autocomplete="off" bind:value=to/>
            </label>
            <label>
                "Amount "
                <input name="amount" required inputmode="decimal" bind:value=amount/>
            </label>
            <button type="submit" data-testid="transfer-submit" disabled=move || state.busy.get()>
                "Send"
            </button>
        </form>
        <p class="hint">"Transfers above 1,000 need a passkey sign-in from the last 5 minutes."</p>
        {move || match state.status.get() {
            Some(Ok(message)) => EitherOf3::A(view! { <p class="status" data-testid="transfer-status">{message}</p> }),
            Some(Err(message)) => EitherOf3::B(view! { <p class="error" data-testid="transfer-error">{message}</p> }),
            None => EitherOf3::C(()),
        }}
        <h2>"Recent transfers"</h2>
        {move || match state.list.get() {
            None => EitherOf4::A(view! { <p class="status">"Loading transfers…"</p> }),
            Some(ApiResult::Ok(list)) => EitherOf4::B(view! { <TransferItems list=list.transfers/> }),
            Some(ApiResult::SteppingUp { login_url }) => EitherOf4::C(view! {
                <p class="status">
                    "The transfers need a stronger sign-in. Taking you to the sign-in page… "
                    <a href=login_url rel="external">"Continue"</a>
                </p>
            }),
            Some(ApiResult::Failed(message)) => {
                EitherOf4::D(view! { <p class="error" data-testid="transfer-error">{message}</p> })
            }
        }}
    }
}

/// Shows the transfer that waits for confirmation after a step-up, if any.
#[component]
fn PendingPanel(state: PanelState) -> impl IntoView {
    move || match state.pending.get() {
        Some(PendingTransfer::Ready {
            request,
            idempotency_key,
        }) => {
            let summary = format!("Send {} to {}?", format_amount(request.amount), request.to);
            #[cfg(not(feature = "hydrate"))]
            let _ = &idempotency_key;
            let confirm = move |_| {
                #[cfg(feature = "hydrate")]
                leptos::task::spawn_local(browser::submit(
                    state,
                    request.clone(),
                    Some(idempotency_key.clone()),
                ));
            };
            let discard = move |_| {
                #[cfg(feature = "hydrate")]
                leptos::task::spawn_local(browser::discard(state));
            };
            EitherOf3::A(view! {
                <div class="pending" data-testid="pending-transfer">
                    <p>"You signed in again for this transfer. " <strong>{summary}</strong></p>
                    <button data-testid="pending-confirm" on:click=confirm disabled=move || state.busy.get()>
                        "Confirm transfer"
                    </button>
                    " "
                    <button class="secondary" data-testid="pending-discard" on:click=discard disabled=move || state.busy.get()>
                        "Discard"
                    </button>
                </div>
            })
        }
        Some(PendingTransfer::Dropped { message }) => {
            EitherOf3::B(view! { <p class="status" data-testid="pending-dropped">{message}</p> })
        }
        Some(PendingTransfer::None) | None => EitherOf3::C(()),
    }
}

#[component]
fn TransferItems(list: Vec<Transfer>) -> impl IntoView {
    if list.is_empty() {
        return Either::Left(view! { <p data-testid="transfers-empty">"No transfers yet."</p> });
    }
    Either::Right(view! {
        <ul class="transfers" data-testid="transfers-list">
            {list
                .into_iter()
                .map(|transfer| {
                    view! {
                        <li data-testid="transfer">
                            <span class="transfer-amount">{format_amount(transfer.amount)}</span>
                            " to "
                            <span class="transfer-to">{transfer.to}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    })
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::PanelState;
    use crate::api_client::{call_api, ApiMethod, ApiRequest, ApiResult};
    use crate::guard::start_redirect;
    use crate::transfers::{
        discard_pending_transfer, format_amount, load_pending_transfer, PendingTransfer, Transfer,
        TransferList, TransferRequest, TRANSFERS_API_PATH,
    };
    use leptos::prelude::*;

    const RETURN_TO: &str = "/transfers";

    pub(super) async fn load_list(state: PanelState) {
        let request = ApiRequest {
            method: ApiMethod::Get,
            path: TRANSFERS_API_PATH,
            body: None,
            idempotency_key: None,
        };
        let result = call_api::<TransferList>(request, RETURN_TO).await;
        if let ApiResult::SteppingUp { login_url } = &result {
            start_redirect(login_url);
        }
        state.list.set(Some(result));
    }

    pub(super) async fn load_pending(state: PanelState) {
        let pending = load_pending_transfer()
            .await
            .unwrap_or_else(|_| PendingTransfer::Dropped {
                message: "A transfer waiting for confirmation could not be loaded.".to_owned(),
            });
        state.pending.set(Some(pending));
    }

    /// Sends a transfer. A new transfer gets a fresh idempotency key; a confirmed pending
    /// transfer reuses its own, so the server runs it at most once. A new transfer that
    /// the server made empties the form, so a second click fails validation instead of
    /// sending it again.
    pub(super) async fn submit(
        state: PanelState,
        request: TransferRequest,
        idempotency_key: Option<String>,
    ) {
        let from_form = idempotency_key.is_none();
        let Some(body) = request.to_json_body() else {
            state
                .status
                .set(Some(Err("The transfer could not be encoded.".to_owned())));
            return;
        };
        let Some(key) = idempotency_key.or_else(new_idempotency_key) else {
            state.status.set(Some(Err(
                "This browser cannot create a request id.".to_owned()
            )));
            return;
        };
        state.busy.set(true);
        state.status.set(None);
        let api_request = ApiRequest {
            method: ApiMethod::Post,
            path: TRANSFERS_API_PATH,
            body: Some(&body),
            idempotency_key: Some(&key),
        };
        match call_api::<Transfer>(api_request, RETURN_TO).await {
            ApiResult::Ok(transfer) => {
                state.pending.set(Some(PendingTransfer::None));
                if from_form {
                    state.to.set(String::new());
                    state.amount.set(String::new());
                }
                state.status.set(Some(Ok(format!(
                    "Sent {} to {}.",
                    format_amount(transfer.amount),
                    transfer.to
                ))));
                load_list(state).await;
            }
            ApiResult::SteppingUp { login_url } => {
                state.status.set(Some(Ok(
                    "This transfer needs a stronger sign-in. Taking you to the sign-in page…"
                        .to_owned(),
                )));
                start_redirect(&login_url);
            }
            ApiResult::Failed(message) => state.status.set(Some(Err(message))),
        }
        state.busy.set(false);
    }

    pub(super) async fn discard(state: PanelState) {
        match discard_pending_transfer().await {
            Ok(()) => {
                state.pending.set(Some(PendingTransfer::None));
                state
                    .status
                    .set(Some(Ok("The pending transfer was discarded.".to_owned())));
            }
            Err(_) => state.status.set(Some(Err(
                "The pending transfer could not be discarded. Try again.".to_owned(),
            ))),
        }
    }

    /// Returns 128 random bits from the browser's CSPRNG as 32 hex digits.
    fn new_idempotency_key() -> Option<String> {
        let crypto = web_sys::window()?.crypto().ok()?;
        let mut bytes = [0u8; 16];
        crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
        Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }
}
