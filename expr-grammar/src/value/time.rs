//! Text forms of durations (`1h30m`) and timestamps (RFC 3339).

use super::{Duration, Timestamp};
use std::fmt;

const MICROS_PER_MS: i64 = 1_000;
const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Units from largest to smallest, as written in duration text.
const UNITS: [(&str, i64); 6] = [
    ("d", MICROS_PER_DAY),
    ("h", MICROS_PER_HOUR),
    ("m", MICROS_PER_MINUTE),
    ("s", MICROS_PER_SECOND),
    ("ms", MICROS_PER_MS),
    ("us", 1),
];

impl Duration {
    pub fn from_millis(ms: i64) -> Duration {
        Duration(ms.saturating_mul(MICROS_PER_MS))
    }

    pub fn from_secs(s: i64) -> Duration {
        Duration(s.saturating_mul(MICROS_PER_SECOND))
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0).ok().map(std::time::Duration::from_micros)
    }

    /// Parse duration text: one or more `<digits><unit>` with units `d h m s ms us` (`1h30m`, `500ms`),
    /// optionally preceded by `-`. `None` when malformed or out of range.
    pub fn parse(text: &str) -> Option<Duration> {
        let (negative, mut rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if rest.is_empty() {
            return None;
        }
        let mut total: i64 = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let amount: i64 = rest[..digits].parse().ok()?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = UNITS.iter().find(|(name, _)| *name == &rest[..unit_len])?;
            rest = &rest[unit_len..];
            total = total.checked_add(amount.checked_mul(unit.1)?)?;
        }
        Some(Duration(if negative { -total } else { total }))
    }
}

impl fmt::Display for Duration {
    /// `1d2h`, `1h30m`, `500ms`, `0s`, `-5m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        if self.0 < 0 {
            f.write_str("-")?;
        }
        let mut rest = self.0.unsigned_abs();
        for (name, size) in UNITS {
            let size = size as u64;
            if rest >= size {
                write!(f, "{}{name}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Timestamp {
    pub fn from_chrono(t: chrono::DateTime<chrono::Utc>) -> Timestamp {
        Timestamp(t.timestamp_micros())
    }

    pub fn to_chrono(self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp_micros(self.0)
    }

    /// Parse RFC 3339 (`2024-05-01T10:00:00Z`, any offset), a date and time without offset
    /// (`2024-05-01T10:00:00`, `2024-05-01 10:00`, read as UTC) or a plain date `2024-05-01` (midnight UTC).
    pub fn parse(text: &str) -> Option<Timestamp> {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp(t.timestamp_micros()));
        }
        const NAIVE: [&str; 4] = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];
        for format in NAIVE {
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Some(Timestamp(t.and_utc().timestamp_micros()));
            }
        }
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(Timestamp(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros()))
    }

    /// RFC 3339 in UTC with microseconds, the stored JSON form: `2024-05-01T10:00:00.000000Z`.
    pub fn to_rfc3339_micros(self) -> String {
        match self.to_chrono() {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            None => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, fractional seconds only when present: `2024-05-01T10:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_chrono() {
            Some(t) => f.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            None => write!(f, "<timestamp {} out of range>", self.0),
        }
    }
}
