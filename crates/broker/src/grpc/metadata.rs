//! The `x-mq-*` request metadata the 5.x clients send with every call.

use rmq_proto::v2::{Code, Status};

use super::status::status;

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `x-mq-client-id`: required on every call.
    pub client_id: String,
    /// `x-mq-language` (JAVA, PYTHON, ...).
    pub language: String,
    /// `x-mq-client-version`.
    pub version: String,
    /// `x-mq-namespace`, empty when unset.
    pub namespace: String,
    /// The peer's address, for born_host.
    pub peer: Option<std::net::SocketAddr>,
}

impl Caller {
    /// `name` as the broker stores it for this caller: `namespace%name` under a namespace.
    pub fn namespaced(&self, name: &str) -> String {
        if self.namespace.is_empty() {
            name.to_owned()
        } else {
            format!("{}%{name}", self.namespace)
        }
    }
}

fn text(md: &tonic::metadata::MetadataMap, key: &str) -> String {
    md.get(key)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The caller of `req`, or CLIENT_ID_REQUIRED when it sent no `x-mq-client-id`.
pub fn caller<T>(req: &tonic::Request<T>) -> Result<Caller, Status> {
    let md = req.metadata();
    let client_id = text(md, "x-mq-client-id");
    if client_id.is_empty() {
        return Err(status(
            Code::ClientIdRequired,
            "the x-mq-client-id request header is missing",
        ));
    }
    Ok(Caller {
        client_id,
        language: text(md, "x-mq-language"),
        version: text(md, "x-mq-client-version"),
        namespace: text(md, "x-mq-namespace"),
        peer: req.remote_addr(),
    })
}
