//! The gRPC port takes TLS as `tls.server.mode` says, like the remoting port: `permissive` (the
//! default, as Apache's proxy) accepts TLS and plaintext on the same port, the first byte of a
//! connection telling (0x16 opens a TLS handshake); `enforcing` closes plaintext connections;
//! `disabled` serves plaintext only. The 5.x clients use TLS unless told otherwise and accept
//! any server certificate by default, so without a certificate of its own the broker presents
//! a self-signed one it makes at start.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::transport::server::{Connected, TcpConnectInfo};

use rmq_remoting::Identity;

/// The first byte of a TLS record carrying a handshake.
const TLS_HANDSHAKE: u8 = 0x16;
/// How long a new connection may take to send its first byte and finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections set up but not yet taken by the gRPC server.
const BACKLOG: usize = 128;

/// The gRPC port's TLS configuration for `identity` (HTTP/2 by ALPN).
pub fn server_config(identity: Identity) -> Result<Arc<rustls::ServerConfig>, String> {
    // ring: no C toolchain beyond the one Rust needs. rustls marks its provider deprecated for
    // lacking post-quantum key exchange; aws-lc-rs would bring a cmake build for that alone.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// A connection of either kind.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        match self {
            Conn::Plain(s) => s.connect_info(),
            Conn::Tls(s) => s.get_ref().0.connect_info(),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Accepts on `listener` until `shutdown`, telling TLS from plaintext per connection (each in
/// its own task, so a slow client delays nobody), and yields the connections ready for gRPC.
/// `tls` is none when TLS is off; `enforcing` refuses plaintext.
pub fn incoming(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    enforcing: bool,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) -> impl Stream<Item = io::Result<Conn>> + Send + 'static {
    let (tx, rx) = mpsc::channel::<io::Result<Conn>>(BACKLOG);
    let acceptor = tls.map(TlsAcceptor::from);
    let handshakes = tasks.clone();
    tasks.spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = listener.accept() => match a {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "gRPC accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let (tx, acceptor) = (tx.clone(), acceptor.clone());
            handshakes.spawn(async move {
                let classified = classify(stream, acceptor.as_ref(), enforcing);
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, classified).await {
                    Ok(Ok(conn)) => {
                        let _ = tx.send(Ok(conn)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "gRPC connection refused"),
                    Err(_) => tracing::debug!(%peer, "gRPC connection sent nothing in time"),
                }
            });
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
}

async fn classify(
    stream: TcpStream,
    acceptor: Option<&TlsAcceptor>,
    enforcing: bool,
) -> io::Result<Conn> {
    stream.set_nodelay(true)?;
    let Some(acceptor) = acceptor else {
        return Ok(Conn::Plain(stream));
    };
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await?;
    if n == 1 && first[0] == TLS_HANDSHAKE {
        Ok(Conn::Tls(Box::new(acceptor.accept(stream).await?)))
    } else if enforcing {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "a plaintext connection to a port with tls.server.mode=enforcing",
        ))
    } else {
        Ok(Conn::Plain(stream))
    }
}
