//! Replication with ACL on: the master's HA port admits only a slave that proves an account
//! allowed to replicate (ACL 2.0: a Super user). A slave configured with the broker's own
//! account (`innerClientAuthenticationCredentials`) replicates and a SYNC_MASTER acknowledges
//! sends again; a connection that opens with a bare offset report, as Apache's unauthenticated
//! slaves do, or with a forged proof, is closed by the master.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::cluster::wait_until;
use common::*;
use rmq_remoting::{ClientConfig, Credentials, RemotingClient, ResponseCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const INNER: &str = r#"{"accessKey":"broker-inner","secretKey":"inner-secret"}"#;

/// Reads from `stream` until the peer closes it; fails if it stays open for 15 s.
async fn closed_by_peer(stream: &mut TcpStream) {
    let mut buf = [0u8; 64];
    let deadline = Duration::from_secs(15);
    loop {
        match tokio::time::timeout(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the master kept an unproven HA connection open"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_proven_slave_replicates() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start_namesrv(dir.path()).await;
    let ns_addr = ns.local_addr().to_string();
    let acl = [
        ("authenticationEnabled", "true"),
        ("authorizationEnabled", "true"),
        ("innerClientAuthenticationCredentials", INNER),
    ];
    let mut master_keys = vec![
        ("namesrvAddr", ns_addr.as_str()),
        ("brokerIP1", "127.0.0.1"),
        ("brokerRole", "SYNC_MASTER"),
    ];
    master_keys.extend(acl);
    let master = start(config(&dir.path().join("master"), &master_keys)).await;
    let m_addr = master.local_addr().to_string();
    let ha_port = master.context().config().broker.ha_listen_port;

    // Apache's slaves open with an offset report: refused while ACL is on.
    let mut bare = TcpStream::connect(("127.0.0.1", ha_port)).await.unwrap();
    bare.write_all(&0i64.to_be_bytes()).await.unwrap();
    closed_by_peer(&mut bare).await;
    // An account's opening with a proof not made with its secret: refused.
    let mut forged = TcpStream::connect(("127.0.0.1", ha_port)).await.unwrap();
    let mut opening = rmq_ha::AUTH_MAGIC.to_be_bytes().to_vec();
    opening.extend_from_slice(&12u16.to_be_bytes());
    opening.extend_from_slice(b"broker-inner");
    forged.write_all(&opening).await.unwrap();
    let mut challenge = [0u8; rmq_ha::CHALLENGE_SIZE];
    forged.read_exact(&mut challenge).await.unwrap();
    let proof = rmq_remoting::protocol::signature::hmac_sha1("not-the-secret", &challenge);
    let mut answer = (proof.len() as u16).to_be_bytes().to_vec();
    answer.extend_from_slice(&proof);
    forged.write_all(&answer).await.unwrap();
    closed_by_peer(&mut forged).await;

    // A slave with the broker's own account replicates: sync sends are acknowledged.
    let mut slave_keys = vec![
        ("namesrvAddr", ns_addr.as_str()),
        ("brokerIP1", "127.0.0.1"),
        ("brokerRole", "SLAVE"),
        ("brokerId", "1"),
    ];
    slave_keys.extend(acl);
    let _slave = start(config(&dir.path().join("slave"), &slave_keys)).await;
    let c = RemotingClient::new(ClientConfig {
        credentials: Some(Credentials::new("broker-inner", "inner-secret")),
        ..ClientConfig::default()
    });
    wait_until(
        "the proven slave catches up and sync sends are acknowledged",
        Duration::from_secs(20),
        || async {
            let r = c
                .invoke(&m_addr, send_request("Guarded", 0, b"m", None), TIMEOUT)
                .await
                .unwrap();
            let code = r.response_code();
            assert!(
                code == ResponseCode::Success || code == ResponseCode::SlaveNotAvailable,
                "{code:?} {:?}",
                r.remark
            );
            code == ResponseCode::Success
        },
    )
    .await;
}
