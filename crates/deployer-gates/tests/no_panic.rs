//! No input makes a parser or a freeze window panic.

use deployer_gates::freeze::FreezeWindow;
use deployer_gates::report::coverage::{self, CoverageFormat};
use deployer_gates::report::{junit, perf, sarif};
use proptest::prelude::*;

fn all_parsers(bytes: &[u8]) {
    let _ = junit::parse(bytes, "x");
    let _ = coverage::parse(bytes, "x", CoverageFormat::Auto);
    let _ = coverage::parse(bytes, "x", CoverageFormat::Lcov);
    let _ = coverage::parse(bytes, "x", CoverageFormat::Json);
    let _ = coverage::parse(bytes, "x", CoverageFormat::Cobertura);
    let _ = sarif::parse(bytes, "x");
    let _ = perf::parse_k6(bytes, "x");
    let _ = perf::parse_locust(bytes, "x");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        all_parsers(&bytes);
    }

    #[test]
    fn report_shaped_text(text in r#"(<testsuites?|<testcase|<failure|<coverage|line-rate="[0-9.e-]*"|tests="[0-9.e-]*"|/>|>|</testcase>|\{|\}|\[|\]|"metrics":|"http_reqs":|"count":|"values":|"rate":|"avg":|"p\(95\)":|"runs":|"results":|"version":"2.1.0"|"level":|"security-severity":|,|:|-?[0-9.e]{1,25}|LF:|LH:|BRF:|BRH:|DA:|SF:|\n|Name,Request Count,Failure Count,Average Response Time,95%|,Aggregated,|N/A|"){0,40}"#) {
        all_parsers(text.as_bytes());
    }

    #[test]
    fn freeze_windows(text in r"(mon|fri|sun|daily|[0-9]{1,4}|:|-| |\.\.|T|Z|\+|/|to){0,12}") {
        if let Ok(w) = FreezeWindow::parse(&text) {
            let _ = w.active_until(time::OffsetDateTime::UNIX_EPOCH);
            let _ = w.active_until(time::macros::datetime!(9999-12-31 23:59:59 UTC));
            let _ = w.active_until(time::macros::datetime!(-9999-01-01 00:00 UTC));
        }
    }
}
