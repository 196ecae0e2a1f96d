//! Message ids: the offset id (store host + commit-log offset, what the broker returns as `msgId`)
//! and the client unique id (`UNIQ_KEY`, what users know as the message id).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Uppercase hex, as `UtilAll.bytes2string`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xF) as usize] as char);
    }
    s
}

/// Parses hex in either case; `None` for odd length or a bad digit.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// The offset message id for a record stored at `offset` on the broker at `store_host`.
pub fn create_offset_msg_id(store_host: SocketAddr, offset: i64) -> String {
    let mut b = Vec::with_capacity(28);
    match store_host.ip() {
        IpAddr::V4(ip) => b.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => b.extend_from_slice(&ip.octets()),
    }
    b.extend_from_slice(&i32::from(store_host.port()).to_be_bytes());
    b.extend_from_slice(&offset.to_be_bytes());
    to_hex(&b)
}

/// Decodes an offset message id into (store host, commit-log offset). 32 hex characters mean an
/// IPv4 host, 56 an IPv6 host.
pub fn decode_offset_msg_id(id: &str) -> Option<(SocketAddr, i64)> {
    let b = from_hex(id)?;
    let (ip, rest) = match b.len() {
        16 => (IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])), &b[4..]),
        28 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[..16]);
            (IpAddr::V6(Ipv6Addr::from(a)), &b[16..])
        }
        _ => return None,
    };
    let port = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let mut off = [0u8; 8];
    off.copy_from_slice(&rest[4..12]);
    let port = u16::try_from(port).ok()?;
    Some((SocketAddr::new(ip, port), i64::from_be_bytes(off)))
}

/// Generates `UNIQ_KEY`s the way `MessageClientIDSetter` does: a fixed prefix (client IP, PID,
/// an instance hash) then milliseconds since the start of the month and a wrapping counter.
#[derive(Debug)]
pub struct UniqueIdGenerator {
    prefix: String,
    month_start_ms: i64,
    counter: AtomicU16,
}

impl UniqueIdGenerator {
    pub fn new(client_ip: IpAddr) -> Self {
        let mut b = Vec::with_capacity(22);
        match client_ip {
            IpAddr::V4(ip) => b.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => b.extend_from_slice(&ip.octets()),
        }
        b.extend_from_slice(&(std::process::id() as u16).to_be_bytes());
        let instance = (&b as *const Vec<u8> as usize as u64 ^ now_ms() as u64) as u32;
        b.extend_from_slice(&instance.to_be_bytes());
        UniqueIdGenerator {
            prefix: to_hex(&b),
            month_start_ms: month_start_ms(now_ms()),
            counter: AtomicU16::new(0),
        }
    }

    pub fn next_id(&self) -> String {
        let now = now_ms();
        let diff = (now - self.month_start_ms).clamp(0, i32::MAX as i64) as i32;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut s = String::with_capacity(self.prefix.len() + 12);
        s.push_str(&self.prefix);
        s.push_str(&to_hex(&diff.to_be_bytes()));
        s.push_str(&to_hex(&n.to_be_bytes()));
        s
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Start of the current month (UTC) in epoch milliseconds. Java uses local time; UTC is what a
/// container has and only shifts an opaque id component.
fn month_start_ms(now: i64) -> i64 {
    let days = now.div_euclid(86_400_000);
    let (y, m, _) = civil_from_days(days);
    days_from_civil(y, m, 1) * 86_400_000
}

// Howard Hinnant's civil date algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_id_round_trip() {
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        let id = create_offset_msg_id(host, 0x1234);
        assert_eq!(id, "7F00000100002A9F0000000000001234");
        assert_eq!(decode_offset_msg_id(&id), Some((host, 0x1234)));
        let v6: SocketAddr = "[::1]:10911".parse().unwrap();
        let id6 = create_offset_msg_id(v6, 99);
        assert_eq!(id6.len(), 56);
        assert_eq!(decode_offset_msg_id(&id6), Some((v6, 99)));
        assert_eq!(decode_offset_msg_id("XYZ"), None);
    }

    #[test]
    fn unique_ids_are_32_hex_and_distinct() {
        let g = UniqueIdGenerator::new("10.1.2.3".parse().unwrap());
        let a = g.next_id();
        let b = g.next_id();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.starts_with("0A010203"));
    }

    #[test]
    fn month_start() {
        // 2026-11-24T18:44:10Z -> 2026-11-01T00:00:00Z
        assert_eq!(month_start_ms(1_795_545_850_000), 1_793_491_200_000);
    }
}
