//! Broker configuration: RocketMQ's `BrokerConfig`, `NettyServerConfig` and HA keys, read from
//! the same `.properties` files Apache's `mqbroker -c` reads. Store keys belong to
//! [`MessageStoreConfig`]; [`BrokerStartupConfig::load`] applies every pair to both, returns the
//! keys neither knows (the binary warns about each by name) and fails on a bad value naming the
//! key and the value.

use std::path::{Path, PathBuf};

use rmq_common::config::{self, ConfigError, ConfigFields};
use rmq_common::config_fields;

pub use crate::controller_mode::config::ControllerModeConfig;
use rmq_store::{BrokerRole, MessageStoreConfig};

/// Broker keys (`BrokerConfig` + `NettyServerConfig` + HA addressing).
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub rocketmq_home: String,
    pub namesrv_addr: String,
    pub broker_ip1: String,
    pub broker_ip2: String,
    pub broker_name: String,
    pub broker_cluster_name: String,
    pub broker_id: i64,
    pub broker_permission: i32,
    pub default_topic_queue_nums: i32,
    pub auto_create_topic_enable: bool,
    pub cluster_topic_enable: bool,
    pub broker_topic_enable: bool,
    pub auto_create_subscription_group: bool,
    pub send_message_thread_pool_nums: usize,
    pub pull_message_thread_pool_nums: usize,
    pub query_message_thread_pool_nums: usize,
    pub admin_broker_thread_pool_nums: usize,
    pub client_manage_thread_pool_nums: usize,
    pub consumer_manage_thread_pool_nums: usize,
    pub heartbeat_thread_pool_nums: usize,
    pub end_transaction_thread_pool_nums: usize,
    pub send_thread_pool_queue_capacity: usize,
    pub pull_thread_pool_queue_capacity: usize,
    pub flush_consumer_offset_interval: u64,
    pub long_polling_enable: bool,
    /// `enablePropertyFilter`: serve SQL92 subscriptions (filtered on the broker by message
    /// properties); off by default, as in Apache.
    pub enable_property_filter: bool,
    pub short_polling_time_mills: u64,
    pub notify_consumer_ids_changed_enable: bool,
    /// Reset offsets on the broker and move consumers at their next pull (5.x); `false` has
    /// the broker tell each online consumer instead (4.x, RESET_CONSUMER_CLIENT_OFFSET).
    pub use_server_side_reset_offset: bool,
    pub transfer_msg_by_heap: bool,
    pub region_id: String,
    pub register_broker_timeout_mills: u64,
    pub register_name_server_period: u64,
    pub force_register: bool,
    pub slave_read_enable: bool,
    pub broker_fast_failure_enable: bool,
    pub wait_time_mills_in_send_queue: u64,
    pub wait_time_mills_in_pull_queue: u64,
    /// Answered in every send's `TRACE_ON`: clients with message trace on record their sends
    /// only while it is true (Apache's `traceOn`).
    pub trace_on: bool,
    pub trace_topic_enable: bool,
    pub msg_trace_topic_name: String,
    /// Replies (SEND_REPLY_MESSAGE) are stored on the reply topic as well as pushed.
    pub store_reply_message_enable: bool,
    pub transaction_time_out: u64,
    pub transaction_check_max: i32,
    pub transaction_check_interval: u64,
    pub acl_enable: bool,
    /// Apache's `rocketmq.acl.plain.file`; empty: `{rocketmqHome}/conf/plain_acl.yml`.
    pub acl_file: String,
    /// The broker's own account, signing what it sends to name servers and other brokers
    /// when their ACL is on (Apache 5.x keys).
    pub inner_access_key: String,
    pub inner_secret_key: String,
    /// ACL 2.0 (Apache 5.3+): every request proves a user.
    pub authentication_enabled: bool,
    /// ACL 2.0: users other than `Super` ones need an ACL entry for what they do.
    pub authorization_enabled: bool,
    /// Comma-separated request codes that skip authentication / authorization.
    pub authentication_whitelist: String,
    pub authorization_whitelist: String,
    /// `{"username":"…","password":"…"}`: a super user created at start when absent.
    pub init_authentication_user: String,
    /// `{"accessKey":"…","secretKey":"…"}`: the broker's own super user, created at start when
    /// absent, and the account the broker signs its own requests with.
    pub inner_client_authentication_credentials: String,
    /// Apache's pluggable providers and the 1.0 migration: only the built-in ones exist here.
    pub authentication_provider: String,
    pub authorization_provider: String,
    pub authentication_metadata_provider: String,
    pub authorization_metadata_provider: String,
    pub migrate_auth_from_v1_enabled: bool,
    /// Apache's `tls.*` settings: `disabled`, `permissive` (TLS and plain on one port; the
    /// default, as Apache's) or `enforcing`.
    pub tls_server_mode: String,
    pub tls_server_cert_path: String,
    pub tls_server_key_path: String,
    pub tls_server_key_password: String,
    /// `none`, `optional` or `require`.
    pub tls_server_need_client_auth: String,
    pub tls_server_trust_cert_path: String,
    /// Without a certificate of its own, the broker makes a self-signed one at start.
    pub tls_test_mode_enable: bool,
    /// TLS on what the broker sends to name servers and other brokers (Apache's `tls.enable`);
    /// their certificates are not checked (`tls.client.authServer=false`).
    pub tls_enable: bool,
    pub listen_port: u16,
    pub server_worker_threads: usize,
    pub server_channel_max_idle_time_seconds: u64,
    pub ha_listen_port: u16,
    /// Where the gRPC MessagingService (5.x clients) listens; 0 turns it off.
    pub grpc_server_port: u16,
    /// Apache proxy keys, served by the broker's gRPC door: the invisible time of a message
    /// received with `auto_renew` (and each renewal), and the bounds of a receive's invisible
    /// time and long polling, ms.
    pub default_invisible_time_mills: u64,
    pub min_invisible_time_mills_for_recv: u64,
    pub max_invisible_time_mills: u64,
    pub grpc_client_consumer_min_long_polling_timeout_millis: u64,
    pub grpc_client_consumer_max_long_polling_timeout_millis: u64,
    /// The longest a timer message may wait (`TIMER_DELIVER_MS` and friends), seconds.
    pub timer_max_delay_sec: u64,
    pub ha_master_address: String,
    pub ha_send_heartbeat_interval: u64,
    pub ha_housekeeping_interval: u64,
    pub ha_transfer_batch_size: usize,
    pub ha_max_gap_not_in_sync: u64,
    pub slave_timeout: u64,
    pub channel_expired_timeout: u64,
    pub enable_acting_master: bool,
    pub access_message_in_memory_max_ratio: u32,
    pub metrics_exporter_type: String,
    pub metrics_prom_exporter_host: String,
    pub metrics_prom_exporter_port: u16,
    /// `logDir`, an rmq key (Apache sets its log directory with `-Drocketmq.log.root`): where
    /// `broker.log` goes. Empty: `--log-dir`, else `$RMQ_LOG_DIR`, else `~/logs/rocketmqlogs`.
    pub log_dir: String,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        BrokerConfig {
            rocketmq_home: std::env::var("ROCKETMQ_HOME").unwrap_or_default(),
            namesrv_addr: std::env::var("NAMESRV_ADDR").unwrap_or_default(),
            broker_ip1: String::new(),
            broker_ip2: String::new(),
            broker_name: default_broker_name(),
            broker_cluster_name: "DefaultCluster".into(),
            broker_id: 0,
            broker_permission: rmq_common::perm::READ | rmq_common::perm::WRITE,
            default_topic_queue_nums: 8,
            auto_create_topic_enable: true,
            cluster_topic_enable: true,
            broker_topic_enable: true,
            auto_create_subscription_group: true,
            send_message_thread_pool_nums: 4,
            pull_message_thread_pool_nums: 16 + cores * 2,
            query_message_thread_pool_nums: 8 + cores,
            admin_broker_thread_pool_nums: 16,
            client_manage_thread_pool_nums: 32,
            consumer_manage_thread_pool_nums: 32,
            heartbeat_thread_pool_nums: cores.min(32),
            end_transaction_thread_pool_nums: (8 + cores * 2).max(4),
            send_thread_pool_queue_capacity: 10_000,
            pull_thread_pool_queue_capacity: 100_000,
            flush_consumer_offset_interval: 5_000,
            long_polling_enable: true,
            enable_property_filter: false,
            short_polling_time_mills: 1_000,
            notify_consumer_ids_changed_enable: true,
            use_server_side_reset_offset: true,
            transfer_msg_by_heap: true,
            region_id: "DefaultRegion".into(),
            register_broker_timeout_mills: 6_000,
            register_name_server_period: 30_000,
            force_register: true,
            slave_read_enable: false,
            broker_fast_failure_enable: true,
            wait_time_mills_in_send_queue: 200,
            wait_time_mills_in_pull_queue: 5_000,
            trace_on: true,
            trace_topic_enable: false,
            msg_trace_topic_name: "RMQ_SYS_TRACE_TOPIC".into(),
            store_reply_message_enable: true,
            transaction_time_out: 6_000,
            transaction_check_max: 15,
            transaction_check_interval: 30_000,
            acl_enable: false,
            acl_file: String::new(),
            inner_access_key: String::new(),
            inner_secret_key: String::new(),
            authentication_enabled: false,
            authorization_enabled: false,
            authentication_whitelist: String::new(),
            authorization_whitelist: String::new(),
            init_authentication_user: String::new(),
            inner_client_authentication_credentials: String::new(),
            authentication_provider: String::new(),
            authorization_provider: String::new(),
            authentication_metadata_provider: String::new(),
            authorization_metadata_provider: String::new(),
            migrate_auth_from_v1_enabled: false,
            tls_server_mode: "permissive".into(),
            tls_server_cert_path: String::new(),
            tls_server_key_path: String::new(),
            tls_server_key_password: String::new(),
            tls_server_need_client_auth: "none".into(),
            tls_server_trust_cert_path: String::new(),
            tls_test_mode_enable: true,
            tls_enable: false,
            listen_port: 10911,
            server_worker_threads: 8,
            server_channel_max_idle_time_seconds: 120,
            ha_listen_port: 0,
            grpc_server_port: 8081,
            default_invisible_time_mills: 60_000,
            min_invisible_time_mills_for_recv: 10_000,
            max_invisible_time_mills: 12 * 3_600_000,
            grpc_client_consumer_min_long_polling_timeout_millis: 5_000,
            grpc_client_consumer_max_long_polling_timeout_millis: 20_000,
            timer_max_delay_sec: 3 * 86_400,
            ha_master_address: String::new(),
            ha_send_heartbeat_interval: 5_000,
            ha_housekeeping_interval: 20_000,
            ha_transfer_batch_size: 32 * 1024,
            ha_max_gap_not_in_sync: 256 * 1024 * 1024,
            slave_timeout: 3_000,
            channel_expired_timeout: 120_000,
            enable_acting_master: false,
            access_message_in_memory_max_ratio: 40,
            metrics_exporter_type: "DISABLE".into(),
            metrics_prom_exporter_host: String::new(),
            metrics_prom_exporter_port: 5557,
            log_dir: String::new(),
        }
    }
}

