//! Lifetimes, per-user caps and the buyer's cancel cut-off, from Spin variables
//! (docs/booking.md): `hold_ttl_secs`, `reservation_ttl_secs`, `hold_limits`, `purchase_limits`,
//! `cancel_cutoff_secs`.

/// Default seat-hold lifetime: 7 minutes, time to pick seats and start the reservation.
pub const DEFAULT_HOLD_TTL_SECS: u32 = 7 * 60;
/// Default pending-reservation lifetime: the contract's 5 minutes to pay.
pub const DEFAULT_RESERVATION_TTL_SECS: u32 = 5 * 60;
/// Longest lifetime either may be configured to (the SQL functions refuse more): an hour is
/// already far beyond any checkout.
pub const MAX_TTL_SECS: u32 = 3600;
/// Default: seats one user may hold at once for one event — the contract's purchase cap, so a
/// hold never promises more than the buyer may reserve.
pub const DEFAULT_MAX_SEATS_HELD: u32 = 4;
/// Default: hold calls per user per event per minute — enough for a buyer changing their mind
/// every few seconds, far too few for hold-release cycling to keep seats away from others.
pub const DEFAULT_HOLDS_PER_MINUTE: u32 = 20;
/// The contract's per-person caps per event across live reservations.
pub const DEFAULT_MAX_SEATS_PER_EVENT: u32 = 4;
pub const DEFAULT_MAX_STANDING_PER_EVENT: u32 = 10;
/// Largest cap accepted from configuration (load tests raise the caps; nothing needs more).
pub const MAX_CONFIGURED_CAP: u32 = 1_000_000;

/// Default buyer's cancel cut-off: 0 seconds before the event's start, i.e. the start itself.
pub const DEFAULT_CANCEL_CUTOFF_SECS: u32 = 0;
/// Longest cut-off accepted: 30 days before the start; more is a typo (in minutes or ms).
pub const MAX_CANCEL_CUTOFF_SECS: u32 = 30 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("`{0}` must be a whole number of seconds from 1 to {MAX_TTL_SECS}")]
    Ttl(&'static str),
    #[error(
        "`cancel_cutoff_secs` must be a whole number of seconds from 0 to {MAX_CANCEL_CUTOFF_SECS}"
    )]
    CancelCutoff,
    #[error(
        "`{variable}` entry `{entry}` is not `name=number` with a known name and 1..={MAX_CONFIGURED_CAP}"
    )]
    Entry {
        variable: &'static str,
        entry: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldLimits {
    pub max_seats_held: u32,
    pub holds_per_minute: u32,
}

impl Default for HoldLimits {
    fn default() -> Self {
        Self {
            max_seats_held: DEFAULT_MAX_SEATS_HELD,
            holds_per_minute: DEFAULT_HOLDS_PER_MINUTE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseLimits {
    pub seats: u32,
    pub standing: u32,
}

impl Default for PurchaseLimits {
    fn default() -> Self {
        Self {
            seats: DEFAULT_MAX_SEATS_PER_EVENT,
            standing: DEFAULT_MAX_STANDING_PER_EVENT,
        }
    }
}

/// Parses `a=1,b=2` where each name is one of `names`; any subset, the rest keep `values`.
fn parse_pairs<const N: usize>(
    variable: &'static str,
    text: &str,
    names: [&str; N],
    mut values: [u32; N],
) -> Result<[u32; N], ConfigError> {
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || ConfigError::Entry {
            variable,
            entry: entry.to_string(),
        };
        let (name, value) = entry.split_once('=').ok_or_else(bad)?;
        let index = names
            .iter()
            .position(|n| *n == name.trim())
            .ok_or_else(bad)?;
        values[index] = value
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|v| (1..=MAX_CONFIGURED_CAP).contains(v))
            .ok_or_else(bad)?;
    }
    Ok(values)
}

impl HoldLimits {
    /// `seats=4,per_minute=20` (any subset).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let d = Self::default();
        let [max_seats_held, holds_per_minute] = parse_pairs(
            "hold_limits",
            text,
            ["seats", "per_minute"],
            [d.max_seats_held, d.holds_per_minute],
        )?;
        Ok(Self {
            max_seats_held,
            holds_per_minute,
        })
    }
}

impl PurchaseLimits {
    /// `seats=4,standing=10` (any subset).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let d = Self::default();
        let [seats, standing] = parse_pairs(
            "purchase_limits",
            text,
            ["seats", "standing"],
            [d.seats, d.standing],
        )?;
        Ok(Self { seats, standing })
    }
}

/// A lifetime variable in seconds (empty: the default).
pub fn parse_ttl_secs(name: &'static str, text: &str, default: u32) -> Result<u32, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(default);
    }
    text.parse::<u32>()
        .ok()
        .filter(|v| (1..=MAX_TTL_SECS).contains(v))
        .ok_or(ConfigError::Ttl(name))
}

/// `cancel_cutoff_secs`: how long before the event's start a buyer's cancel (and its refund)
/// closes (empty: the default, at the start).
pub fn parse_cancel_cutoff_secs(text: &str) -> Result<u32, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(DEFAULT_CANCEL_CUTOFF_SECS);
    }
    text.parse::<u32>()
        .ok()
        .filter(|v| *v <= MAX_CANCEL_CUTOFF_SECS)
        .ok_or(ConfigError::CancelCutoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_contract_caps() {
        assert_eq!(PurchaseLimits::parse(""), Ok(PurchaseLimits::default()));
        assert_eq!(PurchaseLimits::default().seats, 4);
        assert_eq!(PurchaseLimits::default().standing, 10);
        assert_eq!(HoldLimits::parse("").map(|l| l.max_seats_held), Ok(4));
    }

    #[test]
    fn a_subset_overrides_and_nonsense_is_refused() {
        let limits = HoldLimits::parse("per_minute=1000").expect("valid");
        assert_eq!(limits.holds_per_minute, 1000);
        assert_eq!(limits.max_seats_held, 4);
        for bad in ["seats", "seats=0", "seats=-1", "rows=3", "seats=x"] {
            assert!(HoldLimits::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(parse_ttl_secs("hold_ttl_secs", "", 420), Ok(420));
        assert_eq!(parse_ttl_secs("hold_ttl_secs", " 2 ", 420), Ok(2));
        for bad in ["0", "3601", "-5", "1.5"] {
            assert!(parse_ttl_secs("hold_ttl_secs", bad, 420).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cancel_cutoff_is_seconds_before_the_start_bounded() {
        assert_eq!(parse_cancel_cutoff_secs(""), Ok(0));
        assert_eq!(parse_cancel_cutoff_secs(" 7200 "), Ok(7200));
        assert_eq!(
            parse_cancel_cutoff_secs("2592000"),
            Ok(MAX_CANCEL_CUTOFF_SECS)
        );
        for bad in ["-1", "2592001", "1h", "1.5"] {
            assert!(parse_cancel_cutoff_secs(bad).is_err(), "{bad}");
        }
    }
}
