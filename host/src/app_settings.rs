//! Boot-time checks of the application's own settings.
//!
//! Components read their variables on every request, so a typo in `rate_limits` or
//! `queue_settings` would otherwise surface as a 500 on every call to the components that use it,
//! long after a deploy looked healthy. The host parses each setting it knows with the SAME parser
//! the components use and refuses to start when one is invalid. Variables the manifest does not
//! declare are skipped, so other applications (and test fixtures) run unchanged.
//!
//! It also refuses the payment mock's published secrets unless `development_mode` is `true`
//! ([`check_development_secrets`]): a deployment that forgot to set the real ones must not come up.

use std::collections::HashMap;

use anyhow::{Result, bail};

/// One setting: its variable name and the check (the components' parser).
type Check = fn(&str) -> Result<(), String>;

const CHECKS: &[(&str, Check)] = &[
    ("rate_limits", |v| {
        urr_ratelimit::Limits::parse(v)
            .map(drop)
            .map_err(|e| e.to_string())
    }),
    ("queue_settings", |v| {
        urr_queue::QueueSettings::parse(v)
            .map(drop)
            .map_err(|e| e.to_string())
    }),
    ("hold_limits", |v| {
        urr_booking::config::HoldLimits::parse(v)
            .map(drop)
            .map_err(|e| e.to_string())
    }),
    ("purchase_limits", |v| {
        urr_booking::config::PurchaseLimits::parse(v)
            .map(drop)
            .map_err(|e| e.to_string())
    }),
    ("cancel_cutoff_secs", |v| {
        urr_booking::config::parse_cancel_cutoff_secs(v)
            .map(drop)
            .map_err(|e| e.to_string())
    }),
    ("hold_ttl_secs", |v| ttl("hold_ttl_secs", v)),
    ("reservation_ttl_secs", |v| ttl("reservation_ttl_secs", v)),
    ("refresh_grace_ms", |v| {
        urr_auth::refresh::parse_grace_ms(v)
            .map(drop)
            .ok_or_else(|| "must be a whole number of milliseconds up to the maximum".into())
    }),
    ("jwt_public_keys", key_set),
    ("queue_public_keys", key_set),
];

fn ttl(name: &'static str, value: &str) -> Result<(), String> {
    // The default only matters for an empty value, which is valid whatever it is.
    urr_booking::config::parse_ttl_secs(name, value, 1)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn key_set(value: &str) -> Result<(), String> {
    urr_tokens::keys::KeySet::parse(value)
        .and_then(|set| set.check_points())
        .map_err(|e| e.to_string())
}

/// Every known setting among the resolved application variables, checked; all problems at once.
pub fn check(app_vars: &HashMap<String, String>) -> Result<()> {
    let problems: Vec<String> = CHECKS
        .iter()
        .filter_map(|(name, check)| {
            let value = app_vars.get(*name)?;
            check(value)
                .err()
                .map(|e| format!("variable `{name}`: {e}"))
        })
        .collect();
    if !problems.is_empty() {
        bail!("invalid application settings:\n  {}", problems.join("\n  "));
    }
    Ok(())
}

/// Refuses the payment mock's well-known values (`urr_payments::development`) in any variable
/// unless `development_mode` is `true`, naming each variable (never a value of another).
pub fn check_development_secrets(app_vars: &HashMap<String, String>) -> Result<()> {
    use urr_payments::development::{DEVELOPMENT_MODE_VARIABLE, is_on, refused};
    let development = app_vars
        .get(DEVELOPMENT_MODE_VARIABLE)
        .is_some_and(|v| is_on(v));
    let mut settings: Vec<(&str, &str)> = app_vars
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    settings.sort_unstable();
    let names = refused(development, &settings);
    if !names.is_empty() {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        bail!(
            "variables {} hold the payment mock's well-known development values, published in \
             the repository: set the real values (SPIN_VARIABLE_<NAME>), or set \
             `{DEVELOPMENT_MODE_VARIABLE}` to `true` for local development only",
            names.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_manifest_defaults_pass() {
        let manifest = crate::manifest::Manifest::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spin.toml"
        )))
        .expect("spin.toml loads");
        let defaults: HashMap<String, String> = manifest
            .variables
            .iter()
            .filter_map(|(name, decl)| Some((name.clone(), decl.default.clone()?)))
            .collect();
        assert!(defaults.contains_key("rate_limits"));
        check(&defaults).expect("defaults are valid");
    }

    #[test]
    fn every_bad_setting_is_named() {
        let err = check(&vars(&[
            ("rate_limits", "auth=0"),
            ("queue_settings", "threshold=lots"),
            ("hold_ttl_secs", "0"),
            ("cancel_cutoff_secs", "-1"),
            ("jwt_public_keys", "k1:not-base64"),
            ("unrelated", "anything"),
        ]))
        .expect_err("invalid settings")
        .to_string();
        for name in [
            "rate_limits",
            "queue_settings",
            "hold_ttl_secs",
            "cancel_cutoff_secs",
            "jwt_public_keys",
        ] {
            assert!(
                err.contains(&format!("`{name}`")),
                "{name} missing in: {err}"
            );
        }
        assert!(!err.contains("unrelated"), "{err}");
    }

    #[test]
    fn undeclared_settings_are_skipped() {
        check(&vars(&[("other_app_setting", "x")])).expect("nothing to check");
    }

    #[test]
    fn the_mock_secrets_are_refused_unless_in_development_mode() {
        let mock = [
            ("provider_webhook_secret", "whsec_test_mock"),
            ("provider_secret_key", "sk_test_mock"),
            ("key_prefix", "urr"),
        ];
        let err = check_development_secrets(&vars(&mock))
            .expect_err("refused")
            .to_string();
        assert!(err.contains("`provider_webhook_secret`"), "{err}");
        assert!(err.contains("`provider_secret_key`"), "{err}");
        assert!(err.contains("development_mode"), "{err}");
        assert!(!err.contains("key_prefix"), "{err}");

        let mut dev = mock.to_vec();
        dev.push(("development_mode", "true"));
        check_development_secrets(&vars(&dev)).expect("development mode");
        let mut off = mock.to_vec();
        off.push(("development_mode", "false"));
        assert!(check_development_secrets(&vars(&off)).is_err());
        check_development_secrets(&vars(&[("provider_webhook_secret", "whsec_real")]))
            .expect("a real secret");
    }

    #[test]
    fn a_limit_above_the_maximum_is_refused() {
        let err =
            check(&vars(&[("rate_limits", "default=100000000")])).expect_err("above the maximum");
        assert!(err.to_string().contains("rate_limits"), "{err}");
    }
}
