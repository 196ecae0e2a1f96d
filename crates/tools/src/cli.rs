//! `mqadmin`'s command line: Apache's camelCase subcommand names and short flags, so scripts
//! written for Apache's `mqadmin` run unchanged (`mqadmin updateTopic -n 127.0.0.1:9876 -c
//! DefaultCluster -t T`), and the dispatch from a parsed command to its family module.

use clap::{Parser, Subcommand};

use crate::session::Session;
use crate::{
    auth, clean, cluster, config, consumer_status, controller, group, message, offset, plain_acl,
    print_msg, stats_all, topic, write_perm,
};

/// Administration of an rmq or Apache RocketMQ cluster.
#[derive(Debug, Parser)]
#[command(name = "mqadmin", version, propagate_version = true)]
pub struct MqAdmin {
    /// Name server addresses, `host:port;host:port` [default: $NAMESRV_ADDR].
    #[arg(short = 'n', long = "namesrvAddr", global = true, value_name = "ADDRS")]
    pub namesrv: Option<String>,
    /// ACL account to sign requests with [default: accessKey in $ROCKETMQ_HOME/conf/tools.yml].
    #[arg(long = "access-key", global = true, value_name = "AK")]
    pub access_key: Option<String>,
    /// The account's secret (with --access-key).
    #[arg(long = "secret-key", global = true, value_name = "SK")]
    pub secret_key: Option<String>,
    /// Connect over TLS (Apache's `-Dtls.enable=true`); server certificates are not checked.
    #[arg(long = "use-tls", global = true)]
    pub use_tls: bool,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// `mqadmin`'s subcommands, by Apache's names.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update a topic on a broker or on every master of a cluster.
    #[command(name = "updateTopic")]
    UpdateTopic(topic::UpdateTopic),
    /// Delete a topic from its brokers and the name servers.
    #[command(name = "deleteTopic")]
    DeleteTopic(topic::DeleteTopic),
    /// List topics (with -c: a cluster's topics and their consumer groups).
    #[command(name = "topicList")]
    TopicList(topic::TopicList),
    /// Show a topic's route: brokers and queues.
    #[command(name = "topicRoute")]
    TopicRoute(topic::TopicRoute),
    /// Show a topic's queues: min/max offset and last update time.
    #[command(name = "topicStatus")]
    TopicStatus(topic::TopicStatus),
    /// List the brokers of every cluster with their runtime figures.
    #[command(name = "clusterList")]
    ClusterList(cluster::ClusterList),
    /// Show every runtime key of one broker.
    #[command(name = "brokerStatus")]
    BrokerStatus(cluster::BrokerStatus),
    /// Show a broker's configuration (-b) or every master's of a cluster (-c).
    #[command(name = "getBrokerConfig")]
    GetBrokerConfig(config::GetBrokerConfig),
    /// Change one key of a broker's configuration while it runs.
    #[command(name = "updateBrokerConfig")]
    UpdateBrokerConfig(config::UpdateBrokerConfig),
    /// Set a key of the name servers' KV config.
    #[command(name = "updateKvConfig")]
    UpdateKvConfig(config::UpdateKvConfig),
    /// Delete a key of the name servers' KV config.
    #[command(name = "deleteKvConfig")]
    DeleteKvConfig(config::DeleteKvConfig),
    /// Delete a broker's expired CommitLog files now (-b), or every master's of a cluster (-c).
    #[command(name = "deleteExpiredCommitLog")]
    DeleteExpiredCommitLog(clean::CleanArgs),
    /// Delete the consume-queue files that point only at deleted CommitLog (-b or -c).
    #[command(name = "cleanExpiredCQ")]
    CleanExpiredCq(clean::CleanArgs),
    /// Take a broker out of the write routes on every name server.
    #[command(name = "wipeWritePerm")]
    WipeWritePerm(write_perm::WritePerm),
    /// Put a broker back into the write routes on every name server.
    #[command(name = "addWritePerm")]
    AddWritePerm(write_perm::WritePerm),
    /// Show how a group of the listed members would share a topic's queues.
    #[command(name = "allocateMQ")]
    AllocateMq(topic::AllocateMq),
    /// Show the clusters serving a topic.
    #[command(name = "topicClusterList")]
    TopicClusterList(topic::TopicClusterList),
    /// Show a producer group's connected clients.
    #[command(name = "producerConnection")]
    ProducerConnection(group::ProducerConnectionArgs),
    /// Create or update a consumer group's config.
    #[command(name = "updateSubGroup")]
    UpdateSubGroup(group::UpdateSubGroup),
    /// Delete a consumer group's config.
    #[command(name = "deleteSubGroup")]
    DeleteSubGroup(group::DeleteSubGroup),
    /// Show a consumer group's progress per queue and its total lag.
    #[command(name = "consumerProgress")]
    ConsumerProgress(offset::ConsumerProgress),
    /// Show what a consumer group's members report: queues, offsets, rates (-i for one).
    #[command(name = "consumerStatus")]
    ConsumerStatus(consumer_status::ConsumerStatus),
    /// Show a consumer group's connected clients and subscriptions.
    #[command(name = "consumerConnection")]
    ConsumerConnection(group::ConsumerConnectionArgs),
    /// Show messages by offset id or client id.
    #[command(name = "queryMsgById")]
    QueryMsgById(message::QueryMsgById),
    /// Show a message by its client id (UNIQ_KEY), or have a member consume it again.
    #[command(name = "queryMsgByUniqueKey")]
    QueryMsgByUniqueKey(message::QueryMsgByUniqueKey),
    /// Find messages by key.
    #[command(name = "queryMsgByKey")]
    QueryMsgByKey(message::QueryMsgByKey),
    /// Show a message's trace: its sends and consumptions (message trace on).
    #[command(name = "queryMsgTraceById")]
    QueryMsgTraceById(crate::trace::QueryMsgTraceById),
    /// Show the message at a queue offset.
    #[command(name = "queryMsgByOffset")]
    QueryMsgByOffset(message::QueryMsgByOffset),
    /// Print every message of a topic, queue by queue (-b/-e: a time range, -s: tags).
    #[command(name = "printMsg")]
    PrintMsg(print_msg::PrintMsg),
    /// Topic and consumer group traffic: backlog, rates, messages in the last 24 hours.
    #[command(name = "statsAll")]
    StatsAll(stats_all::StatsAll),
    /// Send one message.
    #[command(name = "sendMessage")]
    SendMessage(message::SendMessage),
    /// Reset a consumer group's offsets to a point in time (live consumers move too).
    #[command(name = "resetOffsetByTime")]
    ResetOffsetByTime(offset::ResetOffsetByTime),
    /// Controller mode: a controller's group, leader and peers.
    #[command(name = "getControllerMetaData")]
    GetControllerMetaData(controller::GetControllerMetaData),
    /// Controller mode: broker groups' masters, epochs and SyncStateSets.
    #[command(name = "getSyncStateSet")]
    GetSyncStateSet(controller::GetSyncStateSet),
    /// Controller mode: make a replica its group's master.
    #[command(name = "electMaster")]
    ElectMaster(controller::ElectMaster),
    /// Controller mode: make the controllers forget replicas (or a whole group).
    #[command(name = "cleanBrokerMetadata")]
    CleanBrokerMetadata(controller::CleanBrokerMetadata),
    /// Controller mode: the master epochs each broker's CommitLog holds.
    #[command(name = "getBrokerEpoch")]
    GetBrokerEpoch(controller::GetBrokerEpoch),
    /// Controller mode: each controller's settings.
    #[command(name = "getControllerConfig")]
    GetControllerConfig(controller::GetControllerConfig),
    /// ACL 2.0: create a user on a broker or on every broker of a cluster.
    #[command(name = "createUser")]
    CreateUser(auth::CreateUser),
    /// ACL 2.0: change a user's password, type or status.
    #[command(name = "updateUser")]
    UpdateUser(auth::UpdateUser),
    /// ACL 2.0: delete a user.
    #[command(name = "deleteUser")]
    DeleteUser(auth::DeleteUser),
    /// ACL 2.0: show a user.
    #[command(name = "getUser")]
    GetUser(auth::GetUser),
    /// ACL 2.0: list users.
    #[command(name = "listUser")]
    ListUser(auth::ListUser),
    /// ACL 2.0: grant or deny a subject actions on resources.
    #[command(name = "createAcl")]
    CreateAcl(auth::AclArgs),
    /// ACL 2.0: replace a subject's entries for resources.
    #[command(name = "updateAcl")]
    UpdateAcl(auth::AclArgs),
    /// ACL 2.0: delete a subject's entries for resources, or its whole ACL.
    #[command(name = "deleteAcl")]
    DeleteAcl(auth::DeleteAcl),
    /// ACL 2.0: show a subject's ACL.
    #[command(name = "getAcl")]
    GetAcl(auth::GetAcl),
    /// ACL 2.0: list ACLs.
    #[command(name = "listAcl")]
    ListAcl(auth::ListAcl),
    /// ACL 1.0: create or update an account of the brokers' plain_acl.yml.
    #[command(name = "updateAclConfig")]
    UpdateAclConfig(plain_acl::UpdateAclConfig),
    /// ACL 1.0: delete an account of the brokers' plain_acl.yml.
    #[command(name = "deleteAclConfig", alias = "deleteAccessConfig")]
    DeleteAclConfig(plain_acl::DeleteAclConfig),
    /// ACL 1.0: replace the global white remote addresses of the brokers' plain_acl.yml.
    #[command(name = "updateGlobalWhiteAddr")]
    UpdateGlobalWhiteAddr(plain_acl::UpdateGlobalWhiteAddr),
    /// ACL 1.0: show the version of each broker's plain_acl.yml.
    #[command(name = "clusterAclConfigVersion")]
    ClusterAclConfigVersion(plain_acl::ClusterAclConfigVersion),
    /// ACL 1.0: show the accounts and global white addresses a broker has in force.
    #[command(name = "getAclConfig", alias = "getAccessConfigSubCommand")]
    GetAclConfig(plain_acl::GetAclConfig),
}