fn default_broker_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "DEFAULT_BROKER".into())
}

config_fields!(BrokerConfig {
    rocketmq_home: "rocketmqHome",
    namesrv_addr: "namesrvAddr",
    broker_ip1: "brokerIP1",
    broker_ip2: "brokerIP2",
    broker_name: "brokerName",
    broker_cluster_name: "brokerClusterName",
    broker_id: "brokerId",
    broker_permission: "brokerPermission",
    default_topic_queue_nums: "defaultTopicQueueNums",
    auto_create_topic_enable: "autoCreateTopicEnable",
    cluster_topic_enable: "clusterTopicEnable",
    broker_topic_enable: "brokerTopicEnable",
    auto_create_subscription_group: "autoCreateSubscriptionGroup",
    send_message_thread_pool_nums: "sendMessageThreadPoolNums",
    pull_message_thread_pool_nums: "pullMessageThreadPoolNums",
    query_message_thread_pool_nums: "queryMessageThreadPoolNums",
    admin_broker_thread_pool_nums: "adminBrokerThreadPoolNums",
    client_manage_thread_pool_nums: "clientManageThreadPoolNums",
    consumer_manage_thread_pool_nums: "consumerManageThreadPoolNums",
    heartbeat_thread_pool_nums: "heartbeatThreadPoolNums",
    end_transaction_thread_pool_nums: "endTransactionThreadPoolNums",
    send_thread_pool_queue_capacity: "sendThreadPoolQueueCapacity",
    pull_thread_pool_queue_capacity: "pullThreadPoolQueueCapacity",
    flush_consumer_offset_interval: "flushConsumerOffsetInterval",
    long_polling_enable: "longPollingEnable",
    enable_property_filter: "enablePropertyFilter",
    short_polling_time_mills: "shortPollingTimeMills",
    notify_consumer_ids_changed_enable: "notifyConsumerIdsChangedEnable",
    use_server_side_reset_offset: "useServerSideResetOffset",
    transfer_msg_by_heap: "transferMsgByHeap",
    region_id: "regionId",
    register_broker_timeout_mills: "registerBrokerTimeoutMills",
    register_name_server_period: "registerNameServerPeriod",
    force_register: "forceRegister",
    slave_read_enable: "slaveReadEnable",
    broker_fast_failure_enable: "brokerFastFailureEnable",
    wait_time_mills_in_send_queue: "waitTimeMillsInSendQueue",
    wait_time_mills_in_pull_queue: "waitTimeMillsInPullQueue",
    trace_on: "traceOn",
    trace_topic_enable: "traceTopicEnable",
    msg_trace_topic_name: "msgTraceTopicName",
    store_reply_message_enable: "storeReplyMessageEnable",
    transaction_time_out: "transactionTimeOut",
    transaction_check_max: "transactionCheckMax",
    transaction_check_interval: "transactionCheckInterval",
    acl_enable: "aclEnable",
    acl_file: "aclFile",
    inner_access_key: "innerAccessKey",
    inner_secret_key: "innerSecretKey",
    authentication_enabled: "authenticationEnabled",
    authorization_enabled: "authorizationEnabled",
    authentication_whitelist: "authenticationWhitelist",
    authorization_whitelist: "authorizationWhitelist",
    init_authentication_user: "initAuthenticationUser",
    inner_client_authentication_credentials: "innerClientAuthenticationCredentials",
    authentication_provider: "authenticationProvider",
    authorization_provider: "authorizationProvider",
    authentication_metadata_provider: "authenticationMetadataProvider",
    authorization_metadata_provider: "authorizationMetadataProvider",
    migrate_auth_from_v1_enabled: "migrateAuthFromV1Enabled",
    tls_server_mode: "tls.server.mode",
    tls_server_cert_path: "tls.server.certPath",
    tls_server_key_path: "tls.server.keyPath",
    tls_server_key_password: "tls.server.keyPassword",
    tls_server_need_client_auth: "tls.server.need.client.auth",
    tls_server_trust_cert_path: "tls.server.trustCertPath",
    tls_test_mode_enable: "tls.test.mode.enable",
    tls_enable: "tls.enable",
    listen_port: "listenPort",
    server_worker_threads: "serverWorkerThreads",
    server_channel_max_idle_time_seconds: "serverChannelMaxIdleTimeSeconds",
    ha_listen_port: "haListenPort",
    grpc_server_port: "grpcServerPort",
    default_invisible_time_mills: "defaultInvisibleTimeMills",
    min_invisible_time_mills_for_recv: "minInvisibleTimeMillsForRecv",
    max_invisible_time_mills: "maxInvisibleTimeMills",
    grpc_client_consumer_min_long_polling_timeout_millis:
        "grpcClientConsumerMinLongPollingTimeoutMillis",
    grpc_client_consumer_max_long_polling_timeout_millis:
        "grpcClientConsumerMaxLongPollingTimeoutMillis",
    ha_master_address: "haMasterAddress",
    ha_send_heartbeat_interval: "haSendHeartbeatInterval",
    ha_housekeeping_interval: "haHousekeepingInterval",
    ha_transfer_batch_size: "haTransferBatchSize",
    ha_max_gap_not_in_sync: "haMaxGapNotInSync" | "haSlaveFallbehindMax",
    slave_timeout: "slaveTimeout",
    channel_expired_timeout: "channelExpiredTimeout",
    enable_acting_master: "enableSlaveActingMaster",
    access_message_in_memory_max_ratio: "accessMessageInMemoryMaxRatio",
    metrics_exporter_type: "metricsExporterType",
    metrics_prom_exporter_host: "metricsPromExporterHost",
    metrics_prom_exporter_port: "metricsPromExporterPort",
    log_dir: "logDir",
});

