//! Timestamps in admin request bodies: ISO-8601 / RFC 3339 date-times, parsed to whole seconds
//! since the Unix epoch at the edge, so Postgres never sees text it could fail to cast.
//!
//! Accepted: `YYYY-MM-DDTHH:MM[:SS[.fraction]]` (or a space for `T`) followed by `Z`, `±HH:MM` or
//! `±HHMM`. Without an offset the time is Korean local time (see [`DEFAULT_OFFSET_SECS`]): the
//! admin screens' `datetime-local` inputs send exactly that. Fractions of a second are dropped.

/// Offset of a timestamp that names none: Korea Standard Time (UTC+9, no daylight saving), where
/// the platform's operators and venues are.
pub const DEFAULT_OFFSET_SECS: i64 = 9 * 3600;
/// Years outside this range are typos, and keep Postgres' `timestamptz` far from its limits.
pub const MIN_YEAR: i64 = 2000;
pub const MAX_YEAR: i64 = 2100;
/// Longest accepted timestamp text (a nanosecond fraction and an offset fit well within it).
pub const MAX_TIMESTAMP_CHARS: usize = 40;

/// Seconds since the Unix epoch, or `None` when the text is not an accepted timestamp.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() > MAX_TIMESTAMP_CHARS || !text.is_ascii() {
        return None;
    }
    let bytes = text.as_bytes();
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    if !matches!(bytes.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (year, month, day) = parse_date(date)?;
    let rest = &rest[1..];
    let hour = digits(rest.get(0..2)?)?;
    if rest.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let minute = digits(rest.get(3..5)?)?;
    let mut rest = &rest[5..];
    let mut second = 0;
    if let Some(after) = rest.strip_prefix(':') {
        second = digits(after.get(0..2)?)?;
        rest = &after[2..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            rest = &fraction[len..];
        }
    }
    let offset = parse_offset(rest)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(local - offset)
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_date(text: &str) -> Option<(i64, i64, i64)> {
    let b = text.as_bytes();
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (
        digits(&text[0..4])?,
        digits(&text[5..7])?,
        digits(&text[8..10])?,
    );
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) || day < 1 || day > days_in_month {
        return None;
    }
    Some((year, month, day))
}

/// The offset east of UTC in seconds: `Z`, `±HH:MM`, `±HHMM`, or nothing (Korean time).
fn parse_offset(text: &str) -> Option<i64> {
    match text {
        "" => return Some(DEFAULT_OFFSET_SECS),
        "Z" | "z" => return Some(0),
        _ => {}
    }
    let sign = match text.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let body = &text[1..];
    let (hours, minutes) = match body.len() {
        5 if body.as_bytes()[2] == b':' => (digits(&body[0..2])?, digits(&body[3..5])?),
        4 => (digits(&body[0..2])?, digits(&body[2..4])?),
        _ => return None,
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use urr_api::time::format_unix_millis;

    fn iso(text: &str) -> String {
        format_unix_millis(parse_timestamp(text).expect(text) * 1000)
    }

    #[test]
    fn utc_and_offset_timestamps_name_the_same_instant() {
        assert_eq!(iso("2026-11-25T00:00:00Z"), "2026-11-25T00:00:00.000Z");
        assert_eq!(iso("2026-11-25T09:00:00+09:00"), "2026-11-25T00:00:00.000Z");
        assert_eq!(iso("2026-11-24T19:00:00-0500"), "2026-11-25T00:00:00.000Z");
        assert_eq!(
            iso("2026-11-25T00:00:00.123456Z"),
            "2026-11-25T00:00:00.000Z"
        );
        assert_eq!(iso("2024-02-29 12:34:56z"), "2024-02-29T12:34:56.000Z");
    }

    #[test]
    fn a_timestamp_without_offset_is_korean_time_and_seconds_are_optional() {
        assert_eq!(iso("2026-12-01T19:00"), "2026-12-01T10:00:00.000Z");
        assert_eq!(iso("2026-12-01T19:00:30"), "2026-12-01T10:00:30.000Z");
    }

    #[test]
    fn malformed_or_impossible_timestamps_are_refused() {
        for bad in [
            "",
            "tomorrow",
            "2026-11-25",
            "2026-11-25T",
            "2026-13-01T00:00Z",
            "2026-02-29T00:00Z",
            "2026-04-31T00:00Z",
            "2026-11-25T24:00Z",
            "2026-11-25T23:60Z",
            "2026-11-25T23:59:60Z",
            "2026-11-25T00:00:00.Z",
            "2026-11-25T00:00:00+25:00",
            "2026-11-25T00:00:00+9",
            "1999-12-31T23:59Z",
            "2101-01-01T00:00Z",
            "+20261-11-25T00:00Z",
            "2026-11-25T00:00:00Z trailing",
            "２０２６-11-25T00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_from_civil_inverts_the_formatter() {
        for secs in [951_782_400_i64, 1_709_210_096, 4_102_444_800] {
            let text = format_unix_millis(secs * 1000);
            assert_eq!(parse_timestamp(&text), Some(secs), "{text}");
        }
    }
}
