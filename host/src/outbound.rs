//! `allowed_outbound_hosts`: which addresses a component may open, parsed and matched exactly as
//! Spin does (its `outbound-networking-config` crate), so a manifest that boots here also deploys
//! and an address allowed here is allowed there.
//!
//! An entry is `scheme://host[:port]` after its `{{ variable }}` templates are expanded (with
//! application variables only, see `manifest.rs`). The scheme is `*` or letters only. The host is
//! `*`, `*.domain`, `self`, an IP network in CIDR form (`10.0.0.0/8`), or a literal host (parsed as
//! a URL host: case folded, IPv4/IPv6 recognised). The port is `*`, a number, or a range `a..b`
//! whose end is exclusive (an empty range is accepted and matches nothing); a missing port means the
//! scheme's well-known port, and a scheme without one (`rediss`, `*`) needs an explicit port. A path
//! is refused; so is `insecure:allow-all` as the only entry.
//!
//! Addresses a guest opens are matched the way Spin matches them: a Redis address as a URL whose
//! scheme defaults to `redis`, a Postgres address by each of its hosts under the `postgres`
//! scheme whatever the URL says, an HTTP request by its URL.

use anyhow::{Context, Result, bail, ensure};
use std::net::IpAddr;
use url::Host;

/// The one entry Spin refuses outright (its old spelling of "allow everything").
const INSECURE_ALLOW_ALL: &str = "insecure:allow-all";

/// Where Spin's documentation explains the entry format (quoted in refusals, as Spin does).
const FORMAT_HELP: &str = "hosts must be in the form <scheme>://<host>[:<port>], with '*' \
                           wildcards allowed for each";

/// The well-known port of a scheme: Spin's list, nothing more (`rediss` has none there).
pub fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemePattern {
    Any,
    One(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`, kept as `.example.com`: matches `a.example.com`, not `example.com`.
    AnySubdomain(String),
    /// `self`: relative requests to the application itself (service chaining, unused here).
    ToSelf,
    Literal(Host<String>),
    Network(IpNetwork),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    One(u16),
    /// `a..b`: `a` included, `b` excluded.
    Range(u16, u16),
}

/// An IP network in CIDR form, host bits truncated (`10.1.2.3/8` is `10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpNetwork {
    network: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// `ip/prefix` only: a bare address is a literal host, not a network.
    fn parse(s: &str) -> Option<Self> {
        let (ip, prefix) = s.split_once('/')?;
        let ip: IpAddr = ip.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let bits = match ip {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        (prefix <= bits).then(|| Self {
            network: mask(ip, prefix),
            prefix,
        })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let same_family = matches!(
            (self.network, ip),
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_))
        );
        same_family && mask(ip, self.prefix) == self.network
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & kept).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & kept).into())
        }
    }
}

/// One parsed allowed-host entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
}

impl AllowedHost {
    /// Parses one entry with Spin's grammar (the same splitting, the same refusals).
    pub fn parse(entry: &str) -> Result<Self> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            match url {
                "*" | ":" | "" | "?" => {
                    bail!("{url:?} is not an allowed outbound host format: {FORMAT_HELP}")
                }
                _ => bail!("{url:?} does not contain a scheme (e.g. `http://` or `*://`)"),
            }
        };
        // The port is what follows the last `:`; only a trailing `/` may follow it.
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((port, path)) => {
                ensure!(path.is_empty(), "{url:?} has a path but is not allowed to");
                port
            }
            None => rest,
        };
        let port = PortPattern::parse(port, scheme)
            .with_context(|| format!("{url:?}: invalid allowed host port {port:?}"))?;
        let scheme_pattern = SchemePattern::parse(scheme)
            .with_context(|| format!("{url:?}: invalid allowed host scheme {scheme:?}"))?;
        let host = HostPattern::parse(host)
            .with_context(|| format!("{url:?}: invalid allowed host {host:?}"))?;
        Ok(Self {
            scheme: scheme_pattern,
            host,
            port,
        })
    }

    fn allows(&self, target: &Target) -> bool {
        self.scheme.allows(&target.scheme)
            && self.host.allows(&target.host)
            && self.port.allows(target.port, &target.scheme)
    }
}

