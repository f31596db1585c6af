//! `GET /api/time`: the server clock, for the web client's on-sale countdowns.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeReply {
    /// ISO-8601 with offset, UTC, millisecond precision.
    pub time: String,
}

/// Formats milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (civil-from-days,
/// H. Hinnant's algorithm), so components need no date crate for this one field.
pub fn format_unix_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (h, m, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_formats_as_1970() {
        assert_eq!(format_unix_millis(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn a_leap_day_formats_correctly() {
        // 2024-02-29T12:34:56.789Z
        assert_eq!(
            format_unix_millis(1_709_210_096_789),
            "2024-02-29T12:34:56.789Z"
        );
    }

    #[test]
    fn the_issue_date_formats_correctly() {
        // 2026-11-25T00:00:00.000Z
        assert_eq!(
            format_unix_millis(1_795_564_800_000),
            "2026-11-25T00:00:00.000Z"
        );
    }
}
