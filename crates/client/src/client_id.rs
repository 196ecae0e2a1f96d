//! The client id `ip@instanceName` (protocol.md 8.1) and local IP detection.
//!
//! Java scans network interfaces for a site-local IPv4 address. Without an interface-listing
//! dependency the client asks the kernel which source address it would use to reach the first
//! name server (a UDP `connect` sends nothing), which is the address brokers see anyway; it falls
//! back to 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs, UdpSocket};

/// The local address used to reach `peer` (`host:port`), or 127.0.0.1.
pub fn detect_local_ip(peer: Option<&str>) -> IpAddr {
    let probe = || -> Option<IpAddr> {
        let target = peer?.to_socket_addrs().ok()?.next()?;
        let bind = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let sock = UdpSocket::bind(bind).ok()?;
        sock.connect(target).ok()?;
        let ip = sock.local_addr().ok()?.ip();
        (!ip.is_unspecified()).then_some(ip)
    };
    probe().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// `ip@instance`, as Java's `ClientConfig.buildMQClientId` (no unit name).
pub fn build_client_id(ip: IpAddr, instance_name: &str) -> String {
    format!("{ip}@{instance_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_shape() {
        let ip: IpAddr = "10.0.0.5"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(build_client_id(ip, "1234#99"), "10.0.0.5@1234#99");
        assert_eq!(
            detect_local_ip(Some("127.0.0.1:9876")),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            detect_local_ip(Some("not an address")),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(detect_local_ip(None), IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
}
