//! The transport over real TCP on 127.0.0.1 port 0.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use rmq_remoting::header::{CheckTransactionStateRequestHeader, GetRouteInfoRequestHeader};
use rmq_remoting::{
    ClientConfig, CommandHeader, ConnectionHandle, ConnectionId, ConnectionListener, ProcessError,
    RemotingClient, RemotingCommand, RemotingError, RemotingServer, RequestCode, ResponseCode,
    ServerConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const ECHO: i32 = 9001;
const SLOW: i32 = 9002;
const NEVER: i32 = 9003;
const ASK_CLIENT: i32 = 9004;

struct Running {
    addr: String,
    token: CancellationToken,
    task: JoinHandle<()>,
}

async fn start(server: RemotingServer) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_on(server, listener).await
}

async fn start_on(server: RemotingServer, listener: TcpListener) -> Running {
    let addr = listener.local_addr().unwrap().to_string();
    let token = CancellationToken::new();
    let task = tokio::spawn(server.run(listener, token.clone()));
    Running { addr, token, task }
}

fn echo_server(config: ServerConfig) -> RemotingServer {
    let mut server = RemotingServer::new(config);
    server.register(ECHO, |_ctx, req: RemotingCommand| async move {
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_body(req.body.clone()),
        ))
    });
    server.register(SLOW, |_ctx, req: RemotingCommand| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_remark("slow done"),
        ))
    });
    server.register(NEVER, |_ctx, _req| async move {
        std::future::pending::<()>().await;
        Ok(None)
    });
    server.register(
        RequestCode::GetRouteinfoByTopic,
        |_ctx, req: RemotingCommand| async move {
            let h: GetRouteInfoRequestHeader = req.decode_header()?;
            Ok(Some(
                req.response_to(ResponseCode::Success).with_remark(h.topic),
            ))
        },
    );
    server
}

const SECOND: Duration = Duration::from_secs(5);

#[tokio::test]
async fn ten_thousand_concurrent_requests_on_one_connection() {
    let server = start(echo_server(ServerConfig::default())).await;
    let client = RemotingClient::new(ClientConfig::default());
    let calls = (0..10_000u32).map(|i| {
        let client = client.clone();
        let addr = server.addr.clone();
        async move {
            let req =
                RemotingCommand::new_request(ECHO).with_body(Bytes::from(i.to_be_bytes().to_vec()));
            let resp = client
                .invoke(&addr, req, Duration::from_secs(20))
                .await
                .unwrap();
            assert!(resp.is_response());
            assert_eq!(
                &resp.body[..],
                &i.to_be_bytes(),
                "response matched to the wrong request"
            );
        }
    });
    futures::future::join_all(calls).await;
    assert_eq!(client.connected_addrs(), vec![server.addr.clone()]);
    client.shutdown().await;
    server.token.cancel();
    server.task.await.unwrap();
}

#[tokio::test]
async fn timeout_names_the_address() {
    let server = start(echo_server(ServerConfig::default())).await;
    let client = RemotingClient::new(ClientConfig::default());
    let err = client
        .invoke(
            &server.addr,
            RemotingCommand::new_request(NEVER),
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RemotingError::Timeout { millis: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&server.addr));
    // The connection is still usable.
    let ok = client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap();
    assert!(ok.is_success());
    client.shutdown().await;
    server.token.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(1), server.task).await;
}

#[tokio::test]
async fn unknown_code_and_bad_header_get_error_responses() {
    let server = start(echo_server(ServerConfig::default())).await;
    let client = RemotingClient::new(ClientConfig::default());
    let resp = client
        .invoke(&server.addr, RemotingCommand::new_request(4242), SECOND)
        .await
        .unwrap();
    assert_eq!(resp.code, 3);
    assert_eq!(
        resp.remark.as_deref(),
        Some(" request type 4242 not supported")
    );

    // A missing required header field is a SYSTEM_ERROR naming the field, not a dropped connection.
    let resp = client
        .invoke(
            &server.addr,
            RemotingCommand::new_request(RequestCode::GetRouteinfoByTopic),
            SECOND,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::SystemError);
    assert!(resp.remark.unwrap().contains("topic"));
    let h = GetRouteInfoRequestHeader {
        topic: "T1".into(),
        ..Default::default()
    };
    let resp = client
        .invoke(
            &server.addr,
            RemotingCommand::request(RequestCode::GetRouteinfoByTopic, &h),
            SECOND,
        )
        .await
        .unwrap();
    assert_eq!(resp.remark.as_deref(), Some("T1"));
    client.shutdown().await;
    server.token.cancel();
    server.task.await.unwrap();
}

