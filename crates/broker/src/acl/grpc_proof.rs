//! How a 5.x gRPC client proves its account (ACL 1.0 over gRPC): the `authorization` header
//! `MQv2-HMAC-SHA1 Credential=AK, SignedHeaders=x-mq-date-time, Signature=HEX`, where HEX is
//! the HMAC-SHA1 of the `x-mq-date-time` header under the account's secret. Clients differ in
//! small ways, all accepted: `Credential=AK//Rocketmq` (Go, C++) and upper-case hex (C#, C++).

use rmq_remoting::protocol::signature::{hmac_sha1, same};

/// The parsed `authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct GrpcProof {
    pub access_key: String,
    signature_hex: String,
    date_time: String,
}

impl GrpcProof {
    /// Reads the headers; `None` when there is no usable `authorization` header.
    pub fn parse(authorization: Option<&str>, date_time: Option<&str>) -> Option<GrpcProof> {
        let rest = authorization?.trim().strip_prefix("MQv2-HMAC-SHA1")?;
        let (mut access_key, mut signature_hex) = (None, None);
        for part in rest.split(',') {
            match part.trim().split_once('=') {
                Some(("Credential", v)) => access_key = v.split('/').next().map(str::to_owned),
                Some(("Signature", v)) => signature_hex = Some(v.trim().to_ascii_lowercase()),
                _ => {}
            }
        }
        Some(GrpcProof {
            access_key: access_key.filter(|a| !a.is_empty())?,
            signature_hex: signature_hex?,
            date_time: date_time.unwrap_or_default().to_owned(),
        })
    }

    /// Whether the signature is the date-time signed with `secret`.
    pub fn verify(&self, secret: &str) -> bool {
        let expected: String = hmac_sha1(secret, self.date_time.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        same(expected.as_bytes(), self.signature_hex.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(secret: &str, data: &str) -> String {
        hmac_sha1(secret, data.as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    #[test]
    fn reads_every_client_flavour() {
        let sig = hex("secret", "20231227T194619Z");
        for header in [
            format!("MQv2-HMAC-SHA1 Credential=abc, SignedHeaders=x-mq-date-time, Signature={sig}"),
            format!(
                "MQv2-HMAC-SHA1 Credential=abc//Rocketmq, SignedHeaders=x-mq-date-time, Signature={}",
                sig.to_lowercase()
            ),
        ] {
            let p = GrpcProof::parse(Some(&header), Some("20231227T194619Z")).unwrap();
            assert_eq!(p.access_key, "abc");
            assert!(p.verify("secret"));
            assert!(!p.verify("other"));
        }
        let p = GrpcProof::parse(
            Some(&format!("MQv2-HMAC-SHA1 Credential=abc, Signature={sig}")),
            Some("20231227T194620Z"),
        )
        .unwrap();
        assert!(!p.verify("secret"), "another date-time");
        assert!(GrpcProof::parse(Some("Basic abc"), None).is_none());
        assert!(GrpcProof::parse(None, None).is_none());
    }
}
