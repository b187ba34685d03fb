//! Leptos pages, route guards and server functions of the step-up demo app.
//!
//! The crate builds twice: with `ssr` inside the axum server, and with `hydrate` for the
//! browser. Server-only code (sessions, redirects) sits behind `#[cfg(feature = "ssr")]`,
//! browser-only code (fetching the API) behind `#[cfg(feature = "hydrate")]`.
//!
//! Pages render on the server only, and links are plain page loads, so every page view
//! runs the route guard on the server. Only the two islands run in the browser: the
//! messages client and the transfers panel. Their pages also render [`IslandScripts`],
//! which loads the wasm; the other pages load none.

pub mod api_client;
#[cfg(feature = "ssr")]
pub mod audit;
pub mod guard;
pub mod login_url;
pub mod messages;
mod pages;
#[cfg(feature = "ssr")]
pub mod session;
pub mod transfers;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
};

/// Renders the HTML document around the app for server-side rendering.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // For [`IslandScripts`], which pages with islands render in the body.
    provide_context(options.clone());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                <AutoReload options=options.clone()/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Loads the wasm that hydrates the page's islands. Only pages with islands render it, so
/// the others (the home page among them) load no JavaScript or wasm at all.
#[component]
pub fn IslandScripts() -> impl IntoView {
    use_context::<LeptosOptions>().map(|options| view! { <HydrationScripts options islands=true/> })
}

/// Renders the application root: navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Step-up authentication demo"/>
        <Router>
            <header class="site-header">
                <nav>
                    <A href="/">"Home"</A>
                    <A href="/profile">"Profile"</A>
                    <A href="/messages">"Messages"</A>
                    <A href="/transfers">"Transfers"</A>
                    <A href="/security">"Security"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::HomePage/>
                    <Route path=path!("/profile") view=pages::ProfilePage/>
                    <Route path=path!("/messages") view=pages::MessagesPage/>
                    <Route path=path!("/transfers") view=pages::TransfersPage/>
                    <Route path=path!("/security") view=pages::SecurityPage/>
                </Routes>
            </main>
        </Router>
    }
}
