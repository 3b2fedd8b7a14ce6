//! The client address behind trusted proxies (`trusted_proxies`): when the connection comes from
//! one of them, the client is the right-most address in `X-Forwarded-For` that is not itself a
//! trusted proxy; from anyone else the header is ignored, so a client never chooses its own
//! address (sign-in throttling is keyed by it).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The client address of a request whose connection comes from `peer`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    let trusted = |ip: IpAddr| trusted_proxies.iter().any(|t| t.to_canonical() == ip);
    let mut client = peer.to_canonical();
    if !trusted(client) {
        return client;
    }
    // Every header line, in order, as one list; read from the right (the nearest hop first).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        // A hop that is not an address was not written by a proxy we trust: the last one we
        // trust is as near the client as we can tell.
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !trusted(ip) {
            return ip;
        }
    }
    client
}

/// `192.0.2.7`, `2001:db8::1`, or either with a port (`192.0.2.7:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", l.parse().expect("a header value"));
        }
        h
    }

    const PROXY: &str = "10.0.0.2";

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let h = headers(&["198.51.100.9"]);
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &[ip(PROXY)]),
            ip("203.0.113.5"),
            "a client cannot choose its address by sending the header"
        );
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &[]),
            ip("203.0.113.5"),
            "without trusted proxies the header means nothing"
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = [ip(PROXY), ip("10.0.0.3")];
        let h = headers(&["1.1.1.1, 198.51.100.9", "10.0.0.3"]);
        assert_eq!(
            client_address(ip(PROXY), &h, &trusted),
            ip("198.51.100.9"),
            "hops the client wrote on the left are skipped; trusted hops on the right too"
        );
        assert_eq!(
            client_address(ip(PROXY), &headers(&[]), &trusted),
            ip(PROXY),
            "no header: the proxy itself"
        );
        assert_eq!(
            client_address(ip(PROXY), &headers(&["10.0.0.3"]), &trusted),
            ip("10.0.0.3"),
            "only trusted hops: the farthest of them"
        );
        assert_eq!(
            client_address(ip(PROXY), &headers(&["198.51.100.9:4711"]), &trusted),
            ip("198.51.100.9"),
            "a port is dropped"
        );
    }

    #[test]
    fn a_garbled_hop_stops_at_the_last_trusted_one() {
        let trusted = [ip(PROXY), ip("10.0.0.3")];
        let h = headers(&["198.51.100.9, junk, 10.0.0.3"]);
        assert_eq!(
            client_address(ip(PROXY), &h, &trusted),
            ip("10.0.0.3"),
            "what a trusted hop received from an unparsable one is that hop's peer"
        );
    }

    #[test]
    fn ipv4_mapped_addresses_match_their_ipv4_form() {
        let h = headers(&["198.51.100.9"]);
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &h, &[ip(PROXY)]),
            ip("198.51.100.9"),
            "a dual-stack listener sees the proxy as a mapped address"
        );
    }
}
