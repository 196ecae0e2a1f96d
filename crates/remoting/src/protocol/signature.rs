//! Request signatures as Apache's ACL 1.0 (`AclClientRPCHook` / `PlainAccessValidator`) makes
//! and checks them: HMAC-SHA1, keyed by the account's secret, over the values of every ext field
//! except `Signature`, in key order, followed by the body; base64 in the `Signature` ext field,
//! next to `AccessKey` and an optional `SecurityToken`.

use base64::Engine;
use ring::hmac;

use super::RemotingCommand;

/// Ext field naming the account.
pub const ACCESS_KEY: &str = "AccessKey";
/// Ext field carrying the signature.
pub const SIGNATURE: &str = "Signature";
/// Ext field carrying an optional session token (signed like any other field).
pub const SECURITY_TOKEN: &str = "SecurityToken";

/// An account's credentials, used to sign every request a client sends.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub security_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    // The secret stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl Credentials {
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
        }
    }

    /// Adds `AccessKey` (and `SecurityToken`) to the request, then its `Signature`.
    pub fn sign(&self, request: &mut RemotingCommand) {
        request.ext_fields.remove(SIGNATURE);
        request
            .ext_fields
            .insert(ACCESS_KEY, self.access_key.as_str());
        if let Some(token) = &self.security_token {
            request.ext_fields.insert(SECURITY_TOKEN, token.as_str());
        }
        let signature = signature(request, &self.secret_key, &[]);
        request.ext_fields.insert(SIGNATURE, signature);
    }
}

/// The signature of `request` under `secret`: every ext field but `Signature` and those in
/// `skip`, values in key order, then the body.
pub fn signature(request: &RemotingCommand, secret: &str, skip: &[&str]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    // ExtFields iterate in `str::cmp` key order, which is the order of Java's TreeMap<String>.
    for (k, v) in request.ext_fields.iter() {
        if k != SIGNATURE && !skip.contains(&k) {
            ctx.update(v.as_bytes());
        }
    }
    ctx.update(&request.body);
    base64::engine::general_purpose::STANDARD.encode(ctx.sign().as_ref())
}

/// Whether `request` carries a correct signature for `secret`. Clients before Apache 4.9.4 did
/// not sign `_UNIQUE_KEY_QUERY`, later ones do: both forms are accepted.
pub fn verify(request: &RemotingCommand, secret: &str) -> bool {
    let Some(given) = request.ext_fields.get(SIGNATURE) else {
        return false;
    };
    let matches = |skip: &[&str]| {
        let expected = signature(request, secret, skip);
        same(expected.as_bytes(), given.as_bytes())
    };
    matches(&[])
        || (request.ext_fields.contains_key(UNIQUE_KEY_QUERY) && matches(&[UNIQUE_KEY_QUERY]))
}

const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

/// HMAC-SHA1 of `data` under `secret` (the 5.x gRPC clients sign their `x-mq-date-time` with it).
pub fn hmac_sha1(secret: &str, data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    hmac::sign(&key, data).as_ref().to_vec()
}

/// 16 bytes from the system's secure random source (challenges); zeros if it fails, which
/// only makes a challenge guessable, never a wrong proof accepted.
pub fn random_challenge() -> [u8; 16] {
    use ring::rand::SecureRandom;
    let mut out = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut out).is_err() {
        tracing::error!("the system random source failed; the HA challenge is predictable");
    }
    out
}

/// Equality that takes as long for every pair of equal-length inputs, so a forger cannot learn
/// the signature byte by byte from response times.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_values_in_key_order_then_body() {
        let mut req = RemotingCommand::new_request(10)
            .with_ext_field("topic", "T")
            .with_ext_field("a", "1")
            .with_body(&b"xyz"[..]);
        Credentials::new("RocketMQ", "12345678").sign(&mut req);
        assert_eq!(req.ext_fields.get(ACCESS_KEY), Some("RocketMQ"));
        // Values in key order: AccessKey, a, topic; then the body.
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"12345678");
        let tag = hmac::sign(&key, b"RocketMQ1Txyz");
        let expected = base64::engine::general_purpose::STANDARD.encode(tag.as_ref());
        assert_eq!(req.ext_fields.get(SIGNATURE), Some(expected.as_str()));
        assert!(verify(&req, "12345678"));
        assert!(!verify(&req, "12345679"));
    }

    #[test]
    fn a_changed_field_or_body_breaks_the_signature() {
        let mut req = RemotingCommand::new_request(10).with_ext_field("topic", "T");
        Credentials::new("ak", "secret").sign(&mut req);
        let mut other = req.clone();
        other.ext_fields.insert("topic", "U");
        assert!(!verify(&other, "secret"));
        let other = req.clone().with_body(&b"x"[..]);
        assert!(!verify(&other, "secret"));
        let mut unsigned = req;
        unsigned.ext_fields.remove(SIGNATURE);
        assert!(!verify(&unsigned, "secret"));
    }

    #[test]
    fn unique_key_query_may_be_left_out_of_the_signature() {
        let mut req = RemotingCommand::new_request(12).with_ext_field("topic", "T");
        Credentials::new("ak", "secret").sign(&mut req);
        req.ext_fields.insert(UNIQUE_KEY_QUERY, "true");
        assert!(verify(&req, "secret"));
    }
}