impl Command {
    /// Whether the command asks the name servers (controller commands need them only to list
    /// a cluster's groups).
    fn needs_name_server(&self) -> bool {
        if let Some(b) = self.auth_brokers() {
            return b.is_cluster();
        }
        match self {
            Command::GetControllerMetaData(_)
            | Command::ElectMaster(_)
            | Command::CleanBrokerMetadata(_)
            | Command::GetControllerConfig(_) => false,
            Command::GetSyncStateSet(a) => a.cluster.is_some(),
            _ => true,
        }
    }

    /// Where an ACL 1.0 or 2.0 command acts (they need the name servers only to list a
    /// cluster's brokers).
    fn auth_brokers(&self) -> Option<&auth::Brokers> {
        match self {
            Command::CreateUser(a) => Some(&a.brokers),
            Command::UpdateUser(a) => Some(&a.brokers),
            Command::DeleteUser(a) => Some(&a.brokers),
            Command::GetUser(a) => Some(&a.brokers),
            Command::ListUser(a) => Some(&a.brokers),
            Command::CreateAcl(a) | Command::UpdateAcl(a) => Some(&a.brokers),
            Command::DeleteAcl(a) => Some(&a.brokers),
            Command::GetAcl(a) => Some(&a.brokers),
            Command::ListAcl(a) => Some(&a.brokers),
            Command::UpdateAclConfig(a) => Some(&a.brokers),
            Command::DeleteAclConfig(a) => Some(&a.brokers),
            Command::UpdateGlobalWhiteAddr(a) => Some(&a.brokers),
            Command::ClusterAclConfigVersion(a) => Some(&a.brokers),
            Command::GetAclConfig(a) => Some(&a.brokers),
            _ => None,
        }
    }
}

