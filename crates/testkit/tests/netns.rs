//! The network-namespace harness seen from outside: a server in one node is reached from the
//! test process and from another node, `cut` makes it unreachable without stopping it, `heal`
//! brings it back (a connection held across the cut resumes), the Daemon's pid is the server's
//! own, and dropping the Net leaves no namespace, veth or bridge behind.
//!
//! Needs root and iproute2 (like every user of `Net`), and python3 for the server and client.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rmq_testkit::netns::Net;
use rmq_testkit::test_dir;

/// Echo server: `server.py <ip> <port>`; logs each accepted peer.
const SERVER: &str = r#"
import socket, sys, threading
def serve(c):
    with c:
        while True:
            d = c.recv(4096)
            if not d:
                return
            c.sendall(d)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
print("listening on", s.getsockname(), flush=True)
while True:
    c, peer = s.accept()
    print("accepted", peer[0], flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

/// Client: `client.py <ip> <port> <timeout-secs>`; prints its own address and the echo of
/// "hello", or fails (non-zero exit) if it cannot connect in time.
const CLIENT: &str = r#"
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
c.sendall(b"hello")
print(c.getsockname()[0], c.recv(100).decode(), flush=True)
"#;

const PORT: u16 = 7000;

#[test]
fn nodes_are_reachable_cut_and_healed() -> Result<()> {
    let net = Net::new(2)?;
    let dir = test_dir("rmq-netns-");
    let python = python()?;
    let (ip0, ip1) = (net.ip(0), net.ip(1));
    ensure!(
        ip0 != ip1 && ip0 != net.host_ip(),
        "addresses {ip0} {ip1} {}",
        net.host_ip()
    );
    let addr = SocketAddr::from((ip0, PORT));

    let ip0_arg = ip0.to_string();
    let port_arg = PORT.to_string();
    let args = ["-c", SERVER, ip0_arg.as_str(), port_arg.as_str()];
    let mut server = net.spawn(0, "echo-n0", &python, &args, dir.path())?;
    server.wait_listening(addr, Duration::from_secs(20))?;

    // The Daemon's pid is the server itself, not `ip netns exec`, and it lives in node 0's
    // namespace.
    let pid = server.pid();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))?;
    ensure!(
        comm.trim().starts_with("python") && exe == std::fs::canonicalize(&python)?,
        "pid {pid} is {} ({}), not {}",
        comm.trim(),
        exe.display(),
        python.display()
    );
    let ns_of_pid = std::fs::metadata(format!("/proc/{pid}/ns/net"))?.ino();
    let ns_of_node = std::fs::metadata(Path::new("/var/run/netns").join(net.namespace(0)))?.ino();
    let ns_of_test = std::fs::metadata("/proc/self/ns/net")?.ino();
    ensure!(
        ns_of_pid == ns_of_node && ns_of_pid != ns_of_test,
        "server's net namespace {ns_of_pid}, node 0's {ns_of_node}, test's {ns_of_test}"
    );

    // Root namespace -> node 0; the connection is kept open across the cut.
    let mut held = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    held.set_read_timeout(Some(Duration::from_secs(5)))?;
    echo(&mut held, b"from-root")?;

    // Node 1 -> node 0, from a process that `command` put into node 1 (its source address).
    let out = client(&net, &python, 1, ip0, 5)?;
    ensure!(
        out == Ok(format!("{ip1} hello")),
        "client in node 1: {out:?}"
    );

    net.cut(0)?;
    match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        Ok(_) => bail!("connected to {addr} although node 0 is cut"),
        Err(e) => eprintln!("connecting to cut node 0: {e} (expected)"),
    }
    let out = client(&net, &python, 1, ip0, 1)?;
    ensure!(out.is_err(), "node 1 reached cut node 0: {out:?}");
    held.write_all(b"during-cut")?;
    held.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut buf = [0u8; 64];
    match held.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => bail!("held connection to cut node 0 did not stall: {other:?}"),
    }
    // Cut, not killed.
    ensure!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "server died during the cut; log:\n{}",
        server.log_text()
    );

    net.heal(0)?;
    // The stalled bytes are retransmitted and echoed on the same connection.
    held.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut back = [0u8; 10];
    held.read_exact(&mut back)
        .context("held connection after heal")?;
    ensure!(&back == b"during-cut", "echo after heal: {back:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut again = until(deadline, || {
        Ok(TcpStream::connect_timeout(&addr, Duration::from_secs(1))?)
    })?;
    again.set_read_timeout(Some(Duration::from_secs(5)))?;
    echo(&mut again, b"healed")?;
    let out = client(&net, &python, 1, ip0, 5)?;
    ensure!(
        out == Ok(format!("{ip1} hello")),
        "client in node 1 after heal: {out:?}"
    );

    // Killing the Daemon kills the server itself: its port refuses connections at once.
    drop((held, again));
    let log = server.log_text();
    ensure!(
        log.contains(&format!("accepted {}", net.host_ip()))
            && log.contains(&format!("accepted {ip1}")),
        "server log lacks the host's and node 1's connections:\n{log}"
    );
    let status = server.kill()?;
    ensure!(
        status.signal() == Some(libc::SIGKILL),
        "server exit: {status}"
    );
    match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        other => bail!("after the kill, connecting to {addr} gave {other:?}, not refused"),
    }

    // Dropping the Net removes everything it made.
    let bridge = net.bridge().to_owned();
    let namespaces: Vec<String> = (0..net.nodes())
        .map(|i| net.namespace(i).to_owned())
        .collect();
    let ports = ip(&["-o", "link", "show", "master", &bridge])?;
    let veths: Vec<String> = ports
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect();
    ensure!(veths.len() == 2, "bridge {bridge} ports: {ports}");
    drop(net);
    let listed = ip(&["netns", "list"])?;
    let links = ip(&["-o", "link", "show"])?;
    for ns in &namespaces {
        ensure!(
            !listed
                .lines()
                .any(|l| l.split_whitespace().next() == Some(ns)),
            "{ns} left:\n{listed}"
        );
    }
    for link in veths.iter().chain([&bridge]) {
        let gone = !links
            .lines()
            .any(|l| l.split(": ").nth(1).and_then(|n| n.split('@').next()) == Some(link.as_str()));
        ensure!(gone, "{link} left:\n{links}");
    }
    Ok(())
}

