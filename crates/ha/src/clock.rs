//! Time as the sessions see it. The pure sessions take `std::time::Instant`s; reading them
//! through tokio's clock lets tests that pause tokio time drive the real services too.

use std::time::Instant;

pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

pub(crate) fn tokio_instant(at: Instant) -> tokio::time::Instant {
    tokio::time::Instant::from_std(at)
}
