//! The official Java client's half of each check: `rmq.interop.Mixed` from `interop/java`,
//! on the classpath in `RMQ_JAVA_CP` (built by `.ci/apache-interop.sh`).

use std::collections::BTreeMap;

use tokio::process::Command;

fn classpath() -> String {
    std::env::var("RMQ_JAVA_CP").unwrap_or_else(|_| {
        panic!(
            "RMQ_JAVA_CP is not set: it is the classpath of interop/java (its classes and the \
             official client's jars); run these tests with .ci/apache-interop.sh, which builds it"
        )
    })
}

async fn mixed(args: &[&str]) -> String {
    let out = Command::new("java")
        .arg("-Drocketmq.client.logUseSlf4j=true")
        .arg("-cp")
        .arg(classpath())
        .arg("rmq.interop.Mixed")
        .args(args)
        .output()
        .await
        .expect("run java (a JDK 17 on PATH)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "java rmq.interop.Mixed {args:?} exited with {}:\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Sends `count` messages `prefix-i` to `topic`; returns the broker name each went to.
pub async fn produce(namesrv: &str, topic: &str, count: usize, prefix: &str) -> Vec<String> {
    let out = mixed(&["produce", namesrv, topic, &count.to_string(), prefix]).await;
    let brokers: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("sent "))
        .filter_map(|l| l.split(' ').nth(1).map(str::to_owned))
        .collect();
    assert_eq!(brokers.len(), count, "Java producer output:\n{out}");
    brokers
}

/// What a Java push consumer of `group` received: body -> (store host, deliveries).
pub async fn consume(
    namesrv: &str,
    group: &str,
    topic: &str,
    expected: usize,
) -> BTreeMap<String, (String, usize)> {
    // Apache's brokers can keep a new Java push consumer idle for up to 30 s (see
    // interop/java Env.DELIVERY_MS); the wait ends as soon as everything arrived.
    let out = mixed(&[
        "consume",
        namesrv,
        group,
        topic,
        &expected.to_string(),
        "60000",
    ])
    .await;
    out.lines()
        .filter_map(|l| l.strip_prefix("got "))
        .filter_map(|l| {
            let mut f = l.split(' ');
            let body = f.next()?.to_owned();
            let host = f.next()?.to_owned();
            let times = f.next()?.parse().ok()?;
            Some((body, (host, times)))
        })
        .collect()
}

/// Java requests `prefix-0 .. prefix-(count-1)` on `topic`, one after the other; returns each
/// request's body with its reply's.
pub async fn request(
    namesrv: &str,
    topic: &str,
    count: usize,
    prefix: &str,
) -> Vec<(String, String)> {
    let out = mixed(&[
        "request",
        namesrv,
        topic,
        &count.to_string(),
        prefix,
        "45000",
    ])
    .await;
    out.lines()
        .filter_map(|l| l.strip_prefix("reply "))
        .filter_map(|l| l.split_once(' '))
        .map(|(q, r)| (q.to_owned(), r.to_owned()))
        .collect()
}

/// A Java responder of `group` on `topic` that answers `count` requests with "java:" + body
/// (started in the background: the caller requests while it runs); its output when done.
pub fn respond(
    namesrv: &str,
    group: &str,
    topic: &str,
    count: usize,
) -> tokio::task::JoinHandle<String> {
    let args: Vec<String> = [
        "respond",
        namesrv,
        group,
        topic,
        &count.to_string(),
        "90000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    tokio::spawn(async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        mixed(&args).await
    })
}

/// Java sends `count` 8 KiB bodies `big_body(prefix-i)` to `topic`, compressed with `kind`
/// (ZLIB, LZ4 or ZSTD; the 4.x client has only ZLIB).
pub async fn produce_compressed(
    namesrv: &str,
    topic: &str,
    count: usize,
    prefix: &str,
    kind: &str,
) {
    let out = mixed(&[
        "produce-compressed",
        namesrv,
        topic,
        &count.to_string(),
        prefix,
        kind,
    ])
    .await;
    assert!(
        out.contains(&format!("done sent={count}")),
        "Java producer ({kind}):\n{out}"
    );
}

/// What a Java consumer of `group` made of `expected` big bodies: name -> body intact.
pub async fn consume_big(
    namesrv: &str,
    group: &str,
    topic: &str,
    expected: usize,
) -> BTreeMap<String, bool> {
    let out = mixed(&[
        "consume-big",
        namesrv,
        group,
        topic,
        &expected.to_string(),
        "60000",
    ])
    .await;
    out.lines()
        .filter_map(|l| l.strip_prefix("got "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, verdict)| (name.to_owned(), verdict == "ok"))
        .collect()
}

/// The body `Mixed.bigBody` builds: the name, `|`, then `name;` repeated to 8 KiB or more.
pub fn big_body(name: &str) -> String {
    let mut b = format!("{name}|");
    while b.len() < 8192 {
        b.push_str(name);
        b.push(';');
    }
    b
}

/// Java sends one message with message trace on; returns its id.
pub async fn produce_traced(namesrv: &str, topic: &str, body: &str) -> String {
    let out = mixed(&["produce-traced", namesrv, topic, body]).await;
    out.lines()
        .find_map(|l| l.strip_prefix("sent "))
        .unwrap_or_else(|| panic!("Java traced producer:\n{out}"))
        .trim()
        .to_owned()
}

/// `msg_id`'s trace records as Java's own decoder reads them: "TYPE GROUP SUCCESS" each,
/// once `expected` are there.
pub async fn read_trace(namesrv: &str, msg_id: &str, expected: usize) -> Vec<String> {
    let out = mixed(&[
        "read-trace",
        namesrv,
        msg_id,
        &expected.to_string(),
        "30000",
    ])
    .await;
    out.lines()
        .filter_map(|l| l.strip_prefix("trace "))
        .map(str::to_owned)
        .collect()
}
