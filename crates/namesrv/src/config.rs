//! [`NamesrvConfig`]: the name server's settings under Apache's key names.
//!
//! Operators keep their `namesrv.properties`; every key Apache's `NamesrvConfig` and the name
//! server's `NettyServerConfig` define is accepted. Keys rmq implements are fields here; keys that
//! only tune Java thread pools or Netty are listed in [`IGNORED_APACHE_KEYS`] and reported as
//! "no effect" rather than as unknown, so a real config file does not drown the log in warnings.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use rmq_common::config::UnappliedKeys;
use rmq_common::config::{self, ConfigError, ConfigFields};
use rmq_common::config_fields;

/// Name server settings (Apache `NamesrvConfig` plus the listening part of `NettyServerConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct NamesrvConfig {
    /// `rocketmqHome` (default `$ROCKETMQ_HOME`); kept for compatibility, rmq reads nothing there.
    pub rocketmq_home: String,
    /// Where the KV config table is persisted (`~/namesrv/kvConfig.json`).
    pub kv_config_path: PathBuf,
    /// `configStorePath` (`~/namesrv/namesrv.properties`); rmq does not rewrite its config.
    pub config_store_path: PathBuf,
    pub product_env_name: String,
    pub cluster_test: bool,
    /// Copy `ORDER_TOPIC_CONFIG/<topic>` into routes as `orderTopicConf` (false).
    pub order_message_enable: bool,
    /// Answer REGISTER_BROKER with the `ORDER_TOPIC_CONFIG` namespace (true).
    pub return_order_topic_config_to_broker: bool,
    /// How often silent brokers are looked for, in milliseconds (5000).
    pub scan_not_active_broker_interval: u64,
    /// Serve GET_ALL_TOPIC_LIST_FROM_NAMESERVER (true).
    pub enable_all_topic_list: bool,
    /// Serve GET_TOPICS_BY_CLUSTER (true).
    pub enable_topic_list: bool,
    /// A master's registration removes its topics it no longer lists (false).
    pub delete_topic_with_broker_registration: bool,
    /// TCP port (9876).
    pub listen_port: u16,
    /// Address to bind (`0.0.0.0`).
    pub bind_address: String,
    /// Close connections idle this long, in seconds (120).
    pub server_channel_max_idle_time_seconds: u64,
    /// `PROM` serves Prometheus metrics; `DISABLE` (default) does not.
    pub metrics_exporter_type: String,
    /// Address of the metrics endpoint (`0.0.0.0` when empty).
    pub metrics_prom_exporter_host: String,
    /// Apache's `tls.*` keys, as the broker reads them (`tls.server.mode`, default permissive).
    pub tls_server_mode: String,
    pub tls_server_cert_path: String,
    pub tls_server_key_path: String,
    pub tls_server_key_password: String,
    pub tls_server_need_client_auth: String,
    pub tls_server_trust_cert_path: String,
    pub tls_test_mode_enable: bool,
    /// Port of the metrics endpoint (5557).
    pub metrics_prom_exporter_port: u16,
    /// `logDir`, an rmq key (Apache sets its log directory with `-Drocketmq.log.root`): where
    /// `namesrv.log` goes. Empty: `--log-dir`, else `$RMQ_LOG_DIR`, else `~/logs/rocketmqlogs`.
    pub log_dir: String,
    /// `enableControllerInNamesrv`: run a controller (controller mode's failover) in this
    /// process, configured by the controller keys of the same file (`controllerDLegerPeers`,
    /// ...; see `mqcontroller`).
    pub enable_controller_in_namesrv: bool,
}

impl NamesrvConfig {
    /// The `tls.*` keys.
    pub fn tls_settings(&self) -> rmq_remoting::TlsSettings {
        rmq_remoting::TlsSettings {
            mode: self.tls_server_mode.clone(),
            cert_path: self.tls_server_cert_path.clone(),
            key_path: self.tls_server_key_path.clone(),
            key_password: self.tls_server_key_password.clone(),
            need_client_auth: self.tls_server_need_client_auth.clone(),
            trust_cert_path: self.tls_server_trust_cert_path.clone(),
            test_mode: self.tls_test_mode_enable,
        }
    }
}

