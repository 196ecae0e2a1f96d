//! A private network for system tests: every node gets its own Linux network namespace with its
//! own address, all joined by one bridge, so a test can cut a node off the network (its process
//! keeps running, its peers just stop hearing from it) instead of only killing it.
//!
//! ```text
//!   root namespace (the test)          node i's namespace
//!   bridge rmqb<R>  10.R.0.1/24 --+-- veth rmqv<R>n<i> <==> eth0  10.R.0.(i+2)/24, default via 10.R.0.1
//! ```
//!
//! Needs root (CAP_NET_ADMIN) and iproute2's `ip`; without them [`Net::new`] fails rather than
//! letting a test skip quietly. Everything is created with `ip`, so a failure names the command
//! and its error, and a leftover can be inspected or removed with the same tool.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::Daemon;

/// Where `ip netns add` mounts its namespaces (iproute2's built-in default).
const NETNS_DIR: &str = "/var/run/netns";

/// Serialises choosing a subnet and claiming it (bridge created, address set) among all test
/// processes on the machine; once claimed, the address itself keeps others off the subnet.
const LOCK_PATH: &str = "/run/rmq-testkit-netns.lock";

/// How long [`Net::new`] and [`Net::heal`] wait for packets to flow before giving up.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

/// A bridge and `nodes` network namespaces attached to it. Dropping it deletes them all.
///
/// Declare daemons running in it after the `Net`, so they are dropped (killed) before it: a
/// namespace that still has processes lives on unnamed until they exit.
pub struct Net {
    ip_cmd: PathBuf,
    /// The `R` of this net's 10.R.0.0/24.
    subnet: u8,
    bridge: String,
    /// Created so far, so a half-built net is cleaned up too; node i is index i.
    namespaces: Vec<String>,
    veths: Vec<String>,
}

impl Net {
    /// Creates the bridge and `nodes` namespaces, and checks that every node reaches the host
    /// and its neighbour before returning.
    pub fn new(nodes: usize) -> Result<Net> {
        // SAFETY: geteuid(2) always succeeds and touches no memory.
        let euid = unsafe { libc::geteuid() };
        if euid != 0 {
            bail!(
                "netns::Net needs root (effective uid is {euid}): creating network namespaces, \
                 veth pairs and bridges requires CAP_NET_ADMIN; run this test as root"
            );
        }
        let ip_cmd = find_ip()?;
        if nodes > 253 {
            bail!("netns::Net supports at most 253 nodes in its /24, not {nodes}");
        }

        let lock = SetupLock::acquire()?;
        let subnet = pick_subnet(&ip_cmd)?;
        let bridge = format!("rmqb{subnet}");
        run_ip(&ip_cmd, &["link", "add", "name", &bridge, "type", "bridge"])?;
        let mut net = Net {
            ip_cmd,
            subnet,
            bridge,
            namespaces: Vec::new(),
            veths: Vec::new(),
        };
        let host = format!("{}/24", net.host_ip());
        net.run(&["addr", "add", &host, "dev", &net.bridge])?;
        drop(lock);
        net.run(&["link", "set", "dev", &net.bridge, "up"])?;

        for i in 0..nodes {
            net.add_node(i)?;
        }
        net.check_connectivity()?;
        Ok(net)
    }

