//! Turns YAML and serde errors into [`Problem`]s: file position, field path, a plain
//! statement of what is wrong and a suggested fix.

use serde_path_to_error::Segment;

use crate::error::{Problem, ProblemKind};
use crate::locate::{FieldPath, Seg, Target, locate};
use crate::unique::DUPLICATE_KEY;

/// A problem found by the YAML parser itself (before any type is involved).
pub(crate) fn syntax(err: &yaml_serde::Error, text: &str) -> Problem {
    let raw = err.to_string();
    let (mut line, mut column) = match err.location() {
        Some(l) => (Some(l.line()), Some(l.column())),
        None => (None, None),
    };
    if line.is_none()
        && raw.contains("more than one document")
        && let Some(l) = second_document_line(text)
    {
        (line, column) = (Some(l), Some(1));
    }
    let line_has_tab = line
        .and_then(|l| text.lines().nth(l.saturating_sub(1)))
        .is_some_and(|l| l.contains('\t'));
    let mut message = match (line, column) {
        (Some(l), Some(c)) => raw.replacen(&format!(" at line {l} column {c}"), "", 1),
        _ => raw.clone(),
    };
    if let Some(idx) = message.find(", while ") {
        let context = message[idx + 2..].to_owned();
        message.truncate(idx);
        message = format!("{message} ({context})");
    }
    let hint = if raw.contains("more than one document") {
        "Keep a single YAML document: remove the extra `---` separator".to_owned()
    } else if raw.contains("recursion limit") || raw.contains("repetition limit") {
        "Simplify the nesting and aliases of the document".to_owned()
    } else if raw.contains("unknown anchor") {
        "Define the anchor (`&name`) before the alias (`*name`) that uses it".to_owned()
    } else if line_has_tab || raw.contains("tab") {
        "YAML indentation must use spaces, not tabs".to_owned()
    } else {
        "Check the indentation (spaces only, children indented below their key), the `key: value` \
         colons, and quote values that contain `: `, `#`, `{`, `[` or start with `*`, `&`, `!`, `@`"
            .to_owned()
    };
    let path = line
        .map(|l| guess_path(text, l))
        .unwrap_or_else(|| ".".to_owned());
    Problem {
        kind: ProblemKind::Syntax,
        path,
        line,
        column,
        message,
        hint: Some(hint),
    }
}

/// The document is nested deeper than [`crate::depth::MAX_DEPTH`] at `line`.
pub(crate) fn too_deep(line: usize, text: &str) -> Problem {
    Problem {
        kind: ProblemKind::Syntax,
        path: guess_path(text, line),
        line: Some(line),
        column: None,
        message: format!(
            "the nesting of lists and mappings goes deeper than {} levels here",
            crate::depth::MAX_DEPTH
        ),
        hint: Some(
            "A deployer.yml needs a few levels (`services.api.migration.command` is five): \
             close the `[` and `{` that are left open, or flatten the structure"
                .to_owned(),
        ),
    }
}

/// Stands for the validation problems left out after [`crate::MAX_PROBLEMS`].
pub(crate) fn more_problems(count: usize) -> Problem {
    Problem {
        kind: ProblemKind::InvalidValue,
        path: ".".to_owned(),
        line: None,
        column: None,
        message: format!("{count} more problems are not listed"),
        hint: Some("Fix the problems above and run again to see the rest".to_owned()),
    }
}

/// 1-based line of the `---` that starts a second document.
fn second_document_line(text: &str) -> Option<usize> {
    let mut content = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_end();
        if t.starts_with("---") {
            if content {
                return Some(i + 1);
            }
            content = true;
        } else if !t.trim().is_empty() && !t.trim_start().starts_with('#') {
            content = true;
        }
    }
    None
}