impl BrokerConfig {
    /// The ACL file: `aclFile`, else `conf/plain_acl.yml` under `rocketmqHome` (Apache's
    /// default), else under the working directory.
    pub fn acl_file_path(&self) -> PathBuf {
        if !self.acl_file.is_empty() {
            return PathBuf::from(&self.acl_file);
        }
        Path::new(&self.rocketmq_home)
            .join("conf")
            .join("plain_acl.yml")
    }

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

    /// The broker's own account: `innerAccessKey`/`innerSecretKey` when both are set, else
    /// ACL 2.0's `innerClientAuthenticationCredentials`.
    pub fn inner_credentials(&self) -> Result<Option<rmq_remoting::Credentials>, String> {
        if !self.inner_access_key.is_empty() && !self.inner_secret_key.is_empty() {
            return Ok(Some(rmq_remoting::Credentials::new(
                &self.inner_access_key,
                &self.inner_secret_key,
            )));
        }
        Ok(self
            .inner_client_user()?
            .map(|u| rmq_remoting::Credentials::new(&u.name, &u.password)))
    }

    /// Whether ACL 2.0 checks requests.
    pub fn auth_v2(&self) -> bool {
        self.authentication_enabled || self.authorization_enabled
    }

    /// The user `innerClientAuthenticationCredentials` names.
    pub fn inner_client_user(&self) -> Result<Option<crate::acl::v2::model::User>, String> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Creds {
            access_key: String,
            secret_key: String,
        }
        let text = self.inner_client_authentication_credentials.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let c: Creds = serde_json::from_str(text).map_err(|e| {
            format!(
                "innerClientAuthenticationCredentials={text} is not \
                 {{\"accessKey\":\"…\",\"secretKey\":\"…\"}}: {e}"
            )
        })?;
        start_user(
            &c.access_key,
            &c.secret_key,
            "innerClientAuthenticationCredentials",
        )
        .map(Some)
    }

    /// The user `initAuthenticationUser` names.
    pub fn init_user(&self) -> Result<Option<crate::acl::v2::model::User>, String> {
        #[derive(serde::Deserialize)]
        struct Init {
            username: String,
            password: String,
        }
        let text = self.init_authentication_user.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let u: Init = serde_json::from_str(text).map_err(|e| {
            format!(
                "initAuthenticationUser={text} is not \
                 {{\"username\":\"…\",\"password\":\"…\"}}: {e}"
            )
        })?;
        start_user(&u.username, &u.password, "initAuthenticationUser").map(Some)
    }
}

