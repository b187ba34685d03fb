//! One module per page, plus the guard component the protected pages share.

mod guarded;
mod home;
mod messages;
mod not_found;
mod profile;

pub use home::HomePage;
pub use messages::MessagesPage;
pub use not_found::NotFound;
pub use profile::ProfilePage;
