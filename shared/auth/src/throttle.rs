//! Per-account login throttling: after a burst of failed logins for one email, one more attempt
//! per interval — whether or not the account exists, so it reveals nothing. It runs on the shared
//! GCRA script: peek before the (expensive) password check, consume on each failure.

use sha2::{Digest, Sha256};
use urr_ratelimit::Quota;

/// Failed logins allowed at once for one email.
pub const LOGIN_FAILURE_BURST: u32 = 5;
/// Then one more per minute: slow enough to stop guessing, quick enough for a forgetful user.
pub const LOGIN_FAILURES_PER_MINUTE: u32 = 1;

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
    }
}
