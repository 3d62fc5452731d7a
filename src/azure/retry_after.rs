//! `Retry-After` handling: ARM sends `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) or
//! `Retry-After` (seconds or an HTTP date).

use std::time::Duration;

/// Longest delay honoured; a larger advertised value is clamped so one bad header cannot stall
/// a subscription for hours.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// The delay advertised by the headers (looked up case-insensitively by `get`), relative to `now`.
pub fn parse_retry_after<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    now: jiff::Timestamp,
) -> Option<Duration> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = get(name).and_then(|v| v.trim().parse::<f64>().ok())
            && ms.is_finite()
            && ms >= 0.0
        {
            // Clamped before converting: `from_secs_f64` panics past u64::MAX seconds.
            let secs = (ms / 1000.0).min(MAX_RETRY_AFTER.as_secs_f64());
            return Some(Duration::from_secs_f64(secs));
        }
    }
    let value = get("retry-after")?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits too many for a u64 are still "a very long time".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let delta = when.as_millisecond() - now.as_millisecond();
    Some(Duration::from_millis(u64::try_from(delta).unwrap_or(0)).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(headers: &[(&'static str, &'static str)], now: jiff::Timestamp) -> Option<Duration> {
        parse_retry_after(
            |name| {
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| *v)
            },
            now,
        )
    }

    #[test]
    fn forms() {
        let now: jiff::Timestamp = "1994-11-06T08:49:30Z".parse().unwrap();
        assert_eq!(
            parse(&[("Retry-After", "7")], now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse(&[("retry-after-ms", "1500")], now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse(&[("x-ms-retry-after-ms", "250"), ("Retry-After", "9")], now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse(&[("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")], now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse(&[("Retry-After", "Sun, 06 Nov 1994 08:49:00 GMT")], now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse(&[("Retry-After", "100000")], now),
            Some(MAX_RETRY_AFTER)
        );
        for huge in ["1e300", "1e20", "18446744073709551616000"] {
            assert_eq!(
                parse(&[("retry-after-ms", huge)], now),
                Some(MAX_RETRY_AFTER),
                "{huge}"
            );
        }
        assert_eq!(parse(&[("retry-after-ms", "inf")], now), None);
        assert_eq!(parse(&[("retry-after-ms", "NaN")], now), None);
        assert_eq!(
            parse(&[("Retry-After", "99999999999999999999999")], now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse(&[("Retry-After", "soon")], now), None);
        assert_eq!(parse(&[("retry-after-ms", "-5")], now), None);
        assert_eq!(parse(&[], now), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a server puts in the headers, parsing never panics and never exceeds the
        /// bound (issue 13: `retry-after-ms: 1e300` once panicked the client).
        #[test]
        fn any_header_value_is_bounded(ms in ".{0,40}", secs in ".{0,40}", f in any::<f64>()) {
            let now = jiff::Timestamp::now();
            let float = f.to_string();
            for (name, value) in [("retry-after-ms", ms.as_str()), ("retry-after", secs.as_str()), ("x-ms-retry-after-ms", float.as_str())] {
                let got = parse_retry_after(|n| (n == name).then_some(value), now);
                prop_assert!(got.is_none_or(|d| d <= MAX_RETRY_AFTER));
            }
        }
    }
}
