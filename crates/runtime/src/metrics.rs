//! Prometheus metrics for the rmq daemons.
//!
//! Daemons keep their metrics in a [`prometheus_client`] [`Registry`] and serve it in the text
//! exposition format at `GET /metrics` with [`serve`]. The endpoint is a deliberately tiny
//! HTTP/1.1 responder (one request per connection, bounded request size): a scrape endpoint needs
//! nothing more, and it keeps a full HTTP stack out of the daemons. Values that are cheaper to
//! compute at scrape time (queue lag, connected clients) are filled in by a callback just before
//! each encode.

use std::sync::Arc;
use std::time::Duration;

pub use prometheus_client;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Largest request head read from a scraper.
const MAX_REQUEST: usize = 8 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// What the endpoint serves: a registry plus a hook that refreshes scrape-time gauges.
pub struct Exposition {
    pub registry: Registry,
    pub refresh: Box<dyn Fn() + Send + Sync>,
}

impl Exposition {
    /// The current metrics in Prometheus text format.
    pub fn render(&self) -> String {
        (self.refresh)();
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    exposition: Arc<Exposition>,
    shutdown: CancellationToken,
) {
    let tasks = TaskTracker::new();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics endpoint listening (GET /metrics)");
    }
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "metrics accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let exp = exposition.clone();
        tasks.spawn(async move {
            if let Err(e) = tokio::time::timeout(IO_TIMEOUT, answer(stream, &exp)).await {
                tracing::debug!(error = %e, "metrics request timed out");
            }
        });
    }
    tasks.close();
    tasks.wait().await;
}

async fn answer(mut stream: TcpStream, exp: &Exposition) {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > MAX_REQUEST {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, content_type, body) =
        if method == "GET" && (path == "/metrics" || path.starts_with("/metrics?")) {
            (
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                exp.render(),
            )
        } else {
            (
                "404 Not Found",
                "text/plain; charset=utf-8",
                "try GET /metrics\n".to_owned(),
            )
        };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    #[tokio::test]
    async fn serves_metrics_and_404s_the_rest() {
        let mut registry = Registry::default();
        let c: Counter = Counter::default();
        registry.register("rmq_test_things", "Things counted", c.clone());
        c.inc_by(3);
        let exp = Arc::new(Exposition {
            registry,
            refresh: Box::new(|| {}),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(listener, exp, stop.clone()));
        for (path, want) in [("/metrics", "rmq_test_things_total 3"), ("/nope", "404")] {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            assert!(out.contains(want), "{out}");
        }
        stop.cancel();
        server.await.unwrap();
    }
}