impl SchemePattern {
    fn parse(scheme: &str) -> Result<Self> {
        if scheme == "*" {
            return Ok(Self::Any);
        }
        ensure!(!scheme.starts_with('{'), "scheme lists are not supported");
        ensure!(
            scheme.chars().all(char::is_alphabetic),
            "only alphabetic characters are allowed"
        );
        Ok(Self::One(scheme.to_string()))
    }

    fn allows(&self, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::One(s) => s == scheme,
        }
    }
}

impl HostPattern {
    fn parse(host: &str) -> Result<Self> {
        let host = host.trim();
        if host == "*" {
            return Ok(Self::Any);
        }
        if host == "self" || host == "self.alt" {
            return Ok(Self::ToSelf);
        }
        if host.starts_with('{') {
            bail!("host lists are not supported");
        }
        if let Some(network) = IpNetwork::parse(host) {
            return Ok(Self::Network(network));
        }
        let host = host.trim_end_matches('/');
        ensure!(!host.contains('/'), "must not include a path");
        if let Some(domain) = host.strip_prefix("*.") {
            ensure!(
                !domain.contains('*'),
                "wildcards are allowed only as prefixes"
            );
            return Ok(Self::AnySubdomain(format!(".{domain}")));
        }
        ensure!(
            !host.contains('*'),
            "wildcards are allowed only as subdomains"
        );
        Ok(Self::Literal(
            Host::parse(host).context("not a host name or IP address")?,
        ))
    }

    fn allows(&self, host: &Host<String>) -> bool {
        match (self, host) {
            (Self::Any, _) => true,
            (Self::AnySubdomain(suffix), Host::Domain(domain)) => domain.ends_with(suffix.as_str()),
            (Self::Literal(literal), host) => host == literal,
            (Self::Network(net), Host::Ipv4(ip)) => net.contains(IpAddr::V4(*ip)),
            (Self::Network(net), Host::Ipv6(ip)) => net.contains(IpAddr::V6(*ip)),
            // Suffixes match domains only, networks addresses only; `self` is for relative
            // requests, which this host does not make.
            (Self::AnySubdomain(_) | Self::Network(_) | Self::ToSelf, _) => false,
        }
    }
}

impl PortPattern {
    fn parse(port: &str, scheme: &str) -> Result<Self> {
        if port.is_empty() {
            return well_known_port(scheme).map(Self::One).with_context(|| {
                format!(
                    "no port was provided and the scheme {scheme:?} does not have a known default port number"
                )
            });
        }
        if port == "*" {
            return Ok(Self::Any);
        }
        ensure!(!port.starts_with('{'), "port lists are not supported");
        if let Some((start, end)) = port.split_once("..") {
            let start = start
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let end = end
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            return Ok(Self::Range(start, end));
        }
        Ok(Self::One(port.parse().with_context(|| {
            format!("port {port:?} is not a number")
        })?))
    }

    fn allows(&self, port: Option<u16>, scheme: &str) -> bool {
        let port = match (self, port.or_else(|| well_known_port(scheme))) {
            (Self::Any, _) => return true,
            (_, None) => return false,
            (_, Some(port)) => port,
        };
        match self {
            Self::Any => true,
            Self::One(p) => *p == port,
            Self::Range(start, end) => (*start..*end).contains(&port),
        }
    }
}

/// The scheme, host and port of an address a guest wants to open (the port as written: a missing
/// one is the scheme's well-known port, when it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: String,
    pub host: Host<String>,
    pub port: Option<u16>,
}

impl Target {
    /// Parses a URL-style address as Spin does: as written, and if that has no host, again with
    /// `{default_scheme}://` in front. User info is percent-encoded first, so a password with `/`
    /// or `#` in it cannot move the host.
    pub fn parse(address: &str, default_scheme: &str) -> Option<Self> {
        let address = encode_user_info(address);
        let parsed = match url::Url::parse(&address) {
            Ok(u) if u.has_host() => u,
            _ => url::Url::parse(&format!("{default_scheme}://{address}")).ok()?,
        };
        // Non-special schemes (redis, postgres) carry an opaque host: parse it as a real one.
        let host = Host::parse(parsed.host_str()?).ok()?;
        Some(Self {
            scheme: parsed.scheme().to_string(),
            host,
            port: parsed.port(),
        })
    }
}

