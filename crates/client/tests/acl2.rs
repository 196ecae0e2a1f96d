//! ACL 2.0 from the outside: a real `mqbroker` with `authenticationEnabled` and
//! `authorizationEnabled`, a super user from `initAuthenticationUser`, users and ACLs written
//! with `mqadmin createUser/createAcl/updateUser`, and `rmq_client` producers and consumers
//! signing as those users. What an ACL allows passes; what it does not, a wrong password, a
//! disabled user, and a `Deny` entry that outranks an `Allow` are each answered NO_PERMISSION
//! naming the user and the resource. Users and ACLs survive a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/collect.rs"]
mod collect;
#[path = "support/until.rs"]
mod until;

use std::time::Duration;

use rmq_client::{Admin, Message, Producer, PushConsumer, TopicConfig, TopicTarget};
use rmq_testkit::{broker_process, namesrv_process, test_dir};
use until::until_within;

const LIMIT: Duration = Duration::from_secs(30);
const ROOT: (&str, &str) = ("rocketmq", "12345678");
const BROKER_CONF: &str = "authenticationEnabled=true\nauthorizationEnabled=true\n\
    initAuthenticationUser={\"username\":\"rocketmq\",\"password\":\"12345678\"}\n";

/// Runs `mqadmin -n NS ARGS…` signed as the super user; returns (success, output).
fn mqadmin(ns: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(rmq_testkit::binary("mqadmin").unwrap())
        .args(["-n", ns])
        .args(args)
        .args(["--access-key", ROOT.0, "--secret-key", ROOT.1])
        .env_remove("ROCKETMQ_HOME")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn must(ns: &str, args: &[&str]) -> String {
    let (ok, text) = mqadmin(ns, args);
    assert!(ok, "mqadmin {args:?}: {text}");
    text
}

async fn producer(ns: &str, user: &str, password: &str) -> Producer {
    Producer::builder()
        .group("Acl2Producers")
        .name_server(ns)
        .credentials(user, password)
        .retry_times_when_send_failed(0)
        .build()
        .await
        .unwrap()
}

async fn refused(p: &Producer, topic: &str) -> String {
    p.send(Message::new(topic, "x"))
        .await
        .expect_err("the send must be refused")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_acls_decide_every_request_and_survive_a_restart() {
    let dir = test_dir("acl2");
    let (_ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (b_d, broker) = broker_process(dir.path(), "broker-a", &ns, BROKER_CONF).unwrap();
    let root = Admin::builder()
        .name_server(&ns)
        .credentials(ROOT.0, ROOT.1)
        .build()
        .await
        .unwrap();
    until_within(LIMIT, "the broker registers", || async {
        root.cluster_info()
            .await
            .ok()
            .filter(|i| !i.broker_addr_table.is_empty())
    })
    .await;

    // Unsigned: refused, saying how to sign. The super user creates the topics.
    let anonymous = Admin::builder().name_server(&ns).build().await.unwrap();
    let text = anonymous
        .create_topic(
            TopicTarget::Broker(broker.clone()),
            &TopicConfig::new("Orders", 4, 4, 6),
        )
        .await
        .expect_err("an unsigned request must be refused")
        .to_string();
    assert!(
        text.contains("NO_PERMISSION") && text.contains("names no user"),
        "{text}"
    );
    anonymous.shutdown().await;
    for topic in ["Orders", "Payments"] {
        root.create_topic(
            TopicTarget::Broker(broker.clone()),
            &TopicConfig::new(topic, 4, 4, 6),
        )
        .await
        .unwrap();
    }

    // Users and ACLs, written with mqadmin as operators do.
    must(
        &ns,
        &["createUser", "-b", &broker, "-u", "alice", "-p", "alice-pw"],
    );
    must(
        &ns,
        &[
            "createUser",
            "-c",
            "DefaultCluster",
            "-u",
            "bob",
            "-p",
            "bob-pw",
        ],
    );
    must(
        &ns,
        &[
            "createAcl",
            "-b",
            &broker,
            "-s",
            "User:alice",
            "-r",
            "Topic:Orders",
            "-a",
            "Pub",
            "-d",
            "Allow",
        ],
    );
    must(
        &ns,
        &[
            "createAcl",
            "-c",
            "DefaultCluster",
            "-s",
            "User:bob",
            "-r",
            "Topic:Orders,Group:Billing",
            "-a",
            "Sub",
            "-d",
            "Allow",
        ],
    );
    let text = must(&ns, &["getUser", "-b", &broker, "-u", "bob"]);
    assert!(
        text.contains("bob") && text.contains("Normal") && text.contains("enable"),
        "{text}"
    );
    let text = must(&ns, &["listAcl", "-b", &broker, "-s", "User:bob"]);
    assert!(
        text.contains("Group:Billing") && text.contains("Sub"),
        "{text}"
    );
    let (ok, text) = mqadmin(
        &ns,
        &[
            "createAcl",
            "-b",
            &broker,
            "-s",
            "User:carol",
            "-r",
            "Topic:Orders",
            "-a",
            "Pub",
            "-d",
            "Allow",
        ],
    );
    assert!(!ok && text.contains("no user carol"), "{text}");

    // alice publishes to Orders; bob may not; a wrong password is refused.
    let alice = producer(&ns, "alice", "alice-pw").await;
    until_within(LIMIT, "alice sends", || async {
        alice.send(Message::new("Orders", "o0")).await.ok()
    })
    .await;
    for i in 1..10 {
        alice
            .send(Message::new("Orders", format!("o{i}")))
            .await
            .unwrap();
    }
    let text = refused(&alice, "Payments").await;
    assert!(
        text.contains("User:alice") && text.contains("Topic:Payments") && text.contains("no entry"),
        "{text}"
    );
    let bob_sends = producer(&ns, "bob", "bob-pw").await;
    let text = refused(&bob_sends, "Orders").await;
    assert!(
        text.contains("User:bob") && text.contains("Pub Topic:Orders"),
        "{text}"
    );
    bob_sends.shutdown().await;
    let wrong = producer(&ns, "alice", "not-her-password").await;
    let text = refused(&wrong, "Orders").await;
    assert!(
        text.contains("signature check failed for user alice"),
        "{text}"
    );
    wrong.shutdown().await;

    // bob consumes everything alice sent, as group Billing.
    let (consumer, got) = collect::collecting(
        PushConsumer::builder()
            .group("Billing")
            .name_server(&ns)
            .credentials("bob", "bob-pw")
            .subscribe("Orders", "*"),
    )
    .await;
    until_within(LIMIT, "bob receives the 10 messages", || async {
        (got.lock().len() >= 10).then_some(())
    })
    .await;
    consumer.shutdown().await;

    // A literal Deny outranks a wildcard Allow: alice may publish anywhere but Orders.
    must(
        &ns,
        &[
            "createAcl",
            "-b",
            &broker,
            "-s",
            "User:alice",
            "-r",
            "Topic:*",
            "-a",
            "Pub",
            "-d",
            "Allow",
        ],
    );
    must(
        &ns,
        &[
            "updateAcl",
            "-b",
            &broker,
            "-s",
            "User:alice",
            "-r",
            "Topic:Orders",
            "-a",
            "Pub",
            "-d",
            "Deny",
        ],
    );
    alice.send(Message::new("Payments", "p0")).await.unwrap();
    let text = refused(&alice, "Orders").await;
    assert!(text.contains("denies it"), "{text}");

    // A disabled user is refused whatever its ACL says.
    must(
        &ns,
        &["updateUser", "-b", &broker, "-u", "alice", "-s", "disable"],
    );
    let text = refused(&alice, "Payments").await;
    assert!(text.contains("user alice is disabled"), "{text}");
    alice.shutdown().await;

    // Users and ACLs are on disk: after a restart the broker still knows them.
    root.shutdown().await;
    b_d.kill().unwrap();
    let (_b_d, broker) = broker_process(dir.path(), "broker-a", &ns, BROKER_CONF).unwrap();
    let root = Admin::builder()
        .name_server(&ns)
        .credentials(ROOT.0, ROOT.1)
        .build()
        .await
        .unwrap();
    let bob = until_within(LIMIT, "the restarted broker answers", || async {
        root.get_user(&broker, "bob").await.ok()
    })
    .await
    .expect("bob survives the restart");
    assert_eq!(bob.password.as_deref(), Some("bob-pw"));
    let acl = root.get_acl(&broker, "User:alice").await.unwrap().unwrap();
    assert_eq!(acl.policies[0].entries.len(), 2, "{acl:?}");
    root.shutdown().await;
}