    fn add_node(&mut self, i: usize) -> Result<()> {
        let ns = format!("rmq{}-n{i}-pid{}", self.subnet, std::process::id());
        self.run(&["netns", "add", &ns])?;
        self.namespaces.push(ns.clone());
        let veth = format!("rmqv{}n{i}", self.subnet);
        self.run(&[
            "link", "add", "name", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ])?;
        self.veths.push(veth.clone());
        self.run(&["link", "set", "dev", &veth, "master", &self.bridge, "up"])?;
        let addr = format!("{}/24", self.ip(i));
        let gateway = self.host_ip().to_string();
        self.run(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"])?;
        self.run(&["-n", &ns, "link", "set", "dev", "eth0", "up"])?;
        self.run(&["-n", &ns, "link", "set", "dev", "lo", "up"])?;
        self.run(&["-n", &ns, "route", "add", "default", "via", &gateway])?;
        Ok(())
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.namespaces.len()
    }

    /// Node `node`'s address, 10.R.0.(node+2).
    pub fn ip(&self, node: usize) -> Ipv4Addr {
        self.check_node(node);
        // `new` allows at most 253 nodes, so this fits.
        Ipv4Addr::new(10, self.subnet, 0, (node + 2) as u8)
    }

    /// The bridge's address, 10.R.0.1: how the test process (root namespace) is seen by the
    /// nodes, and where it can listen for them. Also their default gateway.
    pub fn host_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet, 0, 1)
    }

    /// Name of node `node`'s network namespace (for `ip netns exec` by hand).
    pub fn namespace(&self, node: usize) -> &str {
        self.check_node(node);
        &self.namespaces[node]
    }

    /// Name of the bridge in the root namespace.
    pub fn bridge(&self) -> &str {
        &self.bridge
    }

    /// A command running `program` inside node `node`'s namespace (`ip netns exec <ns>
    /// <program>`); add arguments, environment etc. as usual. `ip netns exec` execs `program`,
    /// so the spawned child's pid is the program's own.
    pub fn command(&self, node: usize, program: &Path) -> Command {
        let mut cmd = Command::new(&self.ip_cmd);
        cmd.args(["netns", "exec", self.namespace(node)])
            .arg(program);
        cmd
    }

    /// Starts a [`Daemon`] inside node `node`'s namespace, like [`Daemon::start`].
    pub fn spawn(
        &self,
        node: usize,
        name: &str,
        program: &Path,
        args: &[&str],
        log_dir: &Path,
    ) -> Result<Daemon> {
        let mut cmd = self.command(node, program);
        cmd.args(args);
        Daemon::from_command(name, cmd, log_dir)
    }

    /// Cuts node `node` off: its veth's host end goes down, so it reaches nobody and nobody
    /// reaches it; its processes keep running and established TCP connections stall (and
    /// retransmit) rather than break. The node's own `eth0` stays up and only loses carrier,
    /// so its address and routes survive for [`Net::heal`].
    pub fn cut(&self, node: usize) -> Result<()> {
        self.check_node(node);
        self.run(&["link", "set", "dev", &self.veths[node], "down"])?;
        Ok(())
    }

    /// Undoes [`Net::cut`] and waits (up to 10 s) until the node can open a TCP connection to
    /// the host again, so the test does not race the link coming back.
    pub fn heal(&self, node: usize) -> Result<()> {
        self.check_node(node);
        self.run(&["link", "set", "dev", &self.veths[node], "up"])?;
        let listener = TcpListener::bind((self.host_ip(), 0))
            .with_context(|| format!("listening on {}", self.host_ip()))?;
        let to = listener.local_addr()?;
        self.wait_reach(node, to, Instant::now() + REACH_TIMEOUT)
            .with_context(|| format!("node {node} is still cut off after heal"))
    }

    /// Every node must reach the host, and its next neighbour through the bridge: node to node
    /// is what a host firewall can silently break (see the error message).
    fn check_connectivity(&self) -> Result<()> {
        let host = TcpListener::bind((self.host_ip(), 0))
            .with_context(|| format!("listening on {}", self.host_ip()))?;
        let to_host = host.local_addr()?;
        let deadline = Instant::now() + REACH_TIMEOUT;
        for i in 0..self.nodes() {
            self.wait_reach(i, to_host, deadline).with_context(|| {
                format!(
                    "node {i} ({}) cannot reach the host at {to_host} over bridge {}",
                    self.ip(i),
                    self.bridge
                )
            })?;
        }
        if self.nodes() < 2 {
            return Ok(());
        }
        for i in 0..self.nodes() {
            let j = (i + 1) % self.nodes();
            let ip_j = self.ip(j);
            // A socket belongs to the namespace it was created in, so this listener stays in
            // node j's namespace after the thread that made it leaves.
            let listener = self
                .in_namespace(j, move || TcpListener::bind((ip_j, 0)))?
                .with_context(|| format!("listening on {ip_j} in node {j}"))?;
            let to = listener.local_addr()?;
            self.wait_reach(i, to, deadline).with_context(|| {
                let nf = std::fs::read_to_string("/proc/sys/net/bridge/bridge-nf-call-iptables")
                    .map_or_else(|_| "absent".to_owned(), |v| v.trim().to_owned());
                format!(
                    "node {i} ({}) cannot reach node {j} ({to}) through bridge {} although both \
                     reach the host. /proc/sys/net/bridge/bridge-nf-call-iptables is {nf}; when \
                     it is 1, bridged traffic goes through iptables' FORWARD chain and a DROP \
                     policy there (Docker sets one) drops it. This harness does not change \
                     global firewall settings: allow forwarding on {} or set that sysctl to 0",
                    self.ip(i),
                    self.bridge,
                    self.bridge
                )
            })?;
        }
        Ok(())
    }

    /// Polls TCP connects from node `node`'s namespace to `to` until one succeeds.
    fn wait_reach(&self, node: usize, to: SocketAddr, deadline: Instant) -> Result<()> {
        loop {
            let attempt = self.in_namespace(node, move || {
                TcpStream::connect_timeout(&to, Duration::from_secs(1))
            })?;
            match attempt {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    bail!("no TCP connection from node {node} to {to} within the wait: {e}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Runs `f` on a fresh thread that has entered node `node`'s network namespace. Only that
    /// thread moves (setns(2) with CLONE_NEWNET is per thread) and it ends with `f`, so the rest
    /// of the test process stays in the root namespace; needs no program inside the namespace.
    fn in_namespace<T: Send>(&self, node: usize, f: impl FnOnce() -> T + Send) -> Result<T> {
        let path = Path::new(NETNS_DIR).join(self.namespace(node));
        let ns = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        std::thread::scope(|s| {
            s.spawn(move || -> Result<T> {
                // SAFETY: setns(2) on a descriptor we own and keep open across the call; it
                // changes only this thread's network namespace, and the thread ends after `f`.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    return Err(std::io::Error::last_os_error())
                        .with_context(|| format!("entering {}", path.display()));
                }
                Ok(f())
            })
            .join()
            .map_err(|_| anyhow!("thread running in node {node}'s namespace panicked"))?
        })
    }

    fn check_node(&self, node: usize) {
        assert!(
            node < self.nodes(),
            "node {node} does not exist: this Net has {} nodes",
            self.nodes()
        );
    }

    fn run(&self, args: &[&str]) -> Result<String> {
        run_ip(&self.ip_cmd, args)
    }
}

impl Drop for Net {
    /// Deletes the veths (which takes their peers in the namespaces along), the namespaces and
    /// the bridge. Failures are printed, not raised: a drop must not panic.
    fn drop(&mut self) {
        let mut steps: Vec<Vec<&str>> = Vec::new();
        steps.extend(
            self.veths
                .iter()
                .map(|v| vec!["link", "del", "dev", v.as_str()]),
        );
        steps.extend(
            self.namespaces
                .iter()
                .map(|n| vec!["netns", "del", n.as_str()]),
        );
        steps.push(vec!["link", "del", "dev", self.bridge.as_str()]);
        for args in steps {
            if let Err(e) = run_ip(&self.ip_cmd, &args) {
                eprintln!("netns cleanup: {e:#}");
            }
        }
    }
}

/// Runs `ip` with `args`; its stdout, or an error naming the command and its stderr.
fn run_ip(ip: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(ip)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running `{} {}`", ip.display(), args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// iproute2's `ip`, looked up in PATH and then in the sbin directories a non-login PATH (such
/// as cargo's) may lack.
fn find_ip() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join("ip"))
        .find(|p| p.is_file())
        .context(
            "netns::Net needs iproute2's `ip` command, which is not in PATH, /usr/sbin or /sbin; \
             install iproute2",
        )
}

/// Chooses R for a free 10.R.0.0/24: no address of the machine in it, no route inside it, and
/// none of the names this net would use taken (a crashed run may have left them behind).
/// Starts from the pid and a process-wide counter so concurrent nets rarely probe the same R
/// first; the [`SetupLock`] makes the choice safe when they do.
fn pick_subnet(ip: &Path) -> Result<u8> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let addrs = run_ip(ip, &["-o", "-4", "addr", "show"])?;
    let routes = run_ip(ip, &["-o", "-4", "route", "show", "table", "all"])?;
    let links = run_ip(ip, &["-o", "link", "show"])?;
    let namespaces = run_ip(ip, &["netns", "list"])?;

    let addrs: Vec<Ipv4Addr> = addrs
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == "inet")?;
            Some(parse_prefix(words.next()?)?.0)
        })
        .collect();
    let routes: Vec<(Ipv4Addr, u8)> = routes.lines().filter_map(route_destination).collect();
    let links: Vec<&str> = links
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name))
        .collect();
    let namespaces: Vec<&str> = namespaces
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();

    let start = (std::process::id().wrapping_mul(37)).wrapping_add(n.wrapping_mul(101)) % 254;
    for k in 0..254 {
        let r = ((start + k) % 254 + 1) as u8;
        let inside = |a: &Ipv4Addr| a.octets()[..3] == [10, r, 0];
        let bridge = format!("rmqb{r}");
        let veth = format!("rmqv{r}n");
        let ns = format!("rmq{r}-");
        // A wider route (10.0.0.0/8, say) is fine: ours is more specific.
        let taken = addrs.iter().any(inside)
            || routes.iter().any(|(a, len)| *len >= 24 && inside(a))
            || links.iter().any(|l| *l == bridge || l.starts_with(&veth))
            || namespaces.iter().any(|n| n.starts_with(&ns));
        if !taken {
            return Ok(r);
        }
    }
    bail!("no free 10.R.0.0/24 subnet for netns::Net: all 254 are in use (stale nets left by crashed tests? see `ip link` and `ip netns list`)")
}