/// Percent-encodes the user info of `scheme://user:pass@host...` (Spin does the same before it
/// parses an address).
fn encode_user_info(address: &str) -> String {
    let Some(at) = address.find('@') else {
        return address.to_string();
    };
    let start = address.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = address[start..]
        .find('/')
        .map(|i| i + start)
        .unwrap_or(usize::MAX);
    if at < start || at >= path_start {
        return address.to_string();
    }
    let user_info: String = address[start..at]
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{}{user_info}{}", &address[..start], &address[at..])
}

/// The `host[:port]` pairs of a Postgres URL (`postgres://` or `postgresql://`, several hosts
/// separated by commas), as Spin checks them: each under the `postgres` scheme, a port given once
/// applying to every host.
fn postgres_hosts(address: &str) -> Option<Vec<String>> {
    let rest = address
        .strip_prefix("postgres://")
        .or_else(|| address.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let pairs: Vec<(&str, Option<&str>)> = hosts
        .split(',')
        .map(|h| match h.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && !port.contains(']') => (host, Some(port)),
            _ => (h, None),
        })
        .collect();
    let ports: Vec<&str> = pairs.iter().filter_map(|(_, p)| *p).collect();
    let only_port = match ports.as_slice() {
        [port] => Some(*port),
        _ => None,
    };
    Some(
        pairs
            .into_iter()
            .map(|(host, port)| match port.or(only_port) {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            })
            .collect(),
    )
}

/// A component's parsed allow-list.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    /// Parses resolved entries; any entry Spin would refuse fails the whole list.
    pub fn new(entries: &[String]) -> Result<Self> {
        ensure!(
            !(entries.len() == 1 && entries[0] == INSECURE_ALLOW_ALL),
            "'{INSECURE_ALLOW_ALL}' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic"
        );
        let allowed = entries
            .iter()
            .map(|e| AllowedHost::parse(e))
            .collect::<Result<_>>()?;
        Ok(Self { allowed })
    }

    /// Whether a guest may open `address`, a URL whose scheme defaults to `default_scheme`
    /// (Redis addresses, HTTP requests). Unparseable addresses are never allowed.
    pub fn allows_url(&self, address: &str, default_scheme: &str) -> bool {
        Target::parse(address, default_scheme)
            .is_some_and(|t| self.allowed.iter().any(|a| a.allows(&t)))
    }

    /// Whether a guest may open the Postgres `address`: every host it names must be allowed
    /// under the `postgres` scheme.
    pub fn allows_postgres(&self, address: &str) -> bool {
        postgres_hosts(address).is_some_and(|hosts| {
            !hosts.is_empty() && hosts.iter().all(|h| self.allows_url(h, POSTGRES_SCHEME))
        })
    }
}