/// A problem found while mapping the YAML onto the configuration types.
pub(crate) fn typed(err: &serde_path_to_error::Error<yaml_serde::Error>, text: &str) -> Problem {
    let mut path = convert_path(err.path());
    let inner = err.inner();
    let mut position = inner.location().map(|l| (l.line(), l.column()));
    let raw = inner.to_string();
    let core = core_message(&raw, position);
    let names = backticked(&core);

    let (kind, message, hint) = if core.starts_with("unknown field `") {
        let bad = names.first().cloned().unwrap_or_default();
        let allowed: Vec<String> = names.iter().skip(1).cloned().collect();
        if path.last_key() != Some(bad.as_str()) {
            path = path.key(&bad);
        }
        (
            ProblemKind::UnknownKey,
            format!("unknown key `{bad}`"),
            Some(unknown_key_hint(&bad, &allowed, "keys")),
        )
    } else if core.starts_with("unknown variant `") {
        let bad = names.first().cloned().unwrap_or_default();
        let allowed: Vec<String> = names.iter().skip(1).cloned().collect();
        (
            ProblemKind::InvalidValue,
            format!("`{bad}` is not an allowed value"),
            Some(unknown_key_hint(&bad, &allowed, "values")),
        )
    } else if core.starts_with("missing field `") {
        let field = names.first().cloned().unwrap_or_default();
        let parent = path.clone();
        path = path.key(&field);
        // Point at the key that owns the incomplete mapping (`api:`), not its first child.
        if let Some(pos) = locate(text, &parent, Target::Key { nth: 1 }) {
            position = Some(pos);
        }
        let owner = if parent.0.is_empty() {
            "the top level".to_owned()
        } else {
            format!("`{parent}`")
        };
        (
            ProblemKind::MissingField,
            format!("required field `{field}` is missing in {owner}"),
            Some(missing_field_hint(&field)),
        )
    } else if core.starts_with("duplicate field `") {
        let field = names.first().cloned().unwrap_or_default();
        path = path.key(&field);
        if let Some(pos) = locate(text, &path, Target::Key { nth: 2 }) {
            position = Some(pos);
        }
        (
            ProblemKind::DuplicateKey,
            format!("key `{field}` appears twice in the same mapping"),
            Some(
                "Remove one of the two entries (YAML would otherwise silently keep only one)"
                    .to_owned(),
            ),
        )
    } else if core.starts_with(DUPLICATE_KEY) {
        let key = names.first().cloned().unwrap_or_default();
        if path.last_key() != Some(key.as_str()) {
            path = path.key(&key);
        }
        (
            ProblemKind::DuplicateKey,
            format!("key `{key}` appears twice in the same mapping"),
            Some("Give each entry its own name, or merge the two entries into one".to_owned()),
        )
    } else if let Some(rest) = core.strip_prefix("invalid type: ") {
        let (found, expected) = split_expected(rest);
        (
            ProblemKind::WrongType,
            format!(
                "wrong type: found {found}, expected {}",
                describe_expected(&expected)
            ),
            Some(wrong_type_hint(&found, &expected, path.0.is_empty())),
        )
    } else if let Some(rest) = core.strip_prefix("invalid value: ") {
        let (found, expected) = split_expected(rest);
        (
            ProblemKind::InvalidValue,
            format!(
                "invalid value: found {found}, expected {}",
                describe_expected(&expected)
            ),
            None,
        )
    } else if let Some(rest) = core.strip_prefix("invalid length ") {
        (
            ProblemKind::InvalidValue,
            format!("invalid length {rest}"),
            None,
        )
    } else {
        (ProblemKind::InvalidValue, core.clone(), None)
    };

    Problem {
        kind,
        path: path.to_string(),
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        message,
        hint,
    }
}

fn convert_path(path: &serde_path_to_error::Path) -> FieldPath {
    let mut segs = Vec::new();
    for seg in path.iter() {
        match seg {
            Segment::Map { key } => segs.push(Seg::Key(key.clone())),
            Segment::Enum { variant } => segs.push(Seg::Key(variant.clone())),
            Segment::Seq { index } => segs.push(Seg::Index(*index)),
            Segment::Unknown => segs.push(Seg::Key("?".to_owned())),
        }
    }
    FieldPath(segs)
}

/// The serde message without yaml_serde's own `path: ` prefix and ` at line L column C`
/// suffix (we print both ourselves).
fn core_message(raw: &str, position: Option<(usize, usize)>) -> String {
    const STARTS: [&str; 8] = [
        "unknown field `",
        "unknown variant `",
        "missing field `",
        "duplicate field `",
        DUPLICATE_KEY,
        "invalid type: ",
        "invalid value: ",
        "invalid length ",
    ];
    let start = STARTS.iter().filter_map(|p| raw.find(p)).min().unwrap_or(0);
    let mut core = raw[start..].to_owned();
    if let Some((line, column)) = position {
        let suffix = format!(" at line {line} column {column}");
        if let Some(stripped) = core.strip_suffix(&suffix) {
            core = stripped.to_owned();
        }
    }
    core
}

/// Names quoted in backticks, in order.
fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, part)| part.to_owned())
        .collect()
}

fn split_expected(rest: &str) -> (String, String) {
    match rest.rfind(", expected ") {
        Some(idx) => (
            rest[..idx].to_owned(),
            rest[idx + ", expected ".len()..].to_owned(),
        ),
        None => (rest.to_owned(), String::from("another type")),
    }
}

fn is_struct(expected: &str) -> bool {
    expected.starts_with("struct ") || expected == "a map" || expected.starts_with("a mapping")
}

fn describe_expected(expected: &str) -> String {
    match expected {
        "a sequence" => "a list".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "`true` or `false`".to_owned(),
        e if is_struct(e) => "a mapping of `key: value` entries".to_owned(),
        e if e.starts_with("enum ") => "one of the allowed words".to_owned(),
        e => e.to_owned(),
    }
}

