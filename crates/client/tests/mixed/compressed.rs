//! Compressed bodies between the official Java client and rmq_client: bodies over the
//! compression threshold sent by one are read intact by the other, with zlib (every client) and
//! with 5.x's LZ4 and zstd (the compression type in the message's sysFlag), over an rmq cluster.

use std::collections::BTreeSet;

use rmq_client::{Compression, Message, Producer};
use rmq_testkit::{broker_process, namesrv_process, test_dir};

use crate::java;
use crate::traffic::{create_topic, rmq_consume};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn compressed_bodies_between_java_and_rmq_client() {
    // The 4.x Java client compresses with zlib only; 5.x with LZ4 and zstd as well.
    let kinds: &[(&str, Compression)] = if crate::apache::version().starts_with('4') {
        &[("ZLIB", Compression::Zlib)]
    } else {
        &[
            ("ZLIB", Compression::Zlib),
            ("LZ4", Compression::Lz4),
            ("ZSTD", Compression::Zstd),
        ]
    };
    let dir = test_dir("mixed-compressed");
    let (_ns, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (_b, _) = broker_process(dir.path(), "broker-a", &ns, "").unwrap();

    // Java compresses, rmq_client reads.
    let from_java = "CompressedFromJava";
    create_topic(&ns, from_java, 1).await;
    let mut want = BTreeSet::new();
    for (name, _) in kinds {
        java::produce_compressed(&ns, from_java, 4, &format!("java-{name}"), name).await;
        want.extend((0..4).map(|i| java::big_body(&format!("java-{name}-{i}"))));
    }
    let got = rmq_consume(&ns, "CG-rust-compressed", from_java, want.len()).await;
    let have: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(
        have.len(),
        want.len(),
        "rmq_client received {} bodies",
        have.len()
    );
    assert!(have == want, "a body from Java did not decompress intact");

    // rmq_client compresses, Java reads.
    let to_java = "CompressedToJava";
    create_topic(&ns, to_java, 1).await;
    let mut names = BTreeSet::new();
    for (name, c) in kinds {
        let p = Producer::builder()
            .group(format!("PG-rust-{name}"))
            .name_server(&ns)
            .compression(*c)
            .build()
            .await
            .unwrap();
        for i in 0..4 {
            let n = format!("rust-{name}-{i}");
            p.send(Message::new(to_java, java::big_body(&n)))
                .await
                .unwrap();
            names.insert(n);
        }
        p.shutdown().await;
    }
    let seen = java::consume_big(&ns, "CG-java-compressed", to_java, names.len()).await;
    let seen_names: BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(seen_names, names, "bodies the Java consumer received");
    let bad: Vec<&String> = seen
        .iter()
        .filter(|(_, ok)| !**ok)
        .map(|(n, _)| n)
        .collect();
    assert!(bad.is_empty(), "bodies Java did not read intact: {bad:?}");
}