async fn read_frame(stream: &mut TcpStream) -> Option<RemotingCommand> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await.ok()?;
    let mut frame = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut frame).await.ok()?;
    RemotingCommand::decode(Bytes::from(frame)).ok()
}

#[tokio::test]
async fn oneway_gets_no_reply_and_form_is_mirrored() {
    let seen = Arc::new(AtomicUsize::new(0));
    let mut server = echo_server(ServerConfig::default());
    let seen2 = seen.clone();
    server.register(
        RequestCode::UpdateConsumerOffset,
        move |_ctx, req: RemotingCommand| {
            seen2.fetch_add(1, Ordering::SeqCst);
            // Even if a processor answers a oneway request, nothing must go out.
            async move { Ok(Some(req.response_to(ResponseCode::Success))) }
        },
    );
    let server = start(server).await;
    let mut raw = TcpStream::connect(&server.addr).await.unwrap();
    let mut buf = BytesMut::new();
    RemotingCommand::new_request(RequestCode::UpdateConsumerOffset)
        .with_opaque(1)
        .with_oneway()
        .encode(&mut buf);
    RemotingCommand::new_request(ECHO)
        .with_opaque(2)
        .with_serialize_type(rmq_remoting::SerializeType::RocketMq)
        .encode(&mut buf);
    raw.write_all(&buf).await.unwrap();
    let first = read_frame(&mut raw).await.unwrap();
    assert_eq!(first.opaque, 2);
    assert!(first.is_response());
    assert_eq!(first.serialize_type, rmq_remoting::SerializeType::RocketMq);
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    // And nothing else arrives.
    let mut more = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(100), raw.read(&mut more))
            .await
            .is_err()
    );

    let client = RemotingClient::new(ClientConfig::default());
    client
        .invoke_oneway(
            &server.addr,
            RemotingCommand::new_request(RequestCode::UpdateConsumerOffset),
            SECOND,
        )
        .await
        .unwrap();
    client.shutdown().await;
    server.token.cancel();
    server.task.await.unwrap();
}

