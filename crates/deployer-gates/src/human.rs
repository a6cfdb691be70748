//! Human gates: typed confirmation and a wait timer.

use std::time::Duration;

use crate::gate::GateResult;

/// Passes when `input`, trimmed, equals `expected` exactly (case-sensitive).
pub fn confirmation(input: Option<&str>, expected: &str) -> GateResult {
    let threshold = format!("typed {expected:?}");
    let given = input.map(str::trim).unwrap_or("");
    if given == expected {
        return GateResult::new(
            "confirmation",
            true,
            format!("typed {given:?}"),
            threshold,
            "",
        );
    }
    let measured = if given.is_empty() {
        "nothing typed".to_string()
    } else {
        format!("typed {given:?}")
    };
    let hint = if given.eq_ignore_ascii_case(expected) {
        " (the confirmation is case-sensitive)"
    } else {
        ""
    };
    let detail = format!("type {expected} exactly into the confirmation input to proceed{hint}");
    GateResult::new("confirmation", false, measured, threshold, detail)
}

/// Longest pause between two progress lines of the wait timer.
pub const WAIT_PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// Waits `seconds`, calling `progress` with the seconds left before every pause (pauses
/// are at most 15 s) and `sleep` to pause. Pass `std::thread::sleep` for real waiting.
pub fn wait_timer(
    seconds: u64,
    mut progress: impl FnMut(u64),
    mut sleep: impl FnMut(Duration),
) -> GateResult {
    let mut left = seconds;
    while left > 0 {
        progress(left);
        let step = left.min(WAIT_PROGRESS_EVERY.as_secs());
        sleep(Duration::from_secs(step));
        left -= step;
    }
    GateResult::new(
        "wait",
        true,
        format!("waited {seconds} s"),
        format!("{seconds} s"),
        "",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_must_match_exactly_after_trimming() {
        assert!(confirmation(Some("DEPLOY"), "DEPLOY").passed);
        assert!(confirmation(Some("  ROLLBACK\n"), "ROLLBACK").passed);
        let lower = confirmation(Some("deploy"), "DEPLOY");
        assert!(!lower.passed);
        assert!(
            lower.detail.contains("type DEPLOY exactly"),
            "{}",
            lower.detail
        );
        assert!(lower.detail.contains("case-sensitive"));
        let none = confirmation(None, "ROLLBACK");
        assert!(!none.passed);
        assert_eq!(none.measured, "nothing typed");
        assert!(none.detail.contains("type ROLLBACK"));
        assert!(!confirmation(Some("DEPLOY NOW"), "DEPLOY").passed);
    }

    #[test]
    fn wait_timer_reports_progress_at_least_every_15_seconds() {
        let mut reported = Vec::new();
        let mut slept = Vec::new();
        let r = wait_timer(40, |left| reported.push(left), |d| slept.push(d.as_secs()));
        assert!(r.passed);
        assert_eq!(reported, vec![40, 25, 10]);
        assert_eq!(slept, vec![15, 15, 10]);
        let zero = wait_timer(0, |_| panic!("no progress for 0 s"), |_| panic!("no sleep"));
        assert!(zero.passed);
    }
}
