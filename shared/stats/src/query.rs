//! The statistics query parameters, read the way URR's page sends them and bounded the way the
//! contract says: a missing value (or `days` <= 0) takes the default, a number beyond the bounds
//! is clamped, and a value that is not a whole number is a 400 naming the parameter.

use crate::StatsError;
use urr_api::id::canonical_uuid;

/// The window when the client names none (URR's page asks for 30 days).
pub const DEFAULT_DAYS: i64 = 30;
/// Hourly traffic looks at a week by default.
pub const DEFAULT_HOURLY_DAYS: i64 = 7;
/// A year of days at most.
pub const MAX_DAYS: i64 = 365;
/// Hourly traffic pools hours of day; beyond a quarter the pattern says nothing new.
pub const MAX_HOURLY_DAYS: i64 = 90;
/// Events listed when the client names no `limit`, and the most it may ask for.
pub const DEFAULT_EVENT_LIMIT: i64 = 10;
pub const MAX_EVENT_LIMIT: i64 = 100;

/// How `/stats/events` ranks events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Revenue,
    Reservations,
    Occupancy,
}

impl SortBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revenue => "revenue",
            Self::Reservations => "reservations",
            Self::Occupancy => "occupancy",
        }
    }
}

/// The buckets of `/stats/revenue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Weekly,
    Monthly,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }
}

/// The first non-blank value of a parameter.
fn param(raw: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(raw.as_bytes())
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_string())
        .find(|v| !v.is_empty())
}

/// A whole number (any size: `-5`, `99999999999999999999`), saturated to i64; `None` when the
/// text is not one.
fn whole(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<i64>().unwrap_or(if text.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    }))
}

/// `days`: missing or <= 0 → `default`; above `max` → `max`.
pub fn days(raw: &str, default: i64, max: i64) -> Result<i64, StatsError> {
    match param(raw, "days") {
        None => Ok(default),
        Some(text) => match whole(&text).ok_or(StatsError::InvalidDays)? {
            n if n <= 0 => Ok(default),
            n => Ok(n.min(max)),
        },
    }
}

/// `limit` of `/stats/events`: clamped to 1..=MAX_EVENT_LIMIT.
pub fn event_limit(raw: &str) -> Result<i64, StatsError> {
    match param(raw, "limit") {
        None => Ok(DEFAULT_EVENT_LIMIT),
        Some(text) => Ok(whole(&text)
            .ok_or(StatsError::InvalidLimit)?
            .clamp(1, MAX_EVENT_LIMIT)),
    }
}

pub fn sort_by(raw: &str) -> Result<SortBy, StatsError> {
    match param(raw, "sortBy").as_deref() {
        None | Some("revenue") => Ok(SortBy::Revenue),
        Some("reservations") => Ok(SortBy::Reservations),
        Some("occupancy") => Ok(SortBy::Occupancy),
        Some(_) => Err(StatsError::InvalidSort),
    }
}

pub fn period(raw: &str) -> Result<Period, StatsError> {
    match param(raw, "period").as_deref() {
        None | Some("daily") => Ok(Period::Daily),
        Some("weekly") => Ok(Period::Weekly),
        Some("monthly") => Ok(Period::Monthly),
        Some(_) => Err(StatsError::InvalidPeriod),
    }
}

/// `eventId` of `/stats/seat-preferences`: optional, a UUID when given.
pub fn event_id(raw: &str) -> Result<Option<String>, StatsError> {
    param(raw, "eventId")
        .map(|text| canonical_uuid(&text).ok_or(StatsError::InvalidId("eventId")))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_take_the_default_when_missing_or_not_positive_and_clamp_above() {
        assert_eq!(days("", 30, MAX_DAYS), Ok(30));
        assert_eq!(days("days=", 30, MAX_DAYS), Ok(30));
        assert_eq!(days("days=0", 30, MAX_DAYS), Ok(30));
        assert_eq!(days("days=-4", 7, MAX_HOURLY_DAYS), Ok(7));
        assert_eq!(days("days=14", 30, MAX_DAYS), Ok(14));
        assert_eq!(days("days=1000", 30, MAX_DAYS), Ok(365));
        assert_eq!(days("days=91", 7, MAX_HOURLY_DAYS), Ok(90));
        assert_eq!(days("days=99999999999999999999", 30, MAX_DAYS), Ok(365));
        assert_eq!(days("days=-99999999999999999999", 30, MAX_DAYS), Ok(30));
        for bad in ["days=abc", "days=1.5", "days=1e3", "days=-", "days=%2B5"] {
            assert_eq!(
                days(bad, 30, MAX_DAYS),
                Err(StatsError::InvalidDays),
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_clamp_and_names_are_checked() {
        assert_eq!(event_limit(""), Ok(DEFAULT_EVENT_LIMIT));
        assert_eq!(event_limit("limit=0"), Ok(1));
        assert_eq!(event_limit("limit=20"), Ok(20));
        assert_eq!(event_limit("limit=500"), Ok(100));
        assert_eq!(event_limit("limit=x"), Err(StatsError::InvalidLimit));
        assert_eq!(sort_by("sortBy=occupancy"), Ok(SortBy::Occupancy));
        assert_eq!(sort_by(""), Ok(SortBy::Revenue));
        assert_eq!(sort_by("sortBy=title"), Err(StatsError::InvalidSort));
        assert_eq!(period("period=weekly"), Ok(Period::Weekly));
        assert_eq!(period("period=hourly"), Err(StatsError::InvalidPeriod));
        assert_eq!(event_id(""), Ok(None));
        assert_eq!(
            event_id("eventId=0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B"),
            Ok(Some("0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b".into()))
        );
        assert_eq!(event_id("eventId=1"), Err(StatsError::InvalidId("eventId")));
    }
}
