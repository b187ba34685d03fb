//! One module per page, plus the guard component the protected pages share.

mod guarded;
mod home;
mod messages;
mod not_found;
mod profile;
mod security;
mod transfers;

pub use home::HomePage;
pub use messages::MessagesPage;
pub use not_found::NotFound;
pub use profile::ProfilePage;
pub use security::SecurityPage;
pub use transfers::TransfersPage;

/// Joins a path and a query string (with or without its `?`) into a `return_to` value.
fn path_and_query(path: String, search: &str) -> String {
    match search {
        "" => path,
        query if query.starts_with('?') => format!("{path}{query}"),
        query => format!("{path}?{query}"),
    }
}