/// Apache's two-letter short flag `-bn` (brokerName, in the controller commands) as the long
/// flag clap knows; every other argument as given.
pub fn apache_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    args.into_iter()
        .map(|a| if a == "-bn" { "--brokerName".into() } else { a })
        .collect()
}

/// Runs one parsed `mqadmin` invocation.
pub async fn run(cli: MqAdmin) -> anyhow::Result<()> {
    let namesrv = match cli.namesrv {
        Some(n) => n,
        None => std::env::var("NAMESRV_ADDR").unwrap_or_default(),
    };
    let credentials =
        crate::credentials::resolve(cli.access_key.as_deref(), cli.secret_key.as_deref())?;
    let session = if namesrv.is_empty() && !cli.command.needs_name_server() {
        Session::without_name_server(cli.json, credentials, cli.use_tls).await?
    } else {
        Session::new(&namesrv, cli.json, credentials, cli.use_tls).await?
    };
    let s = &session;
    let result = match &cli.command {
        Command::UpdateTopic(a) => topic::update_topic(s, a).await,
        Command::DeleteTopic(a) => topic::delete_topic(s, a).await,
        Command::TopicList(a) => topic::topic_list(s, a).await,
        Command::TopicRoute(a) => topic::topic_route(s, a).await,
        Command::TopicStatus(a) => topic::topic_status(s, a).await,
        Command::ClusterList(a) => cluster::cluster_list(s, a).await,
        Command::BrokerStatus(a) => cluster::broker_status(s, a).await,
        Command::GetBrokerConfig(a) => config::get_broker_config(s, a).await,
        Command::UpdateBrokerConfig(a) => config::update_broker_config(s, a).await,
        Command::UpdateKvConfig(a) => config::update_kv_config(s, a).await,
        Command::WipeWritePerm(a) => write_perm::write_perm(s, a, true).await,
        Command::AddWritePerm(a) => write_perm::write_perm(s, a, false).await,
        Command::TopicClusterList(a) => topic::topic_cluster_list(s, a).await,
        Command::AllocateMq(a) => topic::allocate_mq(s, a).await,
        Command::DeleteExpiredCommitLog(a) => clean::clean(s, a, clean::Cleanup::CommitLog).await,
        Command::CleanExpiredCq(a) => clean::clean(s, a, clean::Cleanup::ConsumeQueues).await,
        Command::ProducerConnection(a) => group::producer_connection(s, a).await,
        Command::DeleteKvConfig(a) => config::delete_kv_config(s, a).await,
        Command::UpdateSubGroup(a) => group::update_sub_group(s, a).await,
        Command::DeleteSubGroup(a) => group::delete_sub_group(s, a).await,
        Command::ConsumerProgress(a) => offset::consumer_progress(s, a).await,
        Command::ConsumerConnection(a) => group::consumer_connection(s, a).await,
        Command::ConsumerStatus(a) => consumer_status::consumer_status(s, a).await,
        Command::QueryMsgById(a) => message::query_msg_by_id(s, a).await,
        Command::QueryMsgByKey(a) => message::query_msg_by_key(s, a).await,
        Command::QueryMsgTraceById(a) => crate::trace::query_msg_trace_by_id(s, a).await,
        Command::QueryMsgByUniqueKey(a) => message::query_msg_by_unique_key(s, a).await,
        Command::QueryMsgByOffset(a) => message::query_msg_by_offset(s, a).await,
        Command::SendMessage(a) => message::send_message(s, a).await,
        Command::PrintMsg(a) => print_msg::print_msg(s, a).await,
        Command::StatsAll(a) => stats_all::stats_all(s, a).await,
        Command::ResetOffsetByTime(a) => offset::reset_offset_by_time(s, a).await,
        Command::GetControllerMetaData(a) => controller::get_controller_metadata(s, a).await,
        Command::GetSyncStateSet(a) => controller::get_sync_state_set(s, a).await,
        Command::ElectMaster(a) => controller::elect_master(s, a).await,
        Command::CleanBrokerMetadata(a) => controller::clean_broker_metadata(s, a).await,
        Command::GetControllerConfig(a) => controller::get_controller_config(s, a).await,
        Command::GetBrokerEpoch(a) => controller::get_broker_epoch(s, a).await,
        Command::CreateUser(a) => auth::create_user(s, a).await,
        Command::UpdateUser(a) => auth::update_user(s, a).await,
        Command::DeleteUser(a) => auth::delete_user(s, a).await,
        Command::GetUser(a) => auth::get_user(s, a).await,
        Command::ListUser(a) => auth::list_user(s, a).await,
        Command::CreateAcl(a) => auth::create_acl(s, a).await,
        Command::UpdateAcl(a) => auth::update_acl(s, a).await,
        Command::DeleteAcl(a) => auth::delete_acl(s, a).await,
        Command::GetAcl(a) => auth::get_acl(s, a).await,
        Command::ListAcl(a) => auth::list_acl(s, a).await,
        Command::UpdateAclConfig(a) => plain_acl::update_acl_config(s, a).await,
        Command::DeleteAclConfig(a) => plain_acl::delete_acl_config(s, a).await,
        Command::UpdateGlobalWhiteAddr(a) => plain_acl::update_global_white_addr(s, a).await,
        Command::ClusterAclConfigVersion(a) => plain_acl::cluster_acl_config_version(s, a).await,
        Command::GetAclConfig(a) => plain_acl::get_acl_config(s, a).await,
    };
    session.close().await;
    result
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definition_is_consistent() {
        MqAdmin::command().debug_assert();
    }

    #[test]
    fn apache_spelling_parses() {
        let cli = MqAdmin::try_parse_from([
            "mqadmin",
            "updateTopic",
            "-n",
            "127.0.0.1:9876",
            "-c",
            "DefaultCluster",
            "-t",
            "T",
            "-o",
            "true",
        ]);
        let Ok(MqAdmin {
            namesrv,
            command: Command::UpdateTopic(a),
            ..
        }) = cli
        else {
            panic!("updateTopic did not parse: {cli:?}");
        };
        assert_eq!(namesrv.as_deref(), Some("127.0.0.1:9876"));
        assert_eq!((a.topic.as_str(), a.order, a.read_queues), ("T", true, 8));
        assert!(MqAdmin::try_parse_from(["mqadmin", "updateTopic", "-t", "T"]).is_err());
        assert!(MqAdmin::try_parse_from([
            "mqadmin",
            "updateSubGroup",
            "-g",
            "G",
            "-b",
            "1.2.3.4:5",
            "-s",
            "false",
            "-q",
            "3"
        ])
        .is_ok());
        let elect = MqAdmin::try_parse_from(apache_args(
            [
                "mqadmin",
                "electMaster",
                "-a",
                "127.0.0.1:9878",
                "-b",
                "2",
                "-bn",
                "broker-a",
                "-c",
                "C",
            ]
            .map(std::ffi::OsString::from),
        ));
        let Ok(MqAdmin {
            command: Command::ElectMaster(a),
            ..
        }) = elect
        else {
            panic!("electMaster -bn did not parse: {elect:?}");
        };
        assert_eq!((a.broker_id, a.broker_name.as_str()), (2, "broker-a"));
    }

    #[test]
    fn acl_commands_take_apaches_flags() {
        let parse = |args: &[&str]| MqAdmin::try_parse_from(["mqadmin"].iter().chain(args));
        let acl = parse(&[
            "createAcl",
            "-c",
            "DefaultCluster",
            "-s",
            "User:alice",
            "-r",
            "Topic:T1,Group:G*",
            "-a",
            "Pub,Sub",
            "-i",
            "10.0.0.0/8",
            "-d",
            "Allow",
        ]);
        let Ok(MqAdmin {
            command: Command::CreateAcl(a),
            ..
        }) = &acl
        else {
            panic!("createAcl did not parse: {acl:?}");
        };
        assert_eq!(a.brokers.cluster.as_deref(), Some("DefaultCluster"));
        assert_eq!(a.source_ip.as_deref(), Some("10.0.0.0/8"));
        let Ok(cli) = &acl else { return };
        assert!(cli.command.needs_name_server());
        let user = parse(&["createUser", "-b", "1.2.3.4:10911", "-u", "u", "-p", "p"]);
        assert!(user.is_ok_and(|c| !c.command.needs_name_server()));
        // -b or -c, exactly one.
        assert!(parse(&["getUser", "-u", "u"]).is_err());
        assert!(parse(&["getUser", "-u", "u", "-b", "a:1", "-c", "C"]).is_err());
        // updateUser needs something to change.
        assert!(parse(&["updateUser", "-b", "a:1", "-u", "u"]).is_err());
        assert!(parse(&["updateUser", "-b", "a:1", "-u", "u", "-s", "disable"]).is_ok());
        assert!(parse(&["deleteAcl", "-b", "a:1", "-s", "User:u"]).is_ok());
        assert!(parse(&["listAcl", "-c", "C", "-s", "User:", "-r", "Topic:"]).is_ok());
        assert!(parse(&["listUser", "-c", "C", "-f", "al"]).is_ok());
    }

    #[test]
    fn acl_1_commands_take_apache_4_flags() {
        let parse = |args: &[&str]| MqAdmin::try_parse_from(["mqadmin"].iter().chain(args));
        let update = parse(&[
            "updateAclConfig",
            "-b",
            "1.2.3.4:10911",
            "-a",
            "RocketMQ",
            "-s",
            "12345678",
            "-w",
            "192.168.0.*",
            "-i",
            "DENY",
            "-u",
            "SUB",
            "-t",
            "topicA=DENY,topicD=SUB",
            "-g",
            "groupA=PUB|SUB",
            "-m",
            "true",
        ]);
        let Ok(MqAdmin {
            command: Command::UpdateAclConfig(a),
            ..
        }) = &update
        else {
            panic!("updateAclConfig did not parse: {update:?}");
        };
        assert_eq!(
            (
                a.access_key.as_str(),
                a.secret_key.as_deref(),
                a.admin.as_deref()
            ),
            ("RocketMQ", Some("12345678"), Some("true"))
        );
        assert_eq!(a.topic_perms.as_deref(), Some("topicA=DENY,topicD=SUB"));
        assert_eq!(a.default_group_perm.as_deref(), Some("SUB"));
        // -a and -s are the account's, not the signing account (--access-key, --secret-key).
        assert!(update.is_ok_and(|c| !c.command.needs_name_server()
            && c.access_key.is_none()
            && c.secret_key.is_none()));
        let signed = parse(&[
            "deleteAclConfig",
            "--access-key",
            "rmqadmin",
            "--secret-key",
            "admin-secret",
            "-b",
            "a:1",
            "-a",
            "RocketMQ",
        ]);
        let Ok(MqAdmin {
            access_key,
            command: Command::DeleteAclConfig(d),
            ..
        }) = &signed
        else {
            panic!("deleteAclConfig did not parse: {signed:?}");
        };
        assert_eq!(
            (access_key.as_deref(), d.access_key.as_str()),
            (Some("rmqadmin"), "RocketMQ")
        );
        // -a is required; -b or -c, exactly one.
        assert!(parse(&["updateAclConfig", "-b", "a:1"]).is_err());
        assert!(parse(&["updateAclConfig", "-a", "RocketMQ"]).is_err());
        assert!(parse(&["deleteAclConfig", "-b", "a:1", "-c", "C", "-a", "RocketMQ"]).is_err());
        let delete = parse(&["deleteAccessConfig", "-c", "C", "-a", "RocketMQ"]);
        assert!(delete
            .is_ok_and(|c| matches!(c.command, Command::DeleteAclConfig(_))
                && c.command.needs_name_server()));
        // An empty -g clears the list; -p is accepted.
        let white = parse(&[
            "updateGlobalWhiteAddr",
            "-b",
            "a:1",
            "-g",
            "",
            "-p",
            "/x.yml",
        ]);
        let Ok(MqAdmin {
            command: Command::UpdateGlobalWhiteAddr(w),
            ..
        }) = &white
        else {
            panic!("updateGlobalWhiteAddr did not parse: {white:?}");
        };
        assert_eq!(
            (w.addresses.as_str(), w.acl_file_full_path.as_deref()),
            ("", Some("/x.yml"))
        );
        assert!(parse(&["updateGlobalWhiteAddr", "-b", "a:1"]).is_err());
        assert!(parse(&["clusterAclConfigVersion", "-c", "C"]).is_ok());
        assert!(parse(&["clusterAclConfigVersion"]).is_err());
        assert!(parse(&["getAclConfig", "-b", "a:1"]).is_ok());
        let get = parse(&["getAccessConfigSubCommand", "-c", "C"]);
        assert!(get.is_ok_and(|c| matches!(c.command, Command::GetAclConfig(_))));
    }
}
