//! The shared GCRA rate limiter, minus the I/O: the one Lua script (and its SHA-1 for EVALSHA),
//! the contract's categories and their per-minute quotas, who a request counts against (the user,
//! else the client IP), the keys, and how to read the script's answer.
//!
//! Components run the script with EVALSHA, falling back to EVAL on NOSCRIPT, passing the key only
//! through KEYS (key-prefix isolation and Redis Cluster both depend on that).

use std::fmt;

/// The GCRA script. Header: KEYS/ARGV/Returns.
pub const GCRA_SCRIPT: &str = include_str!("gcra.lua");

/// SHA-1 of [`GCRA_SCRIPT`], for EVALSHA (a unit test keeps the two in step).
pub const GCRA_SCRIPT_SHA1: &str = "ded93e46dd40dc966f0883ad1a3028f8a546fe95";

/// The window every quota of the contract is expressed in.
pub const WINDOW_MS: u64 = 60_000;

/// Largest quota accepted from configuration: beyond it the emission interval would round to 0 ms.
pub const MAX_PER_MINUTE: u32 = 60_000;

/// The contract's rate-limit categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// `/auth/*`: 60 per minute.
    Auth,
    /// The waiting room: 120 per minute.
    Queue,
    /// `/seats/reserve`, `/reservations`, `/reservations/{id}/cancel`, `/seats/lock`: 30 per minute.
    Booking,
    /// Everything else: 3,000 per minute.
    Default,
    /// Content a user writes for others to read (community posts and comments, news): 30 per
    /// minute per user, far above a person typing and far below a flood (contract §10).
    Write,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Auth,
        Category::Queue,
        Category::Booking,
        Category::Default,
        Category::Write,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Auth => "auth",
            Category::Queue => "queue",
            Category::Booking => "booking",
            Category::Default => "default",
            Category::Write => "write",
        }
    }

    /// The contract's per-minute quota.
    pub fn default_per_minute(self) -> u32 {
        match self {
            Category::Auth => 60,
            Category::Queue => 120,
            Category::Booking => 30,
            Category::Default => 3_000,
            Category::Write => 30,
        }
    }
}

/// A per-minute quota. The burst equals the quota: an identity may spend a whole minute's worth at
/// once, then earns one request back every `WINDOW_MS / per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            per_minute,
            burst: per_minute,
        }
    }

    /// Milliseconds between two requests at the sustained rate.
    pub fn emission_interval_ms(self) -> i64 {
        (WINDOW_MS / u64::from(self.per_minute.max(1))) as i64
    }

    /// ARGV of the script: interval, burst, cost, commit.
    pub fn script_args(self, cost: u32, commit: bool) -> [i64; 4] {
        [
            self.emission_interval_ms(),
            i64::from(self.burst),
            i64::from(cost),
            i64::from(commit),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    #[error("rate limit entry `{0}` is not `category=per_minute`")]
    Malformed(String),
    #[error("unknown rate limit category `{0}`")]
    UnknownCategory(String),
    #[error("rate limit for `{0}` must be 1..={MAX_PER_MINUTE} per minute")]
    OutOfRange(String),
}

/// The per-category quotas in force: the contract's defaults, overridden by the `rate_limits`
/// variable (`auth=60,queue=120,booking=30,default=3000`; any subset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    per_minute: [u32; 5],
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_minute: Category::ALL.map(Category::default_per_minute),
        }
    }
}

impl Limits {
    pub fn parse(text: &str) -> Result<Self, LimitsError> {
        let mut limits = Self::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, value) = entry
                .split_once('=')
                .ok_or_else(|| LimitsError::Malformed(entry.to_string()))?;
            let name = name.trim();
            let index = Category::ALL
                .iter()
                .position(|c| c.name() == name)
                .ok_or_else(|| LimitsError::UnknownCategory(name.to_string()))?;
            let value: u32 = value
                .trim()
                .parse()
                .map_err(|_| LimitsError::Malformed(entry.to_string()))?;
            if value == 0 || value > MAX_PER_MINUTE {
                return Err(LimitsError::OutOfRange(name.to_string()));
            }
            limits.per_minute[index] = value;
        }
        Ok(limits)
    }

    pub fn quota(&self, category: Category) -> Quota {
        let index = Category::ALL
            .iter()
            .position(|c| *c == category)
            .unwrap_or(Category::ALL.len() - 1);
        Quota::per_minute(self.per_minute[index])
    }
}

/// Who a request counts against: the authenticated user, else the client's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    User(String),
    Ip(String),
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::User(id) => write!(f, "u:{id}"),
            Identity::Ip(ip) => write!(f, "ip:{ip}"),
        }
    }
}

/// The limiter key of an identity in a category: `<prefix>:rl:<category>:{<identity>}`. The hash
/// tag keeps every key of one identity on one Redis Cluster slot.
pub fn limiter_key(prefix: &str, category: Category, identity: &Identity) -> String {
    format!("{prefix}:rl:{}:{{{identity}}}", category.name())
}

