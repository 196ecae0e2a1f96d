//! Waiting on facts: poll a condition until it holds, failing the test with what never happened.
//! Shared by the client's test binaries (`cluster`, `mixed`, `controller_mode`) and, by path, the
//! controller's and the name server's system tests.

use std::time::Duration;

/// Polls `f` every 50 ms until it returns `Some`, failing the test after `limit`.
pub async fn until_within<T, F, Fut>(limit: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
