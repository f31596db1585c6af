//! Development mode and the payment provider mock's well-known values.
//!
//! The mock provider's secret key, client key and webhook secret are spin.toml's defaults and are
//! published in this repository: a deployment that kept them would let anyone sign a webhook that
//! marks a payment captured. They are accepted only while the application variable
//! `development_mode` is `true` — `urr-edge up` and the tests set it; production never does. The
//! host refuses to boot with them otherwise, and because real Spin runs no host checks, `pay` and
//! `payments` refuse to use them as well (503, with a log line naming the variable).

/// The application (and component) variable that turns development mode on.
pub const DEVELOPMENT_MODE_VARIABLE: &str = "development_mode";
/// The one value that means on; anything else, missing included, is off.
const ON: &str = "true";

/// The mock provider's secret API key (`tools/mock-provider`, spin.toml's default).
pub const WELL_KNOWN_SECRET_KEY: &str = "sk_test_mock";
/// The mock provider's public client key.
pub const WELL_KNOWN_CLIENT_KEY: &str = "ck_test_mock";
/// The mock provider's webhook signing secret.
pub const WELL_KNOWN_WEBHOOK_SECRET: &str = "whsec_test_mock";
/// Every well-known development value.
pub const WELL_KNOWN: [&str; 3] = [
    WELL_KNOWN_SECRET_KEY,
    WELL_KNOWN_CLIENT_KEY,
    WELL_KNOWN_WEBHOOK_SECRET,
];

/// Whether a `development_mode` value turns development mode on.
pub fn is_on(value: &str) -> bool {
    value.trim() == ON
}

/// Whether `value` is one of the published development values.
pub fn is_well_known(value: &str) -> bool {
    WELL_KNOWN.contains(&value.trim())
}

/// The names among `(name, value)` settings that hold a published development value while
/// development mode is off: each must be refused. Empty in development mode.
pub fn refused<'a>(development_mode: bool, settings: &[(&'a str, &str)]) -> Vec<&'a str> {
    if development_mode {
        return Vec::new();
    }
    settings
        .iter()
        .filter(|(_, value)| is_well_known(value))
        .map(|(name, _)| *name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_true_turns_development_mode_on() {
        assert!(is_on("true"));
        assert!(is_on(" true\n"));
        for off in ["", "false", "TRUE", "1", "yes"] {
            assert!(!is_on(off), "{off:?}");
        }
    }

    #[test]
    fn the_mock_values_are_refused_outside_development_mode_only() {
        let settings = [
            ("payment_webhook_secret", WELL_KNOWN_WEBHOOK_SECRET),
            ("payment_provider_secret_key", "sk_live_real"),
            ("payment_client_key", WELL_KNOWN_CLIENT_KEY),
        ];
        assert_eq!(
            refused(false, &settings),
            ["payment_webhook_secret", "payment_client_key"]
        );
        assert!(refused(true, &settings).is_empty());
        assert!(refused(false, &[("payment_webhook_secret", "whsec_live")]).is_empty());
    }
}
