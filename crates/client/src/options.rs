//! [`ClientOptions`]: what every client (producer, consumers, admin) shares — name servers,
//! identity, RPC timeout and the periods of the background tasks.
//!
//! The periods are Apache's defaults (protocol.md 8.2) and are settable so that tests can run a
//! rebalance in a second instead of twenty.

use std::net::IpAddr;
use std::time::Duration;

use crate::error::{ClientError, Result};

/// Java's `rocketmq.client.name` default; replaced by `pid#nanos` for producers and clustering
/// consumers so that two clients in one process get different ids.
pub const DEFAULT_INSTANCE_NAME: &str = "DEFAULT";

/// Settings shared by every kind of client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Name server addresses; any one may be down.
    pub name_servers: Vec<String>,
    /// The instance part of the client id (`DEFAULT`, made unique per client when left so).
    pub instance_name: String,
    /// The IP used in the client id and message ids; detected when `None`.
    pub client_ip: Option<IpAddr>,
    /// Timeout of ordinary RPCs (Java's `mqClientApiTimeout`, 3 s).
    pub rpc_timeout: Duration,
    /// Route refresh period (`pollNameServerInterval`, 30 s).
    pub route_poll_interval: Duration,
    /// Heartbeat period (`heartbeatBrokerInterval`, 30 s).
    pub heartbeat_interval: Duration,
    /// Consumer offset commit period (`persistConsumerOffsetInterval`, 5 s).
    pub persist_offset_interval: Duration,
    /// Rebalance period (`rocketmq.client.rebalance.waitInterval`, 20 s).
    pub rebalance_interval: Duration,
    /// The ACL account every request is signed with (Apache's `AclClientRPCHook`); `None`
    /// sends unsigned requests, as to a broker without ACL.
    pub credentials: Option<rmq_remoting::Credentials>,
    /// TLS to every broker and name server (Java's `useTLS`, `-Dtls.enable=true`). Server
    /// certificates are not checked (Java's default, `tls.client.authServer=false`): brokers
    /// usually present self-signed ones.
    pub use_tls: bool,
    /// The largest body a consumer inflates from a compressed message (Java's
    /// `maxMessageSize`, 4 MiB, also the broker's default): a body that would inflate beyond it
    /// is handed over compressed, with a warning, instead of taking the consumer's memory. Raise
    /// it with the broker's `maxMessageSize`.
    pub max_inflated_body: usize,
    /// Set by [`AdminBuilder`](crate::AdminBuilder): an admin client may ask only brokers or
    /// controllers by address, so it needs no name server.
    pub(crate) name_server_optional: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            name_servers: Vec::new(),
            instance_name: DEFAULT_INSTANCE_NAME.to_owned(),
            client_ip: None,
            rpc_timeout: Duration::from_secs(3),
            route_poll_interval: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(30),
            persist_offset_interval: Duration::from_secs(5),
            rebalance_interval: Duration::from_secs(20),
            credentials: None,
            use_tls: false,
            max_inflated_body: 4 * 1024 * 1024,
            name_server_optional: false,
        }
    }
}

/// Splits a `;`-separated name server list (Java's `namesrvAddr` form), dropping blanks.
pub fn parse_name_servers(list: &str) -> Vec<String> {
    list.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ClientOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.name_servers.is_empty() && !self.name_server_optional {
            return Err(ClientError::Config(
                "no name server address given (e.g. \"127.0.0.1:9876\")".into(),
            ));
        }
        if self.max_inflated_body == 0 {
            return Err(ClientError::Config(
                "max_inflated_body must not be zero (default 4 MiB)".into(),
            ));
        }
        for (name, d) in [
            ("rpc_timeout", self.rpc_timeout),
            ("route_poll_interval", self.route_poll_interval),
            ("heartbeat_interval", self.heartbeat_interval),
            ("persist_offset_interval", self.persist_offset_interval),
            ("rebalance_interval", self.rebalance_interval),
        ] {
            if d.is_zero() {
                return Err(ClientError::Config(format!("{name} must not be zero")));
            }
        }
        Ok(())
    }

    /// Replaces the default instance name by `pid#nanos`, as Java's `changeInstanceNameToPID`.
    pub(crate) fn unique_instance_name(&mut self) {
        if self.instance_name == DEFAULT_INSTANCE_NAME {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            self.instance_name = format!("{}#{}", std::process::id(), nanos);
        }
    }
}

/// Builder methods shared by every client builder (they all hold a `ClientOptions`).
macro_rules! client_option_setters {
    () => {
        /// Every shared setting at once (name servers, identity, timeouts, periods), e.g. one
        /// [`ClientOptions`](crate::ClientOptions) value shared by several clients. The other
        /// setters change single fields of it.
        pub fn options(mut self, options: $crate::ClientOptions) -> Self {
            self.options = options;
            self
        }

        /// Name servers, `;`-separated (`"10.0.0.1:9876;10.0.0.2:9876"`).
        pub fn name_server(mut self, list: &str) -> Self {
            self.options.name_servers = $crate::options::parse_name_servers(list);
            self
        }

        /// The instance name part of the client id (`ip@instance`).
        pub fn instance_name(mut self, name: impl Into<String>) -> Self {
            self.options.instance_name = name.into();
            self
        }

        /// The IP put in the client id and message ids (detected by default).
        pub fn client_ip(mut self, ip: std::net::IpAddr) -> Self {
            self.options.client_ip = Some(ip);
            self
        }

        /// Timeout of ordinary RPCs (3 s).
        pub fn rpc_timeout(mut self, d: std::time::Duration) -> Self {
            self.options.rpc_timeout = d;
            self
        }

        /// Route refresh period (30 s).
        pub fn route_poll_interval(mut self, d: std::time::Duration) -> Self {
            self.options.route_poll_interval = d;
            self
        }

        /// Signs every request with this ACL account (`accessKey`/`secretKey` of the broker's
        /// `plain_acl.yml`).
        pub fn credentials(
            mut self,
            access_key: impl Into<String>,
            secret_key: impl Into<String>,
        ) -> Self {
            self.options.credentials = Some($crate::Credentials::new(access_key, secret_key));
            self
        }

        /// Connects over TLS (Java's `useTLS`); server certificates are not checked.
        pub fn use_tls(mut self, on: bool) -> Self {
            self.options.use_tls = on;
            self
        }

        /// The largest body a consumer inflates (default 4 MiB, as Java's `maxMessageSize`);
        /// set it to the broker's `maxMessageSize` when that is raised.
        pub fn max_inflated_body(mut self, bytes: usize) -> Self {
            self.options.max_inflated_body = bytes;
            self
        }

        /// Heartbeat period (30 s).
        pub fn heartbeat_interval(mut self, d: std::time::Duration) -> Self {
            self.options.heartbeat_interval = d;
            self
        }
    };
}
pub(crate) use client_option_setters;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_server_list() {
        assert_eq!(
            parse_name_servers(" 1.1.1.1:9876; ;2.2.2.2:9876;"),
            vec!["1.1.1.1:9876", "2.2.2.2:9876"]
        );
        let mut o = ClientOptions::default();
        assert!(o.validate().is_err());
        o.name_servers = vec!["a:1".into()];
        assert!(o.validate().is_ok());
        o.unique_instance_name();
        assert!(o.instance_name.contains('#'));
    }
}