#[tokio::test]
async fn server_initiated_request_is_answered_by_the_client() {
    let mut server = RemotingServer::new(ServerConfig::default());
    server.register(
        ASK_CLIENT,
        |ctx: rmq_remoting::RequestContext, req: RemotingCommand| async move {
            let header = CheckTransactionStateRequestHeader {
                tran_state_table_offset: 5,
                commit_log_offset: 77,
                ..Default::default()
            };
            let ask = RemotingCommand::request(RequestCode::CheckTransactionState, &header);
            let answer = ctx
                .connection()
                .invoke(ask, Duration::from_secs(2))
                .await
                .map_err(|e| ProcessError::response(ResponseCode::SystemError, e.to_string()))?;
            ctx.connection()
                .send_oneway(RemotingCommand::new_request(
                    RequestCode::NotifyConsumerIdsChanged,
                ))
                .await
                .map_err(|e| ProcessError::response(ResponseCode::SystemError, e.to_string()))?;
            Ok(Some(
                req.response_to(ResponseCode::Success)
                    .with_remark(answer.remark.unwrap_or_default()),
            ))
        },
    );
    let server = start(server).await;
    let notified = Arc::new(AtomicUsize::new(0));
    let notified2 = notified.clone();
    let client = RemotingClient::with_request_handler(
        ClientConfig::default(),
        move |_ctx, req: RemotingCommand| {
            let notified = notified2.clone();
            async move {
                if req.request_code() == RequestCode::NotifyConsumerIdsChanged {
                    assert!(req.is_oneway());
                    notified.fetch_add(1, Ordering::SeqCst);
                    return Ok(None);
                }
                let h = CheckTransactionStateRequestHeader::read(&req.ext_fields)?;
                Ok(Some(
                    req.response_to(ResponseCode::Success)
                        .with_remark(format!("offset {}", h.commit_log_offset)),
                ))
            }
        },
    );
    let resp = client
        .invoke(
            &server.addr,
            RemotingCommand::new_request(ASK_CLIENT),
            SECOND,
        )
        .await
        .unwrap();
    assert_eq!(resp.remark.as_deref(), Some("offset 77"));
    tokio::time::timeout(SECOND, async {
        while notified.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    client.shutdown().await;
    server.token.cancel();
    server.task.await.unwrap();
}

#[tokio::test]
async fn garbage_frame_closes_only_its_connection() {
    let server = start(echo_server(ServerConfig::default())).await;
    let client = RemotingClient::new(ClientConfig::default());
    client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap();

    let mut raw = TcpStream::connect(&server.addr).await.unwrap();
    // A plausible length, then a header that is neither JSON nor binary.
    raw.write_all(&[0, 0, 0, 10, 0, 0, 0, 6, b'n', b'o', b't', b'{', b'}', b'!'])
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(SECOND, raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "the server must close the garbage connection");

    let mut huge = TcpStream::connect(&server.addr).await.unwrap();
    huge.write_all(&[0x7f, 0xff, 0xff, 0xff]).await.unwrap();
    let n = tokio::time::timeout(SECOND, huge.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "an oversized frame closes the connection");

    let resp = client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap();
    assert!(resp.is_success());
    client.shutdown().await;
    server.token.cancel();
    server.task.await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let server = start(echo_server(ServerConfig::default())).await;
    let client = RemotingClient::new(ClientConfig::default());
    let addr = server.addr.clone();
    let c = client.clone();
    let slow = tokio::spawn(async move {
        c.invoke(&addr, RemotingCommand::new_request(SLOW), SECOND)
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.token.cancel();
    let resp = slow.await.unwrap().unwrap();
    assert_eq!(resp.remark.as_deref(), Some("slow done"));
    tokio::time::timeout(SECOND, server.task)
        .await
        .unwrap()
        .unwrap();
    // The server is gone: a new request fails to connect.
    let err = client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap_err();
    assert!(err.addr() == server.addr, "{err}");
    client.shutdown().await;
}

#[derive(Default)]
struct Events(Mutex<Vec<(bool, ConnectionId, SocketAddr)>>);

impl ConnectionListener for Events {
    fn on_connected(&self, c: &ConnectionHandle) {
        self.0.lock().push((true, c.id(), c.peer_addr()));
    }
    fn on_closed(&self, id: ConnectionId, peer: SocketAddr) {
        self.0.lock().push((false, id, peer));
    }
}

#[tokio::test]
async fn pending_requests_fail_fast_and_the_client_reconnects() {
    let events = Arc::new(Events::default());
    let config = ServerConfig {
        shutdown_grace: Duration::from_millis(50),
        ..Default::default()
    };
    let mut server = echo_server(config.clone());
    server.set_connection_listener(events.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let server = start_on(server, listener).await;
    let client = RemotingClient::new(ClientConfig::default());
    let addr = server.addr.clone();
    let c = client.clone();
    let started = tokio::time::Instant::now();
    let stuck = tokio::spawn(async move {
        c.invoke(
            &addr,
            RemotingCommand::new_request(NEVER),
            Duration::from_secs(30),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.token.cancel();
    server.task.await.unwrap();
    let err = stuck.await.unwrap().unwrap_err();
    assert!(
        matches!(err, RemotingError::ConnectionClosed { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&server.addr));
    assert!(started.elapsed() < Duration::from_secs(5));
    {
        let ev = events.0.lock();
        assert_eq!(ev.len(), 2);
        assert!(ev[0].0 && !ev[1].0);
        assert_eq!(ev[0].1, ev[1].1);
    }

    // Same port, new server: the next request reconnects.
    let listener = TcpListener::bind(local).await.unwrap();
    let server = start_on(echo_server(ServerConfig::default()), listener).await;
    let resp = client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap();
    assert!(resp.is_success());
    client.close_connection(&server.addr);
    let resp = client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap();
    assert!(resp.is_success());
    client.shutdown().await;
    let err = client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap_err();
    assert!(matches!(err, RemotingError::Shutdown { .. }));
    server.token.cancel();
    server.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_closed() {
    let config = ServerConfig {
        idle_timeout: Some(Duration::from_secs(120)),
        ..Default::default()
    };
    let server = start(echo_server(config)).await;
    let client = RemotingClient::new(ClientConfig {
        idle_timeout: None,
        ..Default::default()
    });
    client
        .invoke(&server.addr, RemotingCommand::new_request(ECHO), SECOND)
        .await
        .unwrap();
    let conn = client.connection(&server.addr).await.unwrap();
    let before = tokio::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(600), conn.closed())
        .await
        .unwrap();
    assert!(
        before.elapsed() >= Duration::from_secs(100),
        "closed too early: {:?}",
        before.elapsed()
    );
    server.token.cancel();
    server.task.await.unwrap();
    client.shutdown().await;
}
