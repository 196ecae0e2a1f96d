//! ACL 1.0 from the outside: a real `mqbroker` with `aclEnable=true` and a `plain_acl.yml`,
//! clients signing with `rmq_client` credentials. Allowed sends and consumes pass; a wrong
//! secret, a missing account and a missing permission are each answered NO_PERMISSION with a
//! remark naming what is wrong; rewriting the file changes permissions under load without a
//! reconnect, and a broken file keeps the rules in force.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/collect.rs"]
mod collect;
#[path = "support/until.rs"]
mod until;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rmq_client::{Admin, Message, Producer, PushConsumer, TopicConfig, TopicTarget};
use rmq_testkit::{broker_process, namesrv_process, test_dir, Daemon};
use until::until_within;

const TOPIC: &str = "AclTopic";
const GROUP: &str = "AclGroup";
const LIMIT: Duration = Duration::from_secs(30);

fn rules(producer_perm: &str) -> String {
    format!(
        "\
accounts:
  - accessKey: rmqadmin
    secretKey: admin-secret
    admin: true
  - accessKey: producer1
    secretKey: producer-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms:
      - {TOPIC}={producer_perm}
  - accessKey: consumer1
    secretKey: consumer-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms:
      - {TOPIC}=SUB
    groupPerms:
      - {GROUP}=SUB
"
    )
}

struct Cluster {
    dir: tempfile::TempDir,
    daemons: Vec<Daemon>,
    ns: String,
    broker: String,
    acl_file: PathBuf,
}