/// The destination of one `ip -o route` line, `default` excepted.
fn route_destination(line: &str) -> Option<(Ipv4Addr, u8)> {
    const TYPES: [&str; 9] = [
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "throw",
        "unreachable",
        "prohibit",
        "blackhole",
        "nat",
    ];
    let mut words = line.split_whitespace();
    let first = words.next()?;
    let dest = if TYPES.contains(&first) {
        words.next()?
    } else {
        first
    };
    parse_prefix(dest)
}

/// `a.b.c.d/len` or `a.b.c.d` (a /32).
fn parse_prefix(s: &str) -> Option<(Ipv4Addr, u8)> {
    match s.split_once('/') {
        Some((a, len)) => Some((a.parse().ok()?, len.parse().ok()?)),
        None => Some((s.parse().ok()?, 32)),
    }
}

/// An exclusive flock(2) on [`LOCK_PATH`], released when dropped (the file is closed).
struct SetupLock {
    _file: File,
}

impl SetupLock {
    fn acquire() -> Result<SetupLock> {
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_PATH)
            .with_context(|| format!("opening {LOCK_PATH}"))?;
        loop {
            // SAFETY: flock(2) on a descriptor we own; no memory is involved.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(SetupLock { _file: f });
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e).with_context(|| format!("locking {LOCK_PATH}"));
            }
        }
    }
}
