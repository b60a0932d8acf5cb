//! Lists of networks from the configuration, and the client address
//! behind trusted reverse proxies (SPEC §5, `PORTAL_TRUSTED_PROXIES`).
use ipnet::IpNet;
use std::net::IpAddr;

/// A list of networks, such as `127.0.0.1/32, 10.0.0.0/8, ::1`: CIDRs, or
/// single addresses (a /32 or /128). Empty by default: nothing matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    /// Parses a comma-separated list; an error names the item at fault.
    pub fn parse(s: &str) -> Result<Networks, String> {
        let mut nets = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(a) => IpNet::from(canonical(a)),
                    Err(_) => {
                        return Err(format!(
                            "has {item:?}, which is neither an address nor a CIDR such as 10.0.0.0/8"
                        ));
                    }
                },
            };
            nets.push(net);
        }
        Ok(Networks(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|n| n.contains(&addr))
    }

    /// The networks as written in canonical form, for the start-up log.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// An IPv4 address in its IPv6-mapped form (`::ffff:192.0.2.1`, as a
/// dual-stack socket reports it) compares as IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    addr.to_canonical()
}

/// SPEC §5: the client address of a request that arrived from `peer`.
/// `X-Forwarded-For` counts only when the peer is a trusted proxy; then the
/// client is the right-most address in it that is not a trusted proxy
/// (every hop appends the address it saw, so the addresses left of the
/// first untrusted one were written by the client and prove nothing).
/// An entry that is not an address ends the walk at the proxy that
/// passed it on; when every entry is a trusted proxy, the left-most one.
/// `forwarded_for` holds the values of every `X-Forwarded-For` header in
/// the order received.
pub fn client_ip<'a>(
    trusted: &Networks,
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(addr) = parse_hop(hop) else {
            return client;
        };
        client = addr;
        if !trusted.contains(addr) {
            return addr;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, also as `[v6]` or with a port
/// (some proxies write one).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(a) = hop.parse::<IpAddr>() {
        return Some(canonical(a));
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(s: &str) -> Networks {
        Networks::parse(s).unwrap()
    }

    #[test]
    fn parses_cidrs_and_addresses() {
        let n = nets(" 10.0.0.0/8, 192.0.2.7 ,::1, 2001:db8::/32,");
        assert!(n.contains(ip("10.1.2.3")));
        assert!(n.contains(ip("192.0.2.7")));
        assert!(!n.contains(ip("192.0.2.8")));
        assert!(n.contains(ip("::1")));
        assert!(n.contains(ip("2001:db8:1::5")));
        assert!(
            n.contains(ip("::ffff:10.9.9.9")),
            "v4-mapped compares as v4"
        );
        assert_eq!(
            n.describe(),
            "10.0.0.0/8,192.0.2.7/32,::1/128,2001:db8::/32"
        );
        // Host bits are dropped rather than refused.
        assert_eq!(nets("10.1.2.3/8").describe(), "10.0.0.0/8");
        assert!(nets("").is_empty());
        for bad in ["10.0.0.0/33", "example.net", "10.0.0.1-10.0.0.9", "*"] {
            let e = Networks::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header() {
        let t = nets("127.0.0.1");
        assert_eq!(
            client_ip(&t, ip("198.51.100.9"), ["203.0.113.1"]),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_ip(&Networks::default(), ip("127.0.0.1"), ["203.0.113.1"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn trusted_peer_gives_the_right_most_untrusted_hop() {
        let t = nets("127.0.0.1/32, 10.0.0.0/8");
        // nginx on loopback appended the address it saw.
        assert_eq!(
            client_ip(&t, ip("127.0.0.1"), ["203.0.113.5"]),
            ip("203.0.113.5")
        );
        // A forged entry on the left is ignored.
        assert_eq!(
            client_ip(&t, ip("127.0.0.1"), ["6.6.6.6, 203.0.113.5"]),
            ip("203.0.113.5")
        );
        // Two trusted hops (a load balancer, then nginx).
        assert_eq!(
            client_ip(&t, ip("127.0.0.1"), ["6.6.6.6, 203.0.113.5, 10.1.1.1"]),
            ip("203.0.113.5")
        );
        // Several headers count as one list, in order.
        assert_eq!(
            client_ip(&t, ip("127.0.0.1"), ["6.6.6.6", "203.0.113.5", "10.1.1.1"]),
            ip("203.0.113.5")
        );
        // IPv6, bracketed, with a port.
        assert_eq!(
            client_ip(&t, ip("10.0.0.2"), ["[2001:db8::1]"]),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_ip(&t, ip("10.0.0.2"), ["203.0.113.5:4711"]),
            ip("203.0.113.5")
        );
        // A v4-mapped peer is trusted like its v4 form.
        assert_eq!(
            client_ip(&t, ip("::ffff:127.0.0.1"), ["203.0.113.5"]),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn trusted_peer_without_usable_header() {
        let t = nets("127.0.0.1/32, 10.0.0.0/8");
        assert_eq!(client_ip(&t, ip("127.0.0.1"), []), ip("127.0.0.1"));
        // Garbage: the walk stops at the proxy that passed it on.
        assert_eq!(
            client_ip(&t, ip("127.0.0.1"), ["203.0.113.5, unknown"]),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_ip(&t, ip("127.0.0.1"), ["unknown, 10.2.2.2"]),
            ip("10.2.2.2")
        );
        // Every hop trusted: the left-most.
        assert_eq!(
            client_ip(&t, ip("127.0.0.1"), ["10.3.3.3, 10.2.2.2"]),
            ip("10.3.3.3")
        );
    }
}