fn wrong_type_hint(found: &str, expected: &str, at_root: bool) -> String {
    if at_root {
        return "The file must be a mapping with `services:` (and optionally `environments:`, \
                `release:`, `markers:`) at the top level"
            .to_owned();
    }
    if found == "unit value" {
        return "The value is empty: write a value, `{}` for an empty mapping, `[]` for an empty \
                list, or remove the key"
            .to_owned();
    }
    if expected == "a sequence" {
        return "Write a list: `[a, b]`, or one `- item` per line below the key (a single value \
                still needs the brackets: `[a]`)"
            .to_owned();
    }
    if expected == "a string" {
        return "Put the value in quotes so YAML reads it as text (e.g. \"1.0\", \"123\", \"true\")"
            .to_owned();
    }
    if is_struct(expected) {
        return "Write indented `key: value` lines below the key (or `{}` when empty)".to_owned();
    }
    if describe_expected(expected).contains("number") {
        return "Write a number without quotes or units (e.g. `60`)".to_owned();
    }
    if expected == "a boolean" {
        return "Write `true` or `false` without quotes".to_owned();
    }
    format!("Change the value to {}", describe_expected(expected))
}

fn missing_field_hint(field: &str) -> String {
    let example = match field {
        "paths" => "paths: [\"services/api/**\"]",
        "services" => "services:\n    api:\n      paths: [\"services/api/**\"]",
        _ => "",
    };
    if example.is_empty() {
        format!("Add `{field}:` (see the deployer-config README)")
    } else {
        format!("Add it, e.g. `{example}`")
    }
}

fn unknown_key_hint(bad: &str, allowed: &[String], what: &str) -> String {
    let mut hint = String::new();
    if let Some(best) = closest(bad, allowed.iter().map(String::as_str)) {
        hint.push_str(&format!("Did you mean `{best}`? "));
        if best == to_kebab(bad) && best != bad {
            hint.push_str("(keys are kebab-case) ");
        }
    }
    if allowed.is_empty() {
        hint.push_str(&format!("No {what} are allowed here"));
    } else {
        let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
        hint.push_str(&format!("Allowed {what} here: {}", list.join(", ")));
    }
    hint
}

fn to_kebab(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c == '_' {
            out.push('-');
        } else if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a
/// plausible typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let normalized = to_kebab(word);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = levenshtein(&normalized, candidate).min(levenshtein(word, candidate));
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    let (distance, candidate) = best?;
    let limit = (word.chars().count().max(candidate.chars().count()) / 3).max(1);
    (distance <= limit).then_some(candidate)
}

/// Classic Levenshtein distance over chars.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Best guess of the field path around `line` (1-based) from indentation alone; used
/// where the YAML is too broken to parse.
pub(crate) fn guess_path(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return ".".to_owned();
    }
    let last = line.clamp(1, lines.len()) - 1;
    let mut keys: Vec<String> = Vec::new();
    // Only lines indented less than this can be ancestors of what we have seen so far.
    let mut threshold = usize::MAX;
    for idx in (0..=last).rev() {
        let raw = lines[idx];
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let content = trimmed.trim_start_matches("- ");
        let key_indent = raw.len() - content.len();
        if idx == last || key_indent < threshold {
            if let Some(key) = key_of(content) {
                keys.push(key);
            }
            threshold = key_indent;
        }
        if threshold == 0 {
            break;
        }
    }
    if keys.is_empty() {
        return ".".to_owned();
    }
    keys.reverse();
    keys.join(".")
}

fn key_of(content: &str) -> Option<String> {
    let idx = content.find(':')?;
    let key = content[..idx]
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    valid.then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("comand", "command"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_finds_typos_and_snake_case() {
        let keys = ["container", "command", "preset"];
        assert_eq!(closest("comand", keys.iter().copied()), Some("command"));
        assert_eq!(closest("zzzzzz", keys.iter().copied()), None);
        let keys = ["tag-prefix", "image"];
        assert_eq!(
            closest("tag_prefix", keys.iter().copied()),
            Some("tag-prefix")
        );
        assert_eq!(
            closest("tagPrefix", keys.iter().copied()),
            Some("tag-prefix")
        );
    }

    #[test]
    fn guess_path_follows_indentation() {
        let text = "services:\n  api:\n    paths: [a\n    image: x\n";
        assert_eq!(guess_path(text, 4), "services.api.image");
        assert_eq!(guess_path(text, 3), "services.api.paths");
        assert_eq!(guess_path(text, 2), "services.api");
        assert_eq!(guess_path("", 1), ".");
    }

    #[test]
    fn core_message_strips_prefix_and_suffix() {
        let raw = "services.api: unknown field `x`, expected `y` at line 3 column 5";
        assert_eq!(
            core_message(raw, Some((3, 5))),
            "unknown field `x`, expected `y`"
        );
    }
}