/// Nets made at the same time (this test also runs alongside the one above) get distinct
/// subnets and names.
#[test]
fn concurrent_nets_do_not_collide() -> Result<()> {
    let nets: Vec<Net> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| Net::new(1))).collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("Net::new panicked"))?)
            .collect::<Result<_>>()
    })?;
    for (i, a) in nets.iter().enumerate() {
        for b in &nets[i + 1..] {
            ensure!(a.host_ip() != b.host_ip(), "both nets use {}", a.host_ip());
            ensure!(a.bridge() != b.bridge() && a.namespace(0) != b.namespace(0));
        }
    }
    Ok(())
}

/// Writes `msg` and expects it echoed back.
fn echo(s: &mut TcpStream, msg: &[u8]) -> Result<()> {
    s.write_all(msg)?;
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back)?;
    ensure!(back == msg, "echoed {back:?} for {msg:?}");
    Ok(())
}

/// Runs the client in `node` against node 0's server: its output line, or its stderr if it
/// failed.
fn client(
    net: &Net,
    python: &Path,
    node: usize,
    server: Ipv4Addr,
    timeout_secs: u32,
) -> Result<std::result::Result<String, String>> {
    let out = net
        .command(node, python)
        .args([
            "-c",
            CLIENT,
            &server.to_string(),
            &PORT.to_string(),
            &timeout_secs.to_string(),
        ])
        .output()?;
    Ok(if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    })
}

/// The real python3 executable (not a pyenv shim script), so the pid check compares binaries.
fn python() -> Result<PathBuf> {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .context("this test needs python3")?;
    ensure!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

/// `ip` as the test sees it, to check the Net's work independently of it.
fn ip(args: &[&str]) -> Result<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let ip = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join("ip"))
        .find(|p| p.is_file())
        .context("iproute2's ip not found")?;
    let out = Command::new(ip).args(args).output().context("running ip")?;
    ensure!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Polls `f` until it succeeds; past `deadline`, fails with its last error.
fn until<T>(deadline: Instant, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() > deadline => return Err(e.context("timed out waiting")),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
