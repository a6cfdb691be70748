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

/// A complete payload of each event that names what changed, with the fields deployer
/// needs (JSON paths as `/`-separated pointers).
fn complete(event: &str) -> (serde_json::Value, &'static [&'static str]) {
    use serde_json::json;
    const SHA_A: &str = "9049f1265b7d61be4a8904a9a27120d2064dab3b";
    const SHA_B: &str = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
    match event {
        "push" => (
            json!({"ref": "refs/heads/main", "before": SHA_A, "after": SHA_B,
                   "commits": [{"id": SHA_B, "message": "feat: x"}]}),
            &["/ref", "/before", "/after"],
        ),
        "merge_group" => (
            json!({"merge_group": {"base_sha": SHA_A, "head_sha": SHA_B}}),
            &["/merge_group/base_sha", "/merge_group/head_sha"],
        ),
        _ => (
            json!({"number": 1, "pull_request": {"number": 1,
                   "base": {"ref": "main", "sha": SHA_A}, "head": {"ref": "x", "sha": SHA_B}}}),
            &["/pull_request/base/sha", "/pull_request/head/sha"],
        ),
    }
}

/// Removes (or blanks, when `blank`) the value at `pointer`.
fn strip(doc: &mut serde_json::Value, pointer: &str, blank: bool) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    if let Some(serde_json::Value::Object(map)) = doc.pointer_mut(parent) {
        if blank {
            map.insert(key.to_string(), serde_json::Value::String(" ".into()));
        } else {
            map.remove(key);
        }
    }
}

const NEEDS_PAYLOAD: &[&str] = &["push", "pull_request", "pull_request_target", "merge_group"];

proptest! {
    #![proptest_config(fuzz::config(1500))]

    /// Issue 16: an empty object, or one with only fields deployer ignores, is never a
    /// payload of an event that says what changed (it read as "nothing changed").
    #[test]
    fn empty_or_unrelated_objects_are_refused_for_events_that_say_what_changed(
        which in proptest::sample::select(NEEDS_PAYLOAD),
        extra in proptest::collection::btree_map("[a-z_]{1,12}", "[ -~]{0,16}", 0..4),
    ) {
        let unrelated: serde_json::Map<String, serde_json::Value> = extra
            .into_iter()
            .filter(|(k, _)| !["ref", "before", "after", "pull_request", "merge_group"].contains(&k.as_str()))
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let json = serde_json::Value::Object(unrelated).to_string();
        let err = event::parse(which, &json, "fuzz.json").expect_err(&json);
        let msg = err.to_string();
        prop_assert!(msg.contains("fuzz.json") && msg.contains(which), "{msg}");
    }

    /// A complete payload parses; without (or with a blank) any required field it is refused
    /// naming that field.
    #[test]
    fn payloads_without_a_required_field_are_refused_naming_it(
        which in proptest::sample::select(NEEDS_PAYLOAD),
        pick in 0usize..3,
        blank in any::<bool>(),
    ) {
        let (mut doc, required) = complete(which);
        prop_assert!(event::parse(which, &doc.to_string(), "fuzz.json").is_ok());
        let pointer = required[pick % required.len()];
        strip(&mut doc, pointer, blank);
        let err = event::parse(which, &doc.to_string(), "fuzz.json").expect_err(pointer);
        let field = pointer.trim_start_matches('/').replace('/', ".");
        let named = match &err {
            event::EventError::MissingField { field: f, .. } => *f == field,
            other => other.to_string().contains(pointer.rsplit('/').next().unwrap_or("")),
        };
        prop_assert!(named, "{pointer}: {err}");
    }

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
