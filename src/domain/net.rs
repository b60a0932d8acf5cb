//! Peering LAN addressing: IP prefixes, addresses inside them, MAC
//! addresses. Parsed once at the edge; std::net does the address work.
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("{0:?} is not a prefix: use address/length, like 192.0.2.0/24 or 2001:db8::/64")]
    Prefix(String),
    #[error("{0:?} has host bits set: the network is {1}")]
    HostBits(String, String),
    #[error("{0:?} is not an IP address")]
    Address(String),
    #[error("{0:?} is not an {1} address")]
    WrongFamily(String, &'static str),
    #[error("{0} is not inside the LAN prefix {1}")]
    Outside(String, String),
    #[error("{0} is the network or broadcast address of {1}")]
    Reserved(String, String),
    #[error("{0:?} is not a MAC address: use six hex octets, like 00:11:22:aa:bb:cc")]
    Mac(String),
}

/// A network prefix with no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix(IpNet);

impl Prefix {
    pub fn parse(s: &str) -> Result<Prefix, NetError> {
        let t = s.trim();
        let (a, l) = t
            .split_once('/')
            .ok_or_else(|| NetError::Prefix(s.into()))?;
        let addr: IpAddr = a.parse().map_err(|_| NetError::Prefix(s.into()))?;
        let len: u8 = l
            .parse()
            .ok()
            .filter(|_| l.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| NetError::Prefix(s.into()))?;
        let net = IpNet::new(addr, len).map_err(|_| NetError::Prefix(s.into()))?;
        if net.trunc() != net {
            return Err(NetError::HostBits(s.into(), net.trunc().to_string()));
        }
        Ok(Prefix(net))
    }

    pub fn family(&self) -> Family {
        Family::of(&self.0.addr())
    }
    pub fn network(&self) -> IpAddr {
        self.0.network()
    }
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    pub fn contains(&self, addr: &IpAddr) -> bool {
        self.0.contains(addr)
    }

    /// An address for a host on this LAN: inside, and (IPv4 below /31)
    /// neither the network nor the broadcast address.
    pub fn host(&self, s: &str) -> Result<IpAddr, NetError> {
        let addr: IpAddr = s.trim().parse().map_err(|_| NetError::Address(s.into()))?;
        if Family::of(&addr) != self.family() {
            return Err(NetError::WrongFamily(s.into(), self.family().name()));
        }
        if !self.contains(&addr) {
            return Err(NetError::Outside(addr.to_string(), self.to_string()));
        }
        let reserved = match self.0 {
            IpNet::V4(n) => n.prefix_len() < 31 && (addr == n.network() || addr == n.broadcast()),
            IpNet::V6(n) => n.prefix_len() < 127 && addr == n.network(),
        };
        if reserved {
            return Err(NetError::Reserved(addr.to_string(), self.to_string()));
        }
        Ok(addr)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix_len())
    }
}

impl FromStr for Prefix {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Prefix::parse(s)
    }
}

/// An IP address of a given family (for forms without a LAN at hand).
pub fn parse_address(s: &str, family: Family) -> Result<IpAddr, NetError> {
    let addr: IpAddr = s.trim().parse().map_err(|_| NetError::Address(s.into()))?;
    if Family::of(&addr) != family {
        return Err(NetError::WrongFamily(s.into(), family.name()));
    }
    Ok(addr)
}

/// A 48-bit MAC address, shown as lower-case `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress([u8; 6]);

