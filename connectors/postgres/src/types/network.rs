//! `inet`, `cidr`, `macaddr` and `macaddr8` from their binary forms to the text PostgreSQL writes for them
//! (`network_out` with its own IPv6 formatting, `macaddr_out`), which is what Debezium emits.

use std::fmt::Write;
use std::net::IpAddr;

/// `inet` (`cidr` false) or `cidr` text of the binary form: the address, then `/bits` unless the mask covers the
/// whole address; a `cidr` always carries its `/bits`.
pub(crate) fn inet_text(bytes: &[u8], cidr: bool) -> Result<String, String> {
    let inet = postgres_protocol::types::inet_from_sql(bytes).map_err(|e| e.to_string())?;
    let bits = inet.netmask();
    let (mut out, full) = match inet.addr() {
        IpAddr::V4(addr) => (addr.to_string(), 32),
        IpAddr::V6(addr) => (ipv6_text(&addr.octets()), 128),
    };
    if cidr || bits != full {
        let _ = write!(out, "/{bits}");
    }
    Ok(out)
}

/// PostgreSQL's `inet_net_ntop_ipv6`: lower-case hex groups, the first longest run of two or more zero groups as
/// `::`, and the last 32 bits in dotted decimal for IPv4-compatible (`::a.b.c.d`) and IPv4-mapped
/// (`::ffff:a.b.c.d`) addresses.
fn ipv6_text(octets: &[u8; 16]) -> String {
    let words: Vec<u16> = octets.chunks(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
    // Runs of zero groups as (first group, length).
    let mut best: Option<(usize, usize)> = None;
    let mut current: Option<(usize, usize)> = None;
    for (i, &word) in words.iter().enumerate() {
        if word == 0 {
            current = Some(current.map_or((i, 1), |(base, len)| (base, len + 1)));
        } else if let Some(run) = current.take() {
            if best.is_none_or(|b| run.1 > b.1) {
                best = Some(run);
            }
        }
    }
    if let Some(run) = current {
        if best.is_none_or(|b| run.1 > b.1) {
            best = Some(run);
        }
    }
    let best = best.filter(|&(_, len)| len >= 2);
    let mut out = String::with_capacity(40);
    for (i, &word) in words.iter().enumerate() {
        if let Some((base, len)) = best {
            if i >= base && i < base + len {
                if i == base {
                    out.push(':');
                }
                continue;
            }
        }
        if i != 0 {
            out.push(':');
        }
        let embedded = best.is_some_and(|(base, len)| base == 0 && (len == 6 || (len == 5 && words[5] == 0xffff)));
        if i == 6 && embedded {
            let _ = write!(out, "{}.{}.{}.{}", octets[12], octets[13], octets[14], octets[15]);
            break;
        }
        let _ = write!(out, "{word:x}");
    }
    if best.is_some_and(|(base, len)| base + len == words.len()) {
        out.push(':');
    }
    out
}

/// `macaddr` (6 bytes) or `macaddr8` (8 bytes): lower-case hex pairs separated by colons.
pub(crate) fn mac_text(bytes: &[u8], len: usize) -> Result<String, String> {
    if bytes.len() != len {
        return Err(format!("a MAC address of {len} bytes, not {}", bytes.len()));
    }
    let mut out = String::with_capacity(len * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn v6(text: &str) -> String {
        ipv6_text(&text.parse::<Ipv6Addr>().expect("address").octets())
    }

    #[test]
    fn ipv6_like_postgres() {
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("2001:db8::1"), "2001:db8::1");
        assert_eq!(v6("fe80::"), "fe80::");
        assert_eq!(v6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(v6("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(v6("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(v6("::1.2.3.4"), "::1.2.3.4");
    }

    #[test]
    fn inet_and_cidr() {
        assert_eq!(inet_text(&[2, 32, 0, 4, 192, 168, 0, 1], false), Ok("192.168.0.1".to_owned()));
        assert_eq!(inet_text(&[2, 24, 0, 4, 192, 168, 0, 1], false), Ok("192.168.0.1/24".to_owned()));
        assert_eq!(inet_text(&[2, 32, 1, 4, 10, 0, 0, 1], true), Ok("10.0.0.1/32".to_owned()));
        assert_eq!(mac_text(&[8, 0, 0x2b, 1, 2, 3], 6), Ok("08:00:2b:01:02:03".to_owned()));
    }
}