impl Default for NamesrvConfig {
    fn default() -> Self {
        NamesrvConfig {
            rocketmq_home: std::env::var("ROCKETMQ_HOME").unwrap_or_default(),
            kv_config_path: PathBuf::from(config::expand_home("~/namesrv/kvConfig.json")),
            config_store_path: PathBuf::from(config::expand_home("~/namesrv/namesrv.properties")),
            product_env_name: "center".into(),
            cluster_test: false,
            order_message_enable: false,
            return_order_topic_config_to_broker: true,
            scan_not_active_broker_interval: 5_000,
            enable_all_topic_list: true,
            enable_topic_list: true,
            delete_topic_with_broker_registration: false,
            listen_port: 9876,
            bind_address: "0.0.0.0".into(),
            server_channel_max_idle_time_seconds: 120,
            metrics_exporter_type: "DISABLE".into(),
            metrics_prom_exporter_host: String::new(),
            tls_server_mode: "permissive".into(),
            tls_server_cert_path: String::new(),
            tls_server_key_path: String::new(),
            tls_server_key_password: String::new(),
            tls_server_need_client_auth: "none".into(),
            tls_server_trust_cert_path: String::new(),
            tls_test_mode_enable: true,
            metrics_prom_exporter_port: 5557,
            log_dir: String::new(),
            enable_controller_in_namesrv: false,
        }
    }
}

config_fields!(NamesrvConfig {
    rocketmq_home: "rocketmqHome",
    kv_config_path: "kvConfigPath",
    config_store_path: "configStorePath",
    product_env_name: "productEnvName",
    cluster_test: "clusterTest",
    order_message_enable: "orderMessageEnable",
    return_order_topic_config_to_broker: "returnOrderTopicConfigToBroker",
    scan_not_active_broker_interval: "scanNotActiveBrokerInterval",
    enable_all_topic_list: "enableAllTopicList",
    enable_topic_list: "enableTopicList",
    delete_topic_with_broker_registration: "deleteTopicWithBrokerRegistration",
    listen_port: "listenPort",
    bind_address: "bindAddress",
    server_channel_max_idle_time_seconds: "serverChannelMaxIdleTimeSeconds",
    metrics_exporter_type: "metricsExporterType",
    metrics_prom_exporter_host: "metricsPromExporterHost",
    tls_server_mode: "tls.server.mode",
    tls_server_cert_path: "tls.server.certPath",
    tls_server_key_path: "tls.server.keyPath",
    tls_server_key_password: "tls.server.keyPassword",
    tls_server_need_client_auth: "tls.server.need.client.auth",
    tls_server_trust_cert_path: "tls.server.trustCertPath",
    tls_test_mode_enable: "tls.test.mode.enable",
    metrics_prom_exporter_port: "metricsPromExporterPort",
    log_dir: "logDir",
    enable_controller_in_namesrv: "enableControllerInNamesrv",
});

/// Apache keys that tune Java thread pools, Netty or features rmq does not have: accepted, no
/// effect.
pub const IGNORED_APACHE_KEYS: &[&str] = &[
    "clientRequestThreadPoolNums",
    "defaultThreadPoolNums",
    "clientRequestThreadPoolQueueCapacity",
    "defaultThreadPoolQueueCapacity",
    "unRegisterBrokerQueueCapacity",
    "supportActingMaster",
    "notifyMinBrokerIdChanged",
    "needWaitForService",
    "waitSecondsForService",
    "configBlackList",
    "serverWorkerThreads",
    "serverCallbackExecutorThreads",
    "serverSelectorThreads",
    "serverOnewaySemaphoreValue",
    "serverAsyncSemaphoreValue",
    "serverSocketSndBufSize",
    "serverSocketRcvBufSize",
    "serverSocketBacklog",
    "writeBufferHighWaterMark",
    "writeBufferLowWaterMark",
    "serverPooledByteBufAllocatorEnable",
    "useEpollNativeSelector",
    "enableShutdownGracefully",
    "shutdownWaitTimeSeconds",
];

