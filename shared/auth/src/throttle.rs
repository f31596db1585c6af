//! Per-account login throttling: after a burst of failed logins for one email, one more attempt
//! per interval — whether or not the account exists, so it reveals nothing. It runs on the shared
//! GCRA script: every attempt is charged, atomically, before the (expensive) password check, so
//! attempts sent at once cost as much as attempts sent one after another (a peek first and a
//! charge after the check let every attempt in flight past the peek). An attempt whose password
//! was right, or that never reached the check, gives its charge back ([`GIVE_BACK_SCRIPT`]).

use sha2::{Digest, Sha256};
use urr_ratelimit::Quota;

/// Failed logins allowed at once for one email.
pub const LOGIN_FAILURE_BURST: u32 = 5;
/// Then one more per minute: slow enough to stop guessing, quick enough for a forgetful user.
pub const LOGIN_FAILURES_PER_MINUTE: u32 = 1;

/// Gives one charge back to a limiter key. Header: KEYS/ARGV/Returns.
pub const GIVE_BACK_SCRIPT: &str = include_str!("give_back.lua");

/// SHA-1 of [`GIVE_BACK_SCRIPT`], for EVALSHA (a unit test keeps the two in step).
pub const GIVE_BACK_SCRIPT_SHA1: &str = "0c6790c971b965d8366e9968aea87827e6e4c67a";

/// ARGV of [`GIVE_BACK_SCRIPT`] for a key charged under `quota`: what one charge added.
pub fn give_back_args(quota: Quota) -> [i64; 1] {
    [quota.emission_interval_ms()]
}

pub fn login_failure_quota() -> Quota {
    Quota {
        per_minute: LOGIN_FAILURES_PER_MINUTE,
        burst: LOGIN_FAILURE_BURST,
    }
}

/// `<prefix>:auth:login-fail:{<digest>}`: the address is hashed so no email sits in Redis.
pub fn login_failure_key(prefix: &str, normalized_email: &str) -> String {
    let digest = Sha256::digest(normalized_email.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}:auth:login-fail:{{{hex}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_hides_the_email_and_is_stable() {
        let key = login_failure_key("urr", "kim@example.com");
        assert!(key.starts_with("urr:auth:login-fail:{") && key.ends_with('}'));
        assert!(!key.contains("kim"));
        assert_eq!(key, login_failure_key("urr", "kim@example.com"));
    }

    #[test]
    fn five_failures_then_one_a_minute() {
        let quota = login_failure_quota();
        assert_eq!(quota.script_args(1, true), [60_000, 5, 1, 1]);
        // A charge given back is exactly one charge.
        assert_eq!(give_back_args(quota), [60_000]);
    }

    #[test]
    fn the_give_back_sha1_matches_the_script() {
        assert_eq!(
            sha1_smol::Sha1::from(GIVE_BACK_SCRIPT).digest().to_string(),
            GIVE_BACK_SCRIPT_SHA1
        );
    }

    #[test]
    fn the_give_back_script_touches_only_its_key() {
        for line in GIVE_BACK_SCRIPT
            .lines()
            .filter(|l| l.contains("redis.call("))
        {
            assert!(
                line.contains("KEYS[1]") || line.contains("'TIME'"),
                "{line}"
            );
        }
    }
}
