//! Stage 6 (analyze, per transaction): who called an API, for its exposure.
//!
//! The client of a transaction is the flow's client address, unless that address is a
//! configured trusted proxy: then the proxy's `X-Forwarded-For` (rightmost address that is
//! not itself a trusted proxy) or `Forwarded: for=` names it. Headers from untrusted peers
//! are ignored (anyone can send them). Addresses are internal when inside the configured
//! CIDRs (RFC 1918 and RFC 4193 by default). Parsing is bounded: at most 32 hops are read.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::http::Request;

/// Hops of a forwarding header read at most.
const MAX_HOPS: usize = 32;

/// The default internal ranges: RFC 1918 and RFC 4193.
pub const DEFAULT_INTERNAL: &[&str] =
    &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

/// Parses CIDRs (a bare address is a /32 or /128).
pub fn parse_cidrs(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not an address or CIDR"))
        })
        .collect()
}

/// True when `ip` is inside one of `nets` (IPv4-mapped IPv6 addresses are seen as IPv4).
pub fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    nets.iter().any(|n| n.contains(&ip))
}

fn parse_hop(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    // `[2001:db8::1]:4711`, `192.0.2.1:8080`
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

/// The hops a request was forwarded through, nearest last (`X-Forwarded-For` if present,
/// else the `for=` parameters of `Forwarded`). Unparseable hops (`unknown`, obfuscated
/// names) end the list at that point from the right.
fn forwarded_hops(req: &Request) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for h in req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("x-forwarded-for"))
    {
        for part in String::from_utf8_lossy(&h.value).split(',').take(MAX_HOPS) {
            hops.push(parse_hop(part));
        }
    }
    if !hops.is_empty() {
        return hops;
    }
    for h in req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("forwarded"))
    {
        for element in String::from_utf8_lossy(&h.value).split(',').take(MAX_HOPS) {
            for pair in element.split(';') {
                if let Some((k, v)) = pair.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("for") {
                        hops.push(parse_hop(v));
                    }
                }
            }
        }
    }
    hops.truncate(MAX_HOPS);
    hops
}

/// The address that called: `peer` unless it is a trusted proxy that names one.
pub fn client_address(peer: IpAddr, req: &Request, trusted: &[IpNet]) -> IpAddr {
    if trusted.is_empty() || !contains(trusted, peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_hops(req).into_iter().rev() {
        match hop {
            Some(ip) => {
                client = ip;
                if !contains(trusted, ip) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::http::Header;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: n.to_string(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
            ..Request::default()
        }
    }

    fn nets(v: &[&str]) -> Vec<IpNet> {
        parse_cidrs(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn internal_ranges() {
        let n = nets(DEFAULT_INTERNAL);
        for ip in [
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(contains(&n, ip.parse().unwrap()), "{ip}");
        }
        for ip in ["172.32.0.1", "8.8.8.8", "203.0.113.9", "2001:db8::1"] {
            assert!(!contains(&n, ip.parse().unwrap()), "{ip}");
        }
        assert!(parse_cidrs(&["nope".into()]).is_err());
        assert_eq!(nets(&["10.0.0.1"]).len(), 1);
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let lb: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = nets(&["10.0.0.0/24"]);
        let r = req(&[("X-Forwarded-For", "203.0.113.7, 10.0.0.9")]);
        assert_eq!(
            client_address(lb, &r, &trusted),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Not from a trusted proxy: the header is ignored.
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_address(stranger, &r, &trusted), stranger);
        // No trusted proxies configured.
        assert_eq!(client_address(lb, &r, &[]), lb);
        // A spoofed leftmost entry is not believed past an untrusted hop.
        let r = req(&[("x-forwarded-for", "1.2.3.4, 198.51.100.9, 10.0.0.7")]);
        assert_eq!(
            client_address(lb, &r, &trusted),
            "198.51.100.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn forwarded_header() {
        let lb: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = nets(&["10.0.0.0/24"]);
        let r = req(&[(
            "Forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.8",
        )]);
        assert_eq!(
            client_address(lb, &r, &trusted),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        let r = req(&[("Forwarded", "for=unknown")]);
        assert_eq!(client_address(lb, &r, &trusted), lb);
        let r = req(&[("Forwarded", "for=192.0.2.60:8080;by=203.0.113.43")]);
        assert_eq!(
            client_address(lb, &r, &trusted),
            "192.0.2.60".parse::<IpAddr>().unwrap()
        );
    }
}