/// The scheme Spin checks every Postgres host under, whatever the address's own scheme.
pub const POSTGRES_SCHEME: &str = "postgres";
/// The scheme Spin assumes for a Redis address without one.
pub const REDIS_SCHEME: &str = "redis";

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("valid policy")
    }

    #[test]
    fn an_exact_entry_allows_only_its_scheme_host_and_port() {
        let p = policy(&["redis://127.0.0.1:6379"]);
        assert!(p.allows_url("redis://127.0.0.1:6379", REDIS_SCHEME));
        assert!(p.allows_url("redis://:secret@127.0.0.1:6379/0", REDIS_SCHEME));
        assert!(
            p.allows_url("redis://127.0.0.1", REDIS_SCHEME),
            "default port 6379"
        );
        assert!(!p.allows_url("redis://127.0.0.1:6380", REDIS_SCHEME));
        assert!(!p.allows_url("redis://10.0.0.1:6379", REDIS_SCHEME));
        assert!(!p.allows_url("rediss://127.0.0.1:6379", REDIS_SCHEME));
        assert!(!p.allows_url("not a url", REDIS_SCHEME));
    }

    #[test]
    fn a_password_with_a_hash_or_question_mark_does_not_move_the_host() {
        let p = policy(&["redis://cache.internal:6379"]);
        assert!(p.allows_url("redis://:pa#ss?wd@cache.internal:6379", REDIS_SCHEME));
        assert!(!p.allows_url(
            "redis://:x@evil.example:6379#@cache.internal:6379",
            REDIS_SCHEME
        ));
    }

    #[test]
    fn a_missing_port_means_the_well_known_one_and_rediss_has_none() {
        let p = policy(&["postgres://db.internal", "https://api.example.com"]);
        assert!(p.allows_postgres("postgres://urr_auth@db.internal:5432/urr"));
        assert!(p.allows_postgres("postgres://urr_auth@db.internal/urr"));
        assert!(!p.allows_postgres("postgres://db.internal:5433/urr"));
        assert!(p.allows_url("https://api.example.com/v1/payments", "https"));
        assert!(!p.allows_url("http://api.example.com/v1/payments", "http"));
        // Spin knows no default port for rediss: an entry must name it, an address too.
        assert!(AllowedHost::parse("rediss://cache.internal").is_err());
        let tls = policy(&["rediss://cache.internal:6380"]);
        assert!(tls.allows_url("rediss://:t@cache.internal:6380", REDIS_SCHEME));
        assert!(!tls.allows_url("rediss://:t@cache.internal", REDIS_SCHEME));
    }

    #[test]
    fn postgres_hosts_are_checked_under_the_postgres_scheme_whatever_the_url_says() {
        let p = policy(&["postgres://127.0.0.1:5432"]);
        assert!(p.allows_postgres("postgresql://u@127.0.0.1:5432/urr?sslmode=disable"));
        assert!(!p.allows_postgres("postgres://u@127.0.0.1:5432,10.0.0.9:5432/urr"));
        assert!(!p.allows_postgres("host=127.0.0.1 port=5432"), "not a URL");
    }

    #[test]
    fn wildcards_ranges_and_networks_match_as_in_spin() {
        let p = policy(&[
            "https://*.example.com",
            "http://localhost:8000..8002",
            "*://cache:*",
            "postgres://10.0.0.0/8:5432",
        ]);
        assert!(p.allows_url("https://pay.example.com/x", "https"));
        assert!(!p.allows_url("https://example.com/x", "https"));
        assert!(!p.allows_url("https://evil-example.com/x", "https"));
        assert!(p.allows_url("http://localhost:8001/", "http"));
        assert!(
            !p.allows_url("http://localhost:8002/", "http"),
            "range end is exclusive"
        );
        assert!(p.allows_url("redis://cache:7000", REDIS_SCHEME));
        assert!(p.allows_postgres("postgres://u@10.20.30.40:5432/urr"));
        assert!(!p.allows_postgres("postgres://u@11.0.0.1:5432/urr"));
    }

    #[test]
    fn hosts_compare_as_hosts_not_as_text() {
        let p = policy(&["http://API.Example.com:8080", "http://[::1]:8080"]);
        assert!(p.allows_url("http://api.example.com:8080/x", "http"));
        assert!(p.allows_url("http://[::1]:8080/x", "http"));
        assert!(!p.allows_url("http://[::1]:8081/x", "http"));
    }

    #[test]
    fn what_spin_accepts_is_accepted() {
        for good in [
            "https://example.com",
            "https://example.com:443/",
            "*://*:*",
            "http://self",
            "http://*.spin.internal",
            "http://h:9..3",
            "mqtt://broker",
            "postgres://10.0.0.0/8",
        ] {
            assert!(
                AllowedHost::parse(good).is_ok(),
                "{good} should be accepted"
            );
        }
    }

    #[test]
    fn what_spin_refuses_is_refused() {
        for bad in [
            "127.0.0.1:6379",
            "*",
            "",
            "redis://",
            "https://host/path",
            "redis://user@host:1",
            "ftp://host",
            "*://host",
            "http://host:notaport",
            "http://ho*st",
            "http://*.a*.com",
            "h3ttp://host:80",
            "{http,https}://host",
            "http://{a,b}:80",
            "http://host:{80,81}",
            "http://host:1..x",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad} should be refused");
        }
        let err = OutboundPolicy::new(&[INSECURE_ALLOW_ALL.to_string()]).expect_err("refused");
        assert!(err.to_string().contains("*://*:*"), "{err}");
    }

    #[test]
    fn an_empty_policy_allows_nothing() {
        assert!(!OutboundPolicy::default().allows_url("redis://127.0.0.1:6379", REDIS_SCHEME));
        assert!(!OutboundPolicy::default().allows_postgres("postgres://127.0.0.1/urr"));
    }
}
