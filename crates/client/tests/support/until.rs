//! Waiting on facts: poll a condition until it holds, failing the test with what never happened.
//! Shared by the client's test binaries (`cluster`, `mixed`, `controller_mode`) and, by path, the
//! controller's and the name server's system tests.

// Each test binary that includes this file uses what it needs of it.
#![allow(dead_code)]

use std::time::Duration;

/// Polls `f` every 50 ms until it returns `Some`, failing the test after `limit`.
pub async fn until_within<T, F, Fut>(limit: Duration, what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    match poll_within(limit, f).await {
        Some(v) => v,
        None => panic!("never: {what}"),
    }
}

/// Polls `f` every 50 ms until it returns `Some`; `None` once `limit` has passed, for a
/// caller that describes the failure itself.
pub async fn poll_within<T, F, Fut>(limit: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
