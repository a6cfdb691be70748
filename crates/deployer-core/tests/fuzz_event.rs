//! Fuzz target: the GitHub event payload parser (`$GITHUB_EVENT_PATH`). Corpus files are
//! named `<ok|bad>-<event>.<what>.json`: the event name picks the payload type, `ok-`
//! must parse, `bad-` must be refused with a message naming the event and the file.

use deployer_core::event;
use deployer_security_tests as fuzz;
use proptest::prelude::*;

const EVENTS: &[&str] = &[
    "push",
    "pull_request",
    "pull_request_target",
    "merge_group",
    "workflow_dispatch",
    "repository_dispatch",
    "schedule",
    "release",
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "-1",
    "1e999",
    "18446744073709551616",
    "\"ref\":",
    "\"commits\":",
    "\"pull_request\":",
    "\"base\":",
    "\"head\":",
    "\"sha\":",
    "\"merge_group\":",
    "\"inputs\":",
    "\\u0000",
    "\\ud800",
    "\u{feff}",
    "\u{0}",
];

fn event_of(name: &str) -> &str {
    let rest = name
        .strip_prefix("ok-")
        .or_else(|| name.strip_prefix("bad-"))
        .unwrap_or(name);
    rest.split('.').next().unwrap_or(rest)
}

#[test]
fn corpus_replays_through_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/event");
    for (name, _) in fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "event") {
        let ev = event_of(&name);
        let result = event::load(ev, &dir.join(&name));
        match fuzz::expectation(&name) {
            fuzz::Expect::Ok => {
                let parsed = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(parsed.name(), ev, "{name}");
            }
            fuzz::Expect::Err => {
                let err = result.expect_err(&name).to_string();
                assert!(
                    err.contains(&name),
                    "{name}: message does not name the file: {err}"
                );
                assert!(
                    err.contains(&format!("`{ev}`")) || err.contains("cannot read"),
                    "{name}: message does not name the event or the read problem: {err}"
                );
            }
            fuzz::Expect::Either => {}
        }
    }
}

proptest! {
    #![proptest_config(fuzz::config(1500))]

    #[test]
    fn mutated_corpus_never_panics(
        bytes in fuzz::mutated(fuzz::seeds(&fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "event")), TOKENS),
        which in proptest::sample::select(EVENTS),
    ) {
        let text = String::from_utf8_lossy(&bytes);
        match event::parse(which, &text, "fuzz.json") {
            Ok(ev) => {
                // Accessors run on whatever parsed.
                let _ = (ev.name(), ev.repository(), ev.default_branch(), ev.is_pull_request());
                if let event::Event::Push(p) = &ev {
                    let _ = (p.branch(), p.is_tag(), p.messages());
                }
                if let event::Event::WorkflowDispatch(w) = &ev {
                    let _ = w.input("environment");
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("fuzz.json") && msg.contains(which), "{msg}");
            }
        }
    }

    #[test]
    fn arbitrary_json_values_never_panic(
        json in proptest::arbitrary::any::<String>().prop_map(|s| serde_json::json!({"ref": s, "pull_request": {"base": {}, "head": {"sha": s}}, "inputs": {"x": s}}).to_string()),
        which in proptest::sample::select(EVENTS),
    ) {
        let _ = event::parse(which, &json, "fuzz.json");
    }
}