fn start_user(
    name: &str,
    password: &str,
    key: &str,
) -> Result<crate::acl::v2::model::User, String> {
    use crate::acl::v2::model::{User, UserStatus, UserType};
    if name.trim().is_empty() || password.is_empty() {
        return Err(format!(
            "{key}: the user name and the password must not be empty"
        ));
    }
    Ok(User {
        name: name.trim().to_owned(),
        password: password.to_owned(),
        kind: UserType::Super,
        status: UserStatus::Enable,
    })
}

/// Everything `mqbroker` needs to start: broker keys and store keys.
#[derive(Debug, Clone)]
pub struct BrokerStartupConfig {
    pub broker: BrokerConfig,
    pub store: MessageStoreConfig,
    /// Controller mode (automatic failover).
    pub controller: ControllerModeConfig,
}

impl Default for BrokerStartupConfig {
    fn default() -> Self {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        BrokerStartupConfig {
            broker: BrokerConfig::default(),
            store: MessageStoreConfig::with_root(PathBuf::from(home).join("store")),
            controller: ControllerModeConfig::default(),
        }
    }
}

impl BrokerStartupConfig {
    /// Loads `path` (if any) over the defaults, then applies `namesrv_override` (`-n`).
    /// Returns the config and the keys no section knows.
    pub fn load(
        path: Option<&Path>,
        namesrv_override: Option<&str>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let mut cfg = BrokerStartupConfig::default();
        let mut unknown = Vec::new();
        if let Some(p) = path {
            let pairs = config::read_properties_file(p)?;
            unknown = cfg.apply(&pairs)?;
        }
        if let Some(n) = namesrv_override {
            cfg.broker.namesrv_addr = n.trim().to_owned();
        }
        cfg.validate()?;
        Ok((cfg, unknown))
    }