async fn cluster() -> Cluster {
    let dir = test_dir("acl");
    let acl_file = dir.path().join("plain_acl.yml");
    std::fs::write(&acl_file, rules("PUB")).unwrap();
    let (ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let extra = format!("aclEnable=true\naclFile={}\n", acl_file.display());
    let (b_d, broker) = broker_process(dir.path(), "broker-a", &ns, &extra).unwrap();
    // The name servers do not check ACL: wait there until the broker has registered, so a
    // refusal below is the broker's and not an unknown cluster.
    let ns_admin = Admin::builder().name_server(&ns).build().await.unwrap();
    until_within(LIMIT, "the broker registers", || async {
        ns_admin
            .cluster_info()
            .await
            .ok()
            .filter(|i| !i.broker_addr_table.is_empty())
    })
    .await;
    ns_admin.shutdown().await;
    Cluster {
        dir,
        daemons: vec![ns_d, b_d],
        ns,
        broker,
        acl_file,
    }
}

impl Cluster {
    async fn admin(&self, credentials: Option<(&str, &str)>) -> Admin {
        let mut b = Admin::builder().name_server(&self.ns);
        if let Some((ak, sk)) = credentials {
            b = b.credentials(ak, sk);
        }
        b.build().await.unwrap()
    }

    async fn producer(&self, ak: &str, sk: &str) -> Producer {
        Producer::builder()
            .group("AclProducers")
            .name_server(&self.ns)
            .credentials(ak, sk)
            .retry_times_when_send_failed(0)
            .heartbeat_interval(Duration::from_secs(1))
            .build()
            .await
            .unwrap()
    }

    fn broker_log(&self) -> String {
        self.daemons[1].log_text()
    }
}

/// The error text of a send that must be refused.
async fn refused(p: &Producer, body: &str) -> String {
    let e = p
        .send(Message::new(TOPIC, body.to_owned()))
        .await
        .expect_err("the send must be refused");
    e.to_string()
}

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_requests_pass_and_the_others_are_refused_by_name() {
    let c = cluster().await;
    let cluster_name = "DefaultCluster".to_owned();

    // Creating a topic is an admin request: refused unsigned, allowed for the admin account.
    let anonymous = c.admin(None).await;
    let e = anonymous
        .create_topic(
            TopicTarget::Cluster(cluster_name.clone()),
            &TopicConfig::new(TOPIC, 4, 4, 6),
        )
        .await
        .expect_err("an unsigned admin request must be refused");
    let text = e.to_string();
    assert!(
        text.contains("NO_PERMISSION") && text.contains("AccessKey"),
        "{text}"
    );
    anonymous.shutdown().await;
    let admin = c.admin(Some(("rmqadmin", "admin-secret"))).await;
    until_within(LIMIT, "the admin account creates the topic", || async {
        admin
            .create_topic(
                TopicTarget::Cluster(cluster_name.clone()),
                &TopicConfig::new(TOPIC, 4, 4, 6),
            )
            .await
            .ok()
    })
    .await;
    let not_admin = c.admin(Some(("consumer1", "consumer-secret"))).await;
    let text = not_admin
        .create_topic(
            TopicTarget::Cluster(cluster_name.clone()),
            &TopicConfig::new("Other", 4, 4, 6),
        )
        .await
        .expect_err("a non-admin account must not create topics")
        .to_string();
    assert!(
        text.contains("admin") && text.contains("consumer1"),
        "{text}"
    );
    not_admin.shutdown().await;

    // The producer account sends; the route must exist first.
    let producer = c.producer("producer1", "producer-secret").await;
    until_within(LIMIT, "producer1 sends", || async {
        producer.send(Message::new(TOPIC, "m0")).await.ok()
    })
    .await;
    for i in 1..10 {
        producer
            .send(Message::new(TOPIC, format!("m{i}")))
            .await
            .unwrap();
    }

    // A wrong secret, an unknown account, and an account without PUB.
    let wrong = c.producer("producer1", "not-the-secret").await;
    let text = refused(&wrong, "x").await;
    assert!(
        text.contains("NO_PERMISSION") && text.contains("signature"),
        "{text}"
    );
    wrong.shutdown().await;
    let unknown = c.producer("nobody12", "whatever").await;
    let text = refused(&unknown, "x").await;
    assert!(text.contains("no account accessKey=nobody12"), "{text}");
    unknown.shutdown().await;
    let sub_only = c.producer("consumer1", "consumer-secret").await;
    let text = refused(&sub_only, "x").await;
    assert!(
        text.contains("consumer1")
            && text.contains("PUB")
            && text.contains(&format!("topic {TOPIC}")),
        "{text}"
    );
    sub_only.shutdown().await;

    // The consumer account consumes everything producer1 sent.
    let (consumer, got) = collect::collecting(
        PushConsumer::builder()
            .group(GROUP)
            .name_server(&c.ns)
            .credentials("consumer1", "consumer-secret")
            .subscribe(TOPIC, "*"),
    )
    .await;
    until_within(LIMIT, "consumer1 receives the 10 messages", || async {
        (got.lock().len() >= 10).then_some(())
    })
    .await;
    consumer.shutdown().await;

    let log = c.broker_log();
    assert!(!log.contains("panicked"), "{log}");
    producer.shutdown().await;
    admin.shutdown().await;
    drop(c.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_applies_under_load_without_a_reconnect() {
    let c = cluster().await;
    let admin = c.admin(Some(("rmqadmin", "admin-secret"))).await;
    until_within(LIMIT, "the admin account creates the topic", || async {
        admin
            .create_topic(
                TopicTarget::Cluster("DefaultCluster".into()),
                &TopicConfig::new(TOPIC, 4, 4, 6),
            )
            .await
            .ok()
    })
    .await;
    let producer = Arc::new(c.producer("producer1", "producer-secret").await);
    until_within(LIMIT, "producer1 sends", || async {
        producer.send(Message::new(TOPIC, "first")).await.ok()
    })
    .await;

    // Load: one task sends without pause and counts what is accepted and what is refused.
    let (ok, denied) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let stop = tokio_util::sync::CancellationToken::new();
    let load = {
        let (p, ok, denied, stop) = (producer.clone(), ok.clone(), denied.clone(), stop.clone());
        tokio::spawn(async move {
            let mut other = Vec::new();
            while !stop.is_cancelled() {
                match p.send(Message::new(TOPIC, "load")).await {
                    Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                    Err(e) if e.to_string().contains("NO_PERMISSION") => {
                        denied.fetch_add(1, Ordering::SeqCst)
                    }
                    Err(e) => {
                        other.push(e.to_string());
                        0
                    }
                };
            }
            other
        })
    };
    let connections_before = until_within(LIMIT, "the producer's connection is known", || async {
        Some(connections(&c).await).filter(|v| !v.is_empty())
    })
    .await;

    // Take PUB away: sends start being refused.
    write_atomically(&c.acl_file, &rules("SUB"));
    let denied_at = until_within(
        LIMIT,
        "sends are refused after the file drops PUB",
        || async {
            let d = denied.load(Ordering::SeqCst);
            (d > 0).then_some(d)
        },
    )
    .await;
    assert!(denied_at > 0);

    // A broken file is logged with its line and changes nothing.
    std::fs::write(
        &c.acl_file,
        "accounts:\n  - accessKey: producer1\n    secretKey: [\n",
    )
    .unwrap();
    until_within(LIMIT, "the broker logs the broken file", || async {
        c.broker_log()
            .contains("the rules read before stay in force")
            .then_some(())
    })
    .await;
    let log = c.broker_log();
    assert!(log.contains("line "), "the error names no line: {log}");
    let before = denied.load(Ordering::SeqCst);
    until_within(
        LIMIT,
        "sends are still refused under the broken file",
        || async { (denied.load(Ordering::SeqCst) > before + 5).then_some(()) },
    )
    .await;

    // Give PUB back: sends are accepted again.
    write_atomically(&c.acl_file, &rules("PUB"));
    let accepted = ok.load(Ordering::SeqCst);
    until_within(LIMIT, "sends are accepted again", || async {
        (ok.load(Ordering::SeqCst) > accepted + 5).then_some(())
    })
    .await;
    stop.cancel();
    let other = load.await.unwrap();
    assert!(
        other.is_empty(),
        "sends failed for other reasons: {other:?}"
    );
    // Every send went over the connections opened before the first change.
    assert_eq!(
        connections(&c).await,
        connections_before,
        "a client reconnected"
    );
    admin.shutdown().await;
    drop(c.dir);
}

/// The client addresses (with their ports) of the producers connected to the broker: a
/// reconnect would show a new port.
async fn connections(c: &Cluster) -> Vec<String> {
    let admin = c.admin(Some(("rmqadmin", "admin-secret"))).await;
    let conns = admin
        .producer_connection(&c.broker, "AclProducers")
        .await
        .map(|p| {
            p.connection_set
                .into_iter()
                .map(|c| c.client_addr)
                .collect()
        })
        .unwrap_or_default();
    admin.shutdown().await;
    conns
}

/// `mqadmin` as a process: refused without an account, with the advice to give one; accepted
/// with `--access-key/--secret-key`, and with `$ROCKETMQ_HOME/conf/tools.yml` as Apache's reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqadmin_signs_with_flags_or_the_tools_file() {
    let c = cluster().await;
    let bin = rmq_testkit::binary("mqadmin").unwrap();
    let run = |args: Vec<String>, home: Option<PathBuf>| {
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(["-n", &c.ns])
            .args(args)
            .env_remove("ROCKETMQ_HOME");
        if let Some(home) = home {
            cmd.env("ROCKETMQ_HOME", home);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let update = |topic: &str| -> Vec<String> {
        ["updateTopic", "-c", "DefaultCluster", "-t", topic]
            .map(str::to_owned)
            .to_vec()
    };
    let (ok, text) = run(update("ToolAcl1"), None);
    assert!(
        !ok && text.contains("NO_PERMISSION") && text.contains("--access-key"),
        "{text}"
    );
    let mut signed = update("ToolAcl1");
    signed.extend(["--access-key", "rmqadmin", "--secret-key", "admin-secret"].map(str::to_owned));
    let (ok, text) = run(signed, None);
    assert!(ok && text.contains("success"), "{text}");
    let home = c.dir.path().join("home");
    std::fs::create_dir_all(home.join("conf")).unwrap();
    std::fs::write(
        home.join("conf/tools.yml"),
        "accessKey: rmqadmin\nsecretKey: admin-secret\n",
    )
    .unwrap();
    let (ok, text) = run(update("ToolAcl2"), Some(home.clone()));
    assert!(ok && text.contains("success"), "{text}");

    // The ACL 1.0 commands edit and read the broker's file.
    let acl = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let (ok, text) = run(
        acl(&[
            "updateAclConfig",
            "-b",
            &c.broker,
            "-a",
            "toolnew",
            "-s",
            "toolnew-secret",
            "-i",
            "PUB",
        ]),
        Some(home.clone()),
    );
    assert!(
        ok && text.contains("create or update plain access config"),
        "{text}"
    );
    assert!(std::fs::read_to_string(&c.acl_file)
        .unwrap()
        .contains("toolnew"));
    let (ok, text) = run(acl(&["getAclConfig", "-b", &c.broker]), Some(home.clone()));
    assert!(ok && text.contains("toolnew"), "{text}");
    let (ok, text) = run(
        acl(&["clusterAclConfigVersion", "-c", "DefaultCluster"]),
        Some(home.clone()),
    );
    assert!(ok && text.contains("broker-a"), "{text}");
    let (ok, text) = run(
        acl(&[
            "updateAclConfig",
            "-b",
            &c.broker,
            "-a",
            "toolnew",
            "-i",
            "WRITE",
        ]),
        Some(home.clone()),
    );
    assert!(
        !ok && text.contains("WRITE"),
        "a bad permission must be refused: {text}"
    );
    let (ok, text) = run(
        acl(&["deleteAclConfig", "-b", &c.broker, "-a", "toolnew"]),
        Some(home),
    );
    assert!(ok && text.contains("delete plain access config"), "{text}");
}

/// The ACL 1.0 admin codes edit `plain_acl.yml` through the broker: an account created by an
/// admin can send at once and is in the file; a non-admin may not edit; a deleted account is
/// refused; the version moves with each change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_edit_the_accounts_through_the_broker() {
    let c = cluster().await;
    let admin = c.admin(Some(("rmqadmin", "admin-secret"))).await;
    until_within(LIMIT, "the admin account creates the topic", || async {
        admin
            .create_topic(
                TopicTarget::Cluster("DefaultCluster".into()),
                &TopicConfig::new(TOPIC, 4, 4, 6),
            )
            .await
            .ok()
    })
    .await;
    let before = admin.acl_config_version(&c.broker).await.unwrap();
    let account = rmq_client::CreateAccessConfigRequestHeader {
        access_key: Some("newcomer".into()),
        secret_key: Some("newcomer-secret".into()),
        default_topic_perm: Some("PUB".into()),
        ..Default::default()
    };
    let not_admin = c.admin(Some(("consumer1", "consumer-secret"))).await;
    let text = not_admin
        .update_acl_config(&c.broker, &account)
        .await
        .expect_err("only an admin account may edit the file")
        .to_string();
    assert!(
        text.contains("admin") && text.contains("consumer1"),
        "{text}"
    );
    not_admin.shutdown().await;

    admin.update_acl_config(&c.broker, &account).await.unwrap();
    assert!(std::fs::read_to_string(&c.acl_file)
        .unwrap()
        .contains("newcomer"));
    let newcomer = c.producer("newcomer", "newcomer-secret").await;
    newcomer.send(Message::new(TOPIC, "hello")).await.unwrap();
    let body = admin.acl_config(&c.broker).await.unwrap();
    assert!(body
        .plain_access_configs
        .iter()
        .any(|a| a.access_key == "newcomer" && a.default_topic_perm.as_deref() == Some("PUB")));
    let after = admin.acl_config_version(&c.broker).await.unwrap();
    assert_ne!(before.version, after.version);
    assert_eq!(after.broker_name.as_deref(), Some("broker-a"));

    // Bad input is refused by name and changes nothing.
    let short = rmq_client::CreateAccessConfigRequestHeader {
        access_key: Some("abc".into()),
        secret_key: Some("abc".into()),
        ..Default::default()
    };
    let text = admin
        .update_acl_config(&c.broker, &short)
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("shorter than 6"), "{text}");

    admin
        .delete_acl_config(&c.broker, "newcomer")
        .await
        .unwrap();
    let text = refused(&newcomer, "gone").await;
    assert!(text.contains("no account accessKey=newcomer"), "{text}");
    newcomer.shutdown().await;
    admin.shutdown().await;
}
