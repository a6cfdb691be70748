//! Change-freeze windows: promotion is refused while the clock is inside one.
//!
//! Accepted forms (times are UTC):
//! * an RFC 3339 range: `2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z` (also ` to `, ` - `, `/`),
//!   start inclusive, end exclusive;
//! * a weekly window: `fri 18:00 - mon 06:00` (wraps over the weekend; `mon`…`sun` or full names);
//! * a daily window: `daily 22:00 - 06:00`.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::GateError;
use crate::gate::GateResult;

const DAY: i64 = 24 * 60;
const WEEK: i64 = 7 * DAY;

#[derive(Debug, Clone, PartialEq)]
pub enum FreezeWindow {
    Range {
        text: String,
        start: OffsetDateTime,
        end: OffsetDateTime,
    },
    /// Minutes from the start of the period (Monday 00:00 for weekly, 00:00 for daily).
    Recurring {
        text: String,
        start: i64,
        end: i64,
        period: i64,
    },
}

impl FreezeWindow {
    pub fn parse(text: &str) -> Result<FreezeWindow, GateError> {
        let spec = text.trim();
        let bad = |why: &str| {
            GateError::invalid(
                "freeze window",
                format!(
                    "{spec:?}: {why}; use `2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z`, `fri 18:00 - mon 06:00` or `daily 22:00 - 06:00` (UTC)"
                ),
            )
        };
        let lower = spec.to_ascii_lowercase();
        let first = lower.split_whitespace().next().unwrap_or("");
        if first == "daily" {
            let rest = lower["daily".len()..].trim();
            let (a, b) = rest
                .split_once('-')
                .ok_or_else(|| bad("a daily window needs `HH:MM - HH:MM`"))?;
            let start = clock(a.trim()).ok_or_else(|| bad("start is not HH:MM"))?;
            let end = clock(b.trim()).ok_or_else(|| bad("end is not HH:MM"))?;
            if start == end {
                return Err(bad("start and end are equal"));
            }
            return Ok(FreezeWindow::Recurring {
                text: spec.to_string(),
                start,
                end,
                period: DAY,
            });
        }
        if weekday(first).is_some() {
            let (a, b) = lower
                .split_once('-')
                .ok_or_else(|| bad("a weekly window needs `DAY HH:MM - DAY HH:MM`"))?;
            let start = week_minute(a).ok_or_else(|| bad("start is not `DAY HH:MM`"))?;
            let end = week_minute(b).ok_or_else(|| bad("end is not `DAY HH:MM`"))?;
            if start == end {
                return Err(bad("start and end are equal"));
            }
            return Ok(FreezeWindow::Recurring {
                text: spec.to_string(),
                start,
                end,
                period: WEEK,
            });
        }
        let (a, b) = [" .. ", "..", " to ", " - ", "/"]
            .iter()
            .find_map(|sep| spec.split_once(sep))
            .ok_or_else(|| bad("not a recognised window"))?;
        let parse = |s: &str, which: &str| {
            OffsetDateTime::parse(s.trim(), &Rfc3339)
                .map(|t| t.to_offset(UtcOffset::UTC))
                .map_err(|e| {
                    bad(&format!(
                        "{which} {:?} is not an RFC 3339 time ({e})",
                        s.trim()
                    ))
                })
        };
        let start = parse(a, "start")?;
        let end = parse(b, "end")?;
        if end <= start {
            return Err(bad("the end is not after the start"));
        }
        Ok(FreezeWindow::Range {
            text: spec.to_string(),
            start,
            end,
        })
    }

    pub fn text(&self) -> &str {
        match self {
            FreezeWindow::Range { text, .. } | FreezeWindow::Recurring { text, .. } => text,
        }
    }

    /// When `now` is inside the window, the moment the window ends.
    pub fn active_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let now = now.to_offset(UtcOffset::UTC);
        match self {
            FreezeWindow::Range { start, end, .. } => (now >= *start && now < *end).then_some(*end),
            FreezeWindow::Recurring {
                start, end, period, ..
            } => {
                let minute_of_day = i64::from(now.hour()) * 60 + i64::from(now.minute());
                let m = if *period == WEEK {
                    i64::from(now.weekday().number_days_from_monday()) * DAY + minute_of_day
                } else {
                    minute_of_day
                };
                let inside = if start < end {
                    m >= *start && m < *end
                } else {
                    m >= *start || m < *end
                };
                if !inside {
                    return None;
                }
                let minutes_left = (end - m).rem_euclid(*period);
                let floor = now.replace_second(0).ok()?.replace_nanosecond(0).ok()?;
                floor.checked_add(Duration::minutes(minutes_left))
            }
        }
    }
}

fn clock(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    let (h, m) = (h.trim().parse::<i64>().ok()?, m.trim().parse::<i64>().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && s.trim().len() <= 5).then_some(h * 60 + m)
}

fn weekday(s: &str) -> Option<i64> {
    let days = [
        ["mon", "monday"],
        ["tue", "tuesday"],
        ["wed", "wednesday"],
        ["thu", "thursday"],
        ["fri", "friday"],
        ["sat", "saturday"],
        ["sun", "sunday"],
    ];
    days.iter()
        .position(|names| names.contains(&s))
        .map(|i| i as i64)
}

fn week_minute(s: &str) -> Option<i64> {
    let mut parts = s.split_whitespace();
    let day = weekday(parts.next()?)?;
    let time = clock(parts.next()?)?;
    parts.next().is_none().then_some(day * DAY + time)
}