    /// Applies pairs to both sections; returns unknown keys.
    pub fn apply(&mut self, pairs: &[(String, String)]) -> Result<Vec<String>, ConfigError> {
        // storePathRootDir moves the derived store paths, so apply it first.
        let mut unknown = Vec::new();
        for (k, v) in pairs {
            let a = self.broker.set_field(k, v)?;
            let b = self.store.set_field(k, v)?;
            let c = self.controller.set_field(k, v)?;
            if !a && !b && !c {
                unknown.push(k.clone());
            }
        }
        Ok(unknown)
    }

    /// Cross-key checks that Apache's `BrokerStartup` performs.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        self.controller.validate()?;
        match self.store.broker_role {
            // The controllers decide: a broker starts as a slave that takes nothing until
            // they name its role and id.
            _ if self.controller.enable_controller_mode => {
                self.store.broker_role = BrokerRole::Slave;
            }
            BrokerRole::Slave => {
                if self.broker.broker_id <= 0 {
                    return Err(ConfigError::Invalid {
                        key: "brokerId".into(),
                        reason: format!(
                            "a SLAVE needs brokerId > 0, got {}",
                            self.broker.broker_id
                        ),
                    });
                }
            }
            _ => {
                // Masters are always id 0, as BrokerStartup forces.
                self.broker.broker_id = 0;
            }
        }
        if self.broker.ha_listen_port == 0 {
            self.broker.ha_listen_port = self.broker.listen_port.wrapping_add(1);
        }
        for addr in self.namesrv_addrs() {
            if addr
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .is_none()
            {
                return Err(ConfigError::InvalidValue {
                    key: "namesrvAddr".into(),
                    value: self.broker.namesrv_addr.clone(),
                    expected: "semicolon-separated list of host:port",
                });
            }
        }
        Ok(())
    }

    /// The name server addresses (`namesrvAddr` split on `;`).
    pub fn namesrv_addrs(&self) -> Vec<String> {
        self.broker
            .namesrv_addr
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every effective key, as `mqbroker -p` prints it.
    pub fn render(&self) -> String {
        let mut fields = self.broker.fields();
        fields.extend(self.store.fields());
        fields.extend(self.controller.fields());
        config::render_fields(&fields)
    }
}
