//! The `queue_settings` variable: `threshold=1000,rate=100,slot_secs=600,slot_max_secs=1800,
//! waiter_timeout_secs=60,open_lead_secs=600,presale_pool=100000` (any subset; the rest keep
//! their defaults).

/// Largest maximum-active count accepted (configuration or admin): each admission is a few
/// Redis writes inside one script, and the sweep bounds assume slots in this range.
pub const MAX_THRESHOLD: u32 = 1_000_000;
/// Largest admission rate (users per second) accepted.
pub const MAX_RATE: u32 = 100_000;
/// Longest slot lifetime or lead time accepted: one day, also the state's idle TTL below.
pub const MAX_DURATION_SECS: u32 = 24 * 60 * 60;
/// Every waiting-room key but the threshold expires after this long without a visit: longer
/// than any slot can live, so an idle event's room cleans itself up.
pub const STATE_TTL_MS: u64 = 2 * MAX_DURATION_SECS as u64 * 1000;
/// Largest pre-sale pool accepted: each member is one ZSET entry (plus its last-seen time), and
/// the opening admits the pool in chunks, so the cap bounds memory, not the work at the peak.
pub const MAX_PRESALE_POOL: u32 = 1_000_000;
/// How long the event gate trusts a cached event status (the surge reads Redis, not Postgres).
pub const EVENT_CACHE_MS: u64 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// Maximum active users per event unless an admin set another (contract default: 1,000).
    pub threshold: u32,
    /// Admissions from the line per second (default 100).
    pub rate_per_sec: u32,
    /// A slot's lifetime, renewed by activity (default 10 minutes, the entry token's).
    pub slot_secs: u32,
    /// A slot never lives longer than this from admission, however active (default 30 minutes).
    pub slot_max_secs: u32,
    /// A waiter not seen for this long is dropped (default 60 s; clients poll at most every 60 s).
    pub waiter_timeout_secs: u32,
    /// Joins open this long before the sale starts (default 10 minutes).
    pub open_lead_secs: u32,
    /// Fair start: at most this many pre-sale joiners are pooled and admitted in drawn order at
    /// the opening (default 100,000); later pre-sale joiners queue first come, first served
    /// behind the pool. 0 turns fair start off (pre-sale joins are FIFO like later ones).
    pub presale_pool: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            threshold: 1_000,
            rate_per_sec: 100,
            slot_secs: 600,
            slot_max_secs: 1_800,
            waiter_timeout_secs: 60,
            open_lead_secs: 600,
            presale_pool: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("queue_settings entry `{0}` is not `name=whole number`")]
    Malformed(String),
    #[error("unknown queue_settings name `{0}`")]
    Unknown(String),
    #[error("queue_settings `{0}` is out of range")]
    OutOfRange(String),
    #[error("queue_settings: slot_max_secs must be at least slot_secs")]
    SlotMaxBelowSlot,
}

impl QueueSettings {
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        let mut settings = Self::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, value) = entry
                .split_once('=')
                .ok_or_else(|| SettingsError::Malformed(entry.to_string()))?;
            let name = name.trim();
            let value: u32 = value
                .trim()
                .parse()
                .map_err(|_| SettingsError::Malformed(entry.to_string()))?;
            let (slot, max) = match name {
                "threshold" => (&mut settings.threshold, MAX_THRESHOLD),
                "rate" => (&mut settings.rate_per_sec, MAX_RATE),
                "slot_secs" => (&mut settings.slot_secs, MAX_DURATION_SECS),
                "slot_max_secs" => (&mut settings.slot_max_secs, MAX_DURATION_SECS),
                "waiter_timeout_secs" => (&mut settings.waiter_timeout_secs, MAX_DURATION_SECS),
                "open_lead_secs" => (&mut settings.open_lead_secs, MAX_DURATION_SECS),
                "presale_pool" => (&mut settings.presale_pool, MAX_PRESALE_POOL),
                _ => return Err(SettingsError::Unknown(name.to_string())),
            };
            // A zero lead time (joins only once the sale is open) and a zero pool (no fair start)
            // are meaningful; nothing else may be zero.
            if value > max || (value == 0 && !matches!(name, "open_lead_secs" | "presale_pool")) {
                return Err(SettingsError::OutOfRange(name.to_string()));
            }
            *slot = value;
        }
        if settings.slot_max_secs < settings.slot_secs {
            return Err(SettingsError::SlotMaxBelowSlot);
        }
        Ok(settings)
    }

    pub fn slot_ms(&self) -> u64 {
        u64::from(self.slot_secs) * 1000
    }

    pub fn slot_max_ms(&self) -> u64 {
        u64::from(self.slot_max_secs) * 1000
    }

    pub fn waiter_timeout_ms(&self) -> u64 {
        u64::from(self.waiter_timeout_secs) * 1000
    }

    pub fn open_lead_ms(&self) -> i64 {
        i64::from(self.open_lead_secs) * 1000
    }
}

/// An admin's new threshold (`?threshold=N`).
pub fn parse_threshold(query: &str) -> Result<u32, crate::QueueError> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "threshold")
        .and_then(|(_, value)| value.trim().parse::<u32>().ok())
        .filter(|n| (1..=MAX_THRESHOLD).contains(n))
        .ok_or(crate::QueueError::InvalidThreshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = QueueSettings::parse("").expect("empty is the defaults");
        assert_eq!(s, QueueSettings::default());
        assert_eq!(
            (s.threshold, s.rate_per_sec, s.slot_ms()),
            (1_000, 100, 600_000)
        );
        assert_eq!(s.waiter_timeout_ms(), 60_000);
    }

    #[test]
    fn a_subset_overrides_and_nonsense_is_refused() {
        let s = QueueSettings::parse(" threshold=100, rate=5 ,open_lead_secs=0,presale_pool=0")
            .expect("valid");
        assert_eq!((s.threshold, s.rate_per_sec, s.open_lead_secs), (100, 5, 0));
        assert_eq!(s.presale_pool, 0, "fair start off");
        assert_eq!(QueueSettings::default().presale_pool, 100_000);
        for bad in [
            "rate",
            "rate=-1",
            "rate=0",
            "threshold=1000001",
            "presale_pool=1000001",
            "speed=3",
            "slot_secs=x",
        ] {
            assert!(QueueSettings::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            QueueSettings::parse("slot_secs=900,slot_max_secs=600"),
            Err(SettingsError::SlotMaxBelowSlot)
        );
    }

    #[test]
    fn an_admin_threshold_is_a_whole_number_in_range() {
        assert_eq!(parse_threshold("threshold=250"), Ok(250));
        assert_eq!(parse_threshold("a=1&threshold=7"), Ok(7));
        for bad in [
            "",
            "threshold=",
            "threshold=0",
            "threshold=-3",
            "threshold=2000000",
            "t=5",
        ] {
            assert_eq!(
                parse_threshold(bad),
                Err(crate::QueueError::InvalidThreshold),
                "{bad}"
            );
        }
    }
}