pub fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Passes when `now` is outside every window.
pub fn freeze_gate(windows: &[FreezeWindow], now: OffsetDateTime) -> GateResult {
    let threshold = format!("outside {} freeze window(s)", windows.len());
    let active: Vec<(&FreezeWindow, OffsetDateTime)> = windows
        .iter()
        .filter_map(|w| w.active_until(now).map(|end| (w, end)))
        .collect();
    match active.iter().max_by_key(|(_, end)| *end) {
        None => GateResult::new(
            "freeze",
            true,
            format!("{} is outside", format_time(now)),
            threshold,
            "",
        ),
        Some((w, end)) => GateResult::new(
            "freeze",
            false,
            format!("{} is inside {:?}", format_time(now), w.text()),
            threshold,
            format!(
                "change freeze until {}; retry after it or declare an emergency",
                format_time(*end)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn w(s: &str) -> FreezeWindow {
        FreezeWindow::parse(s).expect("valid window")
    }

    #[test]
    fn weekly_window_wraps_over_the_weekend() {
        let weekend = w("fri 18:00 - mon 06:00");
        // 2026-11-27 is a Friday.
        assert_eq!(
            weekend.active_until(datetime!(2026-11-27 17:59:59 UTC)),
            None
        );
        assert_eq!(
            weekend.active_until(datetime!(2026-11-27 18:00 UTC)),
            Some(datetime!(2026-11-30 06:00 UTC))
        );
        assert_eq!(
            weekend.active_until(datetime!(2026-11-29 12:30:15 UTC)),
            Some(datetime!(2026-11-30 06:00 UTC))
        );
        assert_eq!(
            weekend.active_until(datetime!(2026-11-30 05:59 UTC)),
            Some(datetime!(2026-11-30 06:00 UTC))
        );
        assert_eq!(weekend.active_until(datetime!(2026-11-30 06:00 UTC)), None);
        assert_eq!(weekend.active_until(datetime!(2026-11-25 12:00 UTC)), None);
        // Offsets are converted to UTC: 19:30+02:00 on Friday is 17:30 UTC, outside.
        assert_eq!(weekend.active_until(datetime!(2026-11-27 19:30 +2)), None);
    }

    #[test]
    fn weekly_window_inside_one_week_and_daily_window() {
        let lunch = w("Wednesday 12:00 - wed 13:00");
        assert!(
            lunch
                .active_until(datetime!(2026-11-25 12:30 UTC))
                .is_some()
        );
        assert!(
            lunch
                .active_until(datetime!(2026-11-26 12:30 UTC))
                .is_none()
        );
        let night = w("daily 22:00 - 06:00");
        assert_eq!(
            night.active_until(datetime!(2026-11-24 23:00 UTC)),
            Some(datetime!(2026-11-25 06:00 UTC))
        );
        assert_eq!(
            night.active_until(datetime!(2026-11-24 05:00 UTC)),
            Some(datetime!(2026-11-24 06:00 UTC))
        );
        assert!(
            night
                .active_until(datetime!(2026-11-24 12:00 UTC))
                .is_none()
        );
    }

    #[test]
    fn date_ranges_in_rfc3339() {
        for text in [
            "2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z",
            "2026-12-24T00:00:00Z to 2026-12-27T00:00:00Z",
            "2026-12-24T00:00:00Z - 2026-12-27T00:00:00Z",
            "2026-12-24T01:00:00+01:00/2026-12-27T00:00:00Z",
        ] {
            let range = w(text);
            assert!(
                range
                    .active_until(datetime!(2026-12-23 23:59:59 UTC))
                    .is_none(),
                "{text}"
            );
            assert_eq!(
                range.active_until(datetime!(2026-12-24 00:00 UTC)),
                Some(datetime!(2026-12-27 00:00 UTC)),
                "{text}"
            );
            assert!(
                range
                    .active_until(datetime!(2026-12-27 00:00 UTC))
                    .is_none(),
                "{text}"
            );
        }
    }

    #[test]
    fn gate_pass_and_fail_with_a_fixed_clock() {
        let windows = vec![
            w("fri 18:00 - mon 06:00"),
            w("2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z"),
        ];
        let pass = freeze_gate(&windows, datetime!(2026-11-24 09:00 UTC));
        assert!(pass.passed, "{pass:?}");
        let fail = freeze_gate(&windows, datetime!(2026-12-25 10:00 UTC));
        assert!(!fail.passed);
        assert!(
            fail.detail.contains("until 2026-12-27T00:00:00Z"),
            "{}",
            fail.detail
        );
        assert!(
            fail.measured
                .contains("2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z")
        );
    }

    #[test]
    fn the_end_of_time_does_not_panic() {
        let weekend = w("fri 18:00 - mon 06:00");
        // 9999-12-31 is a Friday: the window's end is past the last representable date.
        assert_eq!(weekend.active_until(datetime!(9999-12-31 23:00 UTC)), None);
    }

    #[test]
    fn bad_windows_are_rejected_with_the_accepted_forms() {
        for text in [
            "",
            "fri 18:00",
            "fri 25:00 - mon 06:00",
            "someday 10:00 - 11:00",
            "fri 18:00 - fri 18:00",
            "2026-12-27T00:00:00Z .. 2026-12-24T00:00:00Z",
            "2026-12-24 .. 2026-12-27",
            "daily 22:00 - 22:00",
        ] {
            let msg = FreezeWindow::parse(text).expect_err(text).to_string();
            assert!(msg.contains("fri 18:00 - mon 06:00"), "{msg}");
        }
    }
}