impl NamesrvConfig {
    /// Applies `key=value` pairs over the current values; a bad value is an error naming the key
    /// and the value.
    pub fn apply_pairs(
        &mut self,
        pairs: &[(String, String)],
    ) -> Result<UnappliedKeys, ConfigError> {
        let rest = config::apply(pairs, &mut [self as &mut dyn ConfigFields])?;
        self.validate()?;
        Ok(UnappliedKeys::sort(rest, IGNORED_APACHE_KEYS))
    }

    /// Defaults overlaid with a `.properties` file.
    pub fn from_file(path: &Path) -> Result<(Self, UnappliedKeys), ConfigError> {
        let pairs = config::read_properties_file(path)?;
        let mut cfg = NamesrvConfig::default();
        let keys = cfg.apply_pairs(&pairs)?;
        Ok((cfg, keys))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.scan_not_active_broker_interval == 0 {
            return Err(ConfigError::InvalidValue {
                key: "scanNotActiveBrokerInterval".into(),
                value: "0".into(),
                expected: "positive number of milliseconds",
            });
        }
        Ok(())
    }

    /// The effective settings as `key=value` lines (what `mqnamesrv -p` prints).
    pub fn render(&self) -> String {
        config::render_fields(&self.fields())
    }

    /// The address to listen on.
    pub fn listen_addr(&self) -> String {
        if self.bind_address.contains(':') {
            format!("[{}]:{}", self.bind_address, self.listen_port)
        } else {
            format!("{}:{}", self.bind_address, self.listen_port)
        }
    }

    pub fn scan_interval(&self) -> Duration {
        Duration::from_millis(self.scan_not_active_broker_interval.max(1))
    }

    /// `None` disables the idle timeout (a value of 0).
    pub fn idle_timeout(&self) -> Option<Duration> {
        (self.server_channel_max_idle_time_seconds > 0)
            .then(|| Duration::from_secs(self.server_channel_max_idle_time_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        config::parse_properties(text)
    }

    #[test]
    fn defaults_are_apaches() {
        let c = NamesrvConfig::default();
        assert_eq!(c.listen_port, 9876);
        assert_eq!(c.scan_not_active_broker_interval, 5_000);
        assert!(c.enable_all_topic_list && c.return_order_topic_config_to_broker);
        assert!(!c.order_message_enable);
        assert!(c.kv_config_path.ends_with("namesrv/kvConfig.json"));
        assert!(c.render().contains("listenPort=9876\n"));
    }

    #[test]
    fn applies_keys_and_sorts_out_the_rest() {
        let mut c = NamesrvConfig::default();
        let keys = c
            .apply_pairs(&pairs(
                "listenPort=9877\norderMessageEnable=true\nkvConfigPath=/tmp/kv.json\n\
                 serverWorkerThreads=8\nlistenPrt=1\n",
            ))
            .unwrap();
        assert_eq!(c.listen_port, 9877);
        assert!(c.order_message_enable);
        assert_eq!(c.kv_config_path, PathBuf::from("/tmp/kv.json"));
        assert_eq!(keys.unknown, vec!["listenPrt".to_string()]);
        assert_eq!(keys.ignored, vec!["serverWorkerThreads".to_string()]);
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let mut c = NamesrvConfig::default();
        let e = c
            .apply_pairs(&pairs("listenPort=abc\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("listenPort") && e.contains("abc"), "{e}");
        let e = c
            .apply_pairs(&pairs("scanNotActiveBrokerInterval=0\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("scanNotActiveBrokerInterval"), "{e}");
    }
}
