//! Hydrates the server-rendered HTML in the browser.

// Links the app crate, whose `#[island]` components export the functions that hydrate them.
#[allow(
    unused_imports,
    reason = "linking the islands is the import's only purpose"
)]
use app::*;

/// Entry point that the generated JavaScript calls once the wasm module is loaded: it
/// hydrates each island in the page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Debug builds print panics to the browser console. Release builds leave the hook out
    // to stay within the first-load budget; a panic there shows as a wasm `unreachable` trap.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