impl MacAddress {
    /// Accepts `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, `aabb.ccdd.eeff`
    /// and `aabbccddeeff`, in either case.
    pub fn parse(s: &str) -> Result<MacAddress, NetError> {
        let t = s.trim();
        let hex: String = t
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.'))
            .collect();
        let seps: Vec<char> = t.chars().filter(|c| matches!(c, ':' | '-' | '.')).collect();
        let shape_ok = match seps.len() {
            0 => true,
            5 => {
                seps.iter().all(|c| *c == seps[0] && *c != '.')
                    && t.split(seps[0]).all(|p| p.len() == 2)
            }
            2 => seps.iter().all(|c| *c == '.') && t.split('.').all(|p| p.len() == 4),
            _ => false,
        };
        if !shape_ok || hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(NetError::Mac(s.into()));
        }
        let mut out = [0u8; 6];
        for (i, o) in out.iter_mut().enumerate() {
            let pair = hex
                .get(2 * i..2 * i + 2)
                .ok_or_else(|| NetError::Mac(s.into()))?;
            *o = u8::from_str_radix(pair, 16).map_err(|_| NetError::Mac(s.into()))?;
        }
        Ok(MacAddress(out))
    }

    /// A list separated by commas, spaces or new lines; duplicates folded.
    pub fn parse_list(s: &str) -> Result<Vec<MacAddress>, NetError> {
        let mut out = Vec::new();
        for part in s.split(|c: char| c == ',' || c.is_whitespace()) {
            if part.is_empty() {
                continue;
            }
            let m = MacAddress::parse(part)?;
            if !out.contains(&m) {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// How a list is stored: comma-separated.
    pub fn join(list: &[MacAddress]) -> String {
        list.iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_refuse_host_bits() {
        let p = Prefix::parse("192.0.2.0/24").unwrap();
        assert_eq!(p.to_string(), "192.0.2.0/24");
        assert_eq!(p.family(), Family::V4);
        let p6 = Prefix::parse("2001:DB8::/64").unwrap();
        assert_eq!(p6.to_string(), "2001:db8::/64");
        assert!(matches!(
            Prefix::parse("192.0.2.1/24"),
            Err(NetError::HostBits(_, n)) if n == "192.0.2.0/24"
        ));
        for bad in [
            "192.0.2.0",
            "192.0.2.0/33",
            "2001:db8::/129",
            "x/24",
            "192.0.2.0/+4",
            "192.0.2.0/",
            "",
        ] {
            assert!(Prefix::parse(bad).is_err(), "{bad}");
        }
        assert!(Prefix::parse("0.0.0.0/0").is_ok());
        assert!(Prefix::parse("::/0").is_ok());
        assert!(Prefix::parse("10.0.0.1/32").is_ok());
        assert!(Prefix::parse("2001:db8::1/128").is_ok());
    }

    #[test]
    fn hosts_inside_the_prefix() {
        let p = Prefix::parse("192.0.2.0/24").unwrap();
        assert_eq!(p.host("192.0.2.10").unwrap().to_string(), "192.0.2.10");
        assert!(matches!(p.host("198.51.100.1"), Err(NetError::Outside(..))));
        assert!(matches!(p.host("192.0.2.0"), Err(NetError::Reserved(..))));
        assert!(matches!(p.host("192.0.2.255"), Err(NetError::Reserved(..))));
        assert!(matches!(
            p.host("2001:db8::1"),
            Err(NetError::WrongFamily(..))
        ));
        assert!(matches!(p.host("nonsense"), Err(NetError::Address(..))));
        let p6 = Prefix::parse("2001:db8:1::/64").unwrap();
        assert!(p6.host("2001:db8:1::a").is_ok());
        assert!(p6.host("2001:db8:2::a").is_err());
        assert!(p6.host("2001:db8:1::").is_err());
        let p22 = Prefix::parse("10.1.0.0/22").unwrap();
        assert!(p22.host("10.1.3.254").is_ok());
        assert!(p22.host("10.1.4.1").is_err());
        assert!(
            Prefix::parse("0.0.0.0/0")
                .unwrap()
                .contains(&"8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn mac_addresses() {
        let want = "00:11:22:aa:bb:cc";
        for ok in [
            "00:11:22:AA:BB:CC",
            "00-11-22-aa-bb-cc",
            "0011.22aa.bbcc",
            "001122aabbcc",
        ] {
            assert_eq!(MacAddress::parse(ok).unwrap().to_string(), want, "{ok}");
        }
        for bad in [
            "00:11:22:aa:bb",
            "00:11:22:aa:bb:cc:dd",
            "00:11-22:aa:bb:cc",
            "0:11:22:aa:bb:ccc",
            "zz:11:22:aa:bb:cc",
            "",
            "+0:11:22:aa:bb:cc",
        ] {
            assert!(MacAddress::parse(bad).is_err(), "{bad}");
        }
        let list =
            MacAddress::parse_list("00:11:22:aa:bb:cc, 00-11-22-aa-bb-cc\n02:00:00:00:00:01")
                .unwrap();
        assert_eq!(
            MacAddress::join(&list),
            "00:11:22:aa:bb:cc,02:00:00:00:00:01"
        );
        assert!(MacAddress::parse_list("00:11:22:aa:bb:cc, nope").is_err());
        assert_eq!(MacAddress::parse_list("").unwrap(), vec![]);
    }
}