/// The client's address: the trusted proxy header when one is configured and present (CloudFront's
/// `cloudfront-viewer-address` is `ip:port`), else the peer address the runtime reports. Ports are
/// dropped, so one client's connections share a quota.
pub fn client_ip(trusted_header_value: Option<&str>, peer_addr: Option<&str>) -> String {
    let raw = trusted_header_value
        .map(|v| v.split(',').next().unwrap_or(v).trim())
        .filter(|v| !v.is_empty())
        .or(peer_addr)
        .unwrap_or("unknown");
    strip_port(raw).to_string()
}

fn strip_port(addr: &str) -> &str {
    // [v6]:port
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    // v4:port (one colon); a bare v6 address has several and keeps them.
    match addr.split_once(':') {
        Some((host, port)) if !port.contains(':') => host,
        _ => addr,
    }
}

/// The script's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed { remaining: u32 },
    Limited { retry_after_ms: u64 },
}

impl Decision {
    /// Reads `{allowed, retry_after_ms, remaining}`; anything else is a script/host mismatch.
    pub fn from_reply(reply: &[i64]) -> Option<Self> {
        match reply {
            [1, _, remaining] => Some(Decision::Allowed {
                remaining: u32::try_from(*remaining).unwrap_or(0),
            }),
            [0, retry_after_ms, _] => Some(Decision::Limited {
                retry_after_ms: u64::try_from(*retry_after_ms).unwrap_or(0),
            }),
            _ => None,
        }
    }

    /// Whole seconds for `Retry-After` (never 0: a client told "0" retries at once).
    pub fn retry_after_secs(self) -> Option<u32> {
        match self {
            Decision::Allowed { .. } => None,
            Decision::Limited { retry_after_ms } => {
                Some(u32::try_from(retry_after_ms.div_ceil(1000).max(1)).unwrap_or(u32::MAX))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sha1_constant_matches_the_script() {
        assert_eq!(
            sha1_smol::Sha1::from(GCRA_SCRIPT).digest().to_string(),
            GCRA_SCRIPT_SHA1
        );
    }

    #[test]
    fn the_script_touches_only_keys_it_was_given() {
        // No key names are built inside the script: every redis.call names KEYS[..].
        for line in GCRA_SCRIPT.lines().filter(|l| l.contains("redis.call(")) {
            assert!(
                line.contains("KEYS[1]") || line.contains("'TIME'"),
                "{line}"
            );
        }
    }

    #[test]
    fn defaults_are_the_contract_quotas() {
        let limits = Limits::default();
        assert_eq!(limits.quota(Category::Auth).per_minute, 60);
        assert_eq!(limits.quota(Category::Queue).per_minute, 120);
        assert_eq!(limits.quota(Category::Booking).per_minute, 30);
        assert_eq!(limits.quota(Category::Default).per_minute, 3_000);
        assert_eq!(limits.quota(Category::Write).per_minute, 30);
        assert_eq!(limits.quota(Category::Auth).emission_interval_ms(), 1_000);
    }

    #[test]
    fn configuration_overrides_a_subset_and_refuses_nonsense() {
        let limits = Limits::parse("auth=5, booking=10").expect("valid");
        assert_eq!(limits.quota(Category::Auth), Quota::per_minute(5));
        assert_eq!(limits.quota(Category::Queue).per_minute, 120);
        assert_eq!(Limits::parse(""), Ok(Limits::default()));
        assert!(matches!(
            Limits::parse("login=5"),
            Err(LimitsError::UnknownCategory(_))
        ));
        assert!(matches!(
            Limits::parse("auth"),
            Err(LimitsError::Malformed(_))
        ));
        assert!(matches!(
            Limits::parse("auth=0"),
            Err(LimitsError::OutOfRange(_))
        ));
        assert!(matches!(
            Limits::parse("auth=-1"),
            Err(LimitsError::Malformed(_))
        ));
    }

    #[test]
    fn keys_carry_the_prefix_category_and_a_hash_tagged_identity() {
        assert_eq!(
            limiter_key("urr", Category::Auth, &Identity::Ip("10.0.0.1".into())),
            "urr:rl:auth:{ip:10.0.0.1}"
        );
        assert_eq!(
            limiter_key("t1", Category::Booking, &Identity::User("u1".into())),
            "t1:rl:booking:{u:u1}"
        );
    }

    #[test]
    fn the_client_ip_prefers_the_trusted_header_and_drops_ports() {
        assert_eq!(
            client_ip(Some("203.0.113.9:4431"), Some("10.0.0.1:80")),
            "203.0.113.9"
        );
        assert_eq!(client_ip(None, Some("127.0.0.1:5000")), "127.0.0.1");
        assert_eq!(client_ip(Some(""), Some("[::1]:5000")), "::1");
        assert_eq!(client_ip(None, Some("2001:db8::1")), "2001:db8::1");
        assert_eq!(client_ip(None, None), "unknown");
    }

    #[test]
    fn replies_read_as_decisions_with_whole_second_retry_after() {
        assert_eq!(
            Decision::from_reply(&[1, 0, 4]),
            Some(Decision::Allowed { remaining: 4 })
        );
        let limited = Decision::from_reply(&[0, 1_200, 0]).expect("limited");
        assert_eq!(limited.retry_after_secs(), Some(2));
        assert_eq!(
            Decision::from_reply(&[0, 0, 0]).and_then(Decision::retry_after_secs),
            Some(1)
        );
        assert_eq!(Decision::from_reply(&[1]), None);
    }
}
