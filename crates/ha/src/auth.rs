//! Proof of an account on the HA port, for masters whose broker runs with ACL on.
//!
//! Apache's HA protocol has no authentication; rmq adds an opening the same way it adds the
//! controller-mode hello ([`crate::wire`]): a slave with credentials opens with [`AUTH_MAGIC`]
//! (a negative number, which no offset report can be) and its access key; the master answers
//! a random challenge; the slave answers the HMAC of it with its secret. Then the usual stream
//! (an optional hello, offset reports) follows.
//!
//! ```text
//! slave  -> master: AUTH_MAGIC (8) | key length (2) | access key
//! master -> slave : challenge (16)
//! slave  -> master: proof length (2) | proof
//! ```
//!
//! A master with a guard refuses a slave that does not open this way, naming why in its log;
//! a master without one completes the handshake without checking, so a slave with credentials
//! can follow any rmq master. The crypto is the embedder's ([`HaGuard`], [`HaProver`]).

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::HaError;

/// First unit of a slave's credentials ("RMQHA" with the sign bit set, then 2).
pub const AUTH_MAGIC: i64 = i64::from_be_bytes([0xD2, 0x4D, 0x51, 0x48, 0x41, 0, 0, 2]);
/// Size of the master's challenge.
pub const CHALLENGE_SIZE: usize = 16;
/// Longest access key or proof accepted: bounds what a peer can make the other side buffer.
const MAX_FIELD: usize = 1024;

/// The master's side: makes challenges and checks proofs.
pub trait HaGuard: Send + Sync + std::fmt::Debug {
    /// A fresh random challenge.
    fn challenge(&self) -> [u8; CHALLENGE_SIZE];
    /// Whether `proof` shows that the slave at `peer` holds the secret of `access_key`, and that
    /// the account may replicate; the error says why not.
    fn check(
        &self,
        peer: IpAddr,
        access_key: &str,
        challenge: &[u8],
        proof: &[u8],
    ) -> Result<(), String>;
}

/// The slave's side: its account and the proof for a challenge.
pub trait HaProver: Send + Sync + std::fmt::Debug {
    fn access_key(&self) -> &str;
    fn prove(&self, challenge: &[u8]) -> Vec<u8>;
}

fn io<'a>(op: &'static str, peer: &'a str) -> impl FnOnce(std::io::Error) -> HaError + 'a {
    move |source| HaError::Io {
        op,
        peer: peer.to_owned(),
        source,
    }
}

async fn read_field(stream: &mut TcpStream, peer: &str, what: &str) -> Result<Vec<u8>, HaError> {
    let len = stream
        .read_u16()
        .await
        .map_err(io("read HA credentials from", peer))? as usize;
    if len == 0 || len > MAX_FIELD {
        return Err(HaError::Refused {
            peer: peer.to_owned(),
            reason: format!("its {what} is {len} bytes long (1..={MAX_FIELD})"),
        });
    }
    let mut buf = vec![0u8; len];
    stream
        .read_exact(&mut buf)
        .await
        .map_err(io("read HA credentials from", peer))?;
    Ok(buf)
}

fn field(bytes: &[u8]) -> Vec<u8> {
    let len = u16::try_from(bytes.len().min(MAX_FIELD)).unwrap_or(0);
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&bytes[..usize::from(len)]);
    out
}

/// Master: reads how the slave at `peer` opens. With a guard, only a proven account gets in;
/// returns the bytes read that belong to the report stream (a slave without credentials opens
/// with a report or a hello).
pub(crate) async fn admit(
    stream: &mut TcpStream,
    peer: IpAddr,
    guard: Option<&dyn HaGuard>,
    within: Duration,
) -> Result<Vec<u8>, HaError> {
    let name = peer.to_string();
    let opening = async {
        let mut first = [0u8; 8];
        stream
            .read_exact(&mut first)
            .await
            .map_err(io("read from slave", &name))?;
        if i64::from_be_bytes(first) != AUTH_MAGIC {
            return match guard {
                Some(_) => Err(HaError::Refused {
                    peer: name.clone(),
                    reason: "it did not prove an account, and ACL is on: give the slave \
                             broker innerAccessKey/innerSecretKey (ACL 1.0) or \
                             innerClientAuthenticationCredentials (ACL 2.0)"
                        .into(),
                }),
                None => Ok(first.to_vec()),
            };
        }
        let key = read_field(stream, &name, "access key").await?;
        let key = String::from_utf8_lossy(&key).into_owned();
        let challenge = guard.map_or([0u8; CHALLENGE_SIZE], |g| g.challenge());
        stream
            .write_all(&challenge)
            .await
            .map_err(io("write HA challenge to", &name))?;
        let proof = read_field(stream, &name, "proof").await?;
        if let Some(g) = guard {
            g.check(peer, &key, &challenge, &proof)
                .map_err(|reason| HaError::Refused {
                    peer: name.clone(),
                    reason: format!("account {key}: {reason}"),
                })?;
            tracing::info!(slave = %peer, account = %key, "HA slave proved its account");
        }
        Ok(Vec::new())
    };
    match tokio::time::timeout(within, opening).await {
        Ok(r) => r,
        Err(_) => Err(HaError::Silent {
            peer: name.clone(),
            silent_ms: within.as_millis(),
        }),
    }
}

/// Slave: proves `prover`'s account to the master at `peer`.
pub(crate) async fn prove(
    stream: &mut TcpStream,
    peer: &str,
    prover: &dyn HaProver,
    within: Duration,
) -> Result<(), HaError> {
    let exchange = async {
        let mut opening = AUTH_MAGIC.to_be_bytes().to_vec();
        opening.extend(field(prover.access_key().as_bytes()));
        stream
            .write_all(&opening)
            .await
            .map_err(io("write HA credentials to", peer))?;
        let mut challenge = [0u8; CHALLENGE_SIZE];
        stream
            .read_exact(&mut challenge)
            .await
            .map_err(io("read HA challenge from", peer))?;
        stream
            .write_all(&field(&prover.prove(&challenge)))
            .await
            .map_err(io("write HA proof to", peer))
    };
    tokio::time::timeout(within, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(HaError::Silent {
                peer: peer.to_owned(),
                silent_ms: within.as_millis(),
            })
        })
}
