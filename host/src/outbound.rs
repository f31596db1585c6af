//! `allowed_outbound_hosts`: which addresses a component may open, checked the way Spin does.
//!
//! An entry is `scheme://host[:port]` after `{{ variable }}` templates are expanded at boot.
//! `*` is allowed for the scheme, the host (or a `*.domain` suffix) and the port; a port may be a
//! range `a..b` (end exclusive, as in Spin). A missing port means the scheme's well-known port.
//! Entries may not carry a path, user info or query: a manifest that boots here also deploys.

use anyhow::{Context, Result, bail, ensure};

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com` matches `a.example.com` but not `example.com`.
    Suffix(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
}

/// One parsed allowed-host entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

/// The well-known port of a scheme, used when an entry or an address leaves the port out.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "redis" => Some(6379),
        "rediss" => Some(6380),
        "postgres" | "postgresql" => Some(5432),
        "mysql" => Some(3306),
        _ => None,
    }
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<Self> {
        let (scheme, rest) = entry.split_once("://").with_context(|| {
            format!("allowed outbound host `{entry}` needs a scheme (e.g. `https://`)")
        })?;
        ensure!(
            !scheme.is_empty(),
            "allowed outbound host `{entry}` has an empty scheme"
        );
        ensure!(
            !rest.contains(['/', '?', '#', '@']),
            "allowed outbound host `{entry}` must be `scheme://host[:port]` (no path, query or user info)"
        );
        let (host, port) = split_host_port(rest);
        ensure!(
            !host.is_empty(),
            "allowed outbound host `{entry}` has no host"
        );
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            HostPattern::Suffix(format!(".{}", domain.to_ascii_lowercase()))
        } else {
            ensure!(
                !host.contains('*'),
                "allowed outbound host `{entry}`: `*` must be the whole host or a `*.` prefix"
            );
            HostPattern::Exact(host.to_ascii_lowercase())
        };
        let port = match port {
            Some("*") => PortPattern::Any,
            Some(p) if p.contains("..") => {
                let (a, b) = p.split_once("..").unwrap_or_default();
                let (a, b): (u16, u16) = (
                    a.parse()
                        .with_context(|| format!("bad port range in `{entry}`"))?,
                    b.parse()
                        .with_context(|| format!("bad port range in `{entry}`"))?,
                );
                ensure!(a < b, "empty port range in `{entry}`");
                PortPattern::Range(a, b - 1)
            }
            Some(p) => {
                let p: u16 = p
                    .parse()
                    .with_context(|| format!("bad port in `{entry}`"))?;
                PortPattern::Range(p, p)
            }
            None if scheme == "*" => {
                bail!("allowed outbound host `{entry}`: a `*` scheme needs an explicit port")
            }
            None => {
                let p = default_port(scheme).with_context(|| {
                    format!("allowed outbound host `{entry}`: scheme `{scheme}` needs a port")
                })?;
                PortPattern::Range(p, p)
            }
        };
        let scheme = (scheme != "*").then(|| scheme.to_ascii_lowercase());
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, target: &Target) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == target.scheme);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Suffix(suffix) => target.host.ends_with(suffix.as_str()),
            HostPattern::Exact(h) => *h == target.host,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Range(a, b) => (a..=b).contains(&target.port),
        };
        scheme_ok && host_ok && port_ok
    }
}

/// Splits `host:port`, keeping bracketed IPv6 hosts intact.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (host, after.strip_prefix(':'));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (s, None),
    }
}

/// The scheme, host and port of an address a guest wants to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Parses a URL-style address (`redis://:pw@host:6379/0`, `postgres://u@h:5432/db`, `http://h/p`).
    pub fn parse(address: &str) -> Option<Self> {
        let (scheme, rest) = address.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split(['/', '?', '#']).next()?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(authority);
        if host.is_empty() {
            return None;
        }
        let port = match port {
            Some(p) => p.parse().ok()?,
            None => default_port(&scheme)?,
        };
        Some(Target {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// A component's parsed allow-list.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    pub fn new(entries: &[String]) -> Result<Self> {
        let allowed = entries
            .iter()
            .map(|e| AllowedHost::parse(e))
            .collect::<Result<_>>()?;
        Ok(Self { allowed })
    }

    /// Whether a guest may open `address`. Unparseable addresses are never allowed.
    pub fn allows(&self, address: &str) -> bool {
        Target::parse(address).is_some_and(|t| self.allowed.iter().any(|a| a.allows(&t)))
    }
}

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
        assert!(p.allows("redis://127.0.0.1:6379"));
        assert!(p.allows("redis://:secret@127.0.0.1:6379/0"));
        assert!(p.allows("redis://127.0.0.1"), "default port 6379");
        assert!(!p.allows("redis://127.0.0.1:6380"));
        assert!(!p.allows("redis://10.0.0.1:6379"));
        assert!(!p.allows("rediss://127.0.0.1:6379"));
        assert!(!p.allows("not a url"));
    }

    #[test]
    fn a_missing_port_means_the_well_known_one() {
        let p = policy(&["postgres://db.internal", "https://api.example.com"]);
        assert!(p.allows("postgres://urr_auth@db.internal:5432/urr"));
        assert!(!p.allows("postgres://db.internal:5433/urr"));
        assert!(p.allows("https://api.example.com/v1/payments"));
        assert!(!p.allows("http://api.example.com/v1/payments"));
    }

    #[test]
    fn wildcards_and_ranges_match_as_in_spin() {
        let p = policy(&[
            "https://*.example.com",
            "http://localhost:8000..8002",
            "*://cache:*",
        ]);
        assert!(p.allows("https://pay.example.com/x"));
        assert!(!p.allows("https://example.com/x"));
        assert!(!p.allows("https://evil-example.com/x"));
        assert!(p.allows("http://localhost:8001/"));
        assert!(
            !p.allows("http://localhost:8002/"),
            "range end is exclusive"
        );
        assert!(p.allows("redis://cache:7000"));
    }

    #[test]
    fn ipv6_hosts_parse() {
        let p = policy(&["http://[::1]:8080"]);
        assert!(p.allows("http://[::1]:8080/x"));
        assert!(!p.allows("http://[::1]:8081/x"));
    }

    #[test]
    fn malformed_entries_are_rejected() {
        for bad in [
            "127.0.0.1:6379",
            "redis://",
            "https://host/path",
            "redis://user@host:1",
            "ftp://host",
            "*://host",
            "http://host:notaport",
            "http://ho*st",
            "http://h:9..3",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn an_empty_policy_allows_nothing() {
        assert!(!OutboundPolicy::default().allows("redis://127.0.0.1:6379"));
    }
}
