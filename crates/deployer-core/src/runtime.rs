//! The GitHub Actions runtime protocol, with a plain-text fallback for laptops.
//!
//! Under Actions (`GITHUB_ACTIONS=true`) outputs go to `$GITHUB_OUTPUT`, Markdown to
//! `$GITHUB_STEP_SUMMARY`, and annotations/groups/masks are workflow commands on stdout.
//! Elsewhere the same calls print readable text; with `--json` the outputs are printed as
//! one JSON object on stdout at the end and all human text moves to stderr so stdout
//! stays machine-readable.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rand::Rng;

use crate::mask;

/// GitHub rejects a step summary larger than this.
pub const SUMMARY_LIMIT_BYTES: u64 = 1024 * 1024;

/// Longest annotation message written (bytes, before workflow-command escaping). GitHub's
/// documentation states no limit for `::error::`/`::warning::`; the UI shows about 4 KB of
/// one, so longer messages are cut here, with [`ANNOTATION_CUT_MARKER`], and the full text
/// stays in the log and the job summary.
pub const ANNOTATION_LIMIT_BYTES: usize = 4000;

/// Ends an annotation that was cut at [`ANNOTATION_LIMIT_BYTES`].
pub const ANNOTATION_CUT_MARKER: &str =
    " … [cut: the full message is in the log and the job summary]";

pub fn in_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Escapes the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`) of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("output name {0:?} is not valid: use letters, digits, '-' and '_' only")]
    BadOutputName(String),
    #[error("cannot write {what} file {path}: {source}")]
    Write {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl crate::Classify for RuntimeError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Failed
    }
}

/// Where an annotation points and what it is called.
#[derive(Debug, Clone, Default)]
pub struct Annotation {
    pub title: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
}

impl Annotation {
    pub fn titled(title: impl Into<String>) -> Self {
        Annotation {
            title: Some(title.into()),
            ..Default::default()
        }
    }

    pub fn in_file(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }

    fn properties(&self) -> String {
        let mut props = Vec::new();
        if let Some(file) = &self.file {
            props.push(format!("file={}", escape_property(file)));
        }
        if let Some(line) = self.line {
            props.push(format!("line={line}"));
        }
        if let Some(title) = &self.title {
            props.push(format!("title={}", escape_property(title)));
        }
        if props.is_empty() {
            String::new()
        } else {
            format!(" {}", props.join(","))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One command invocation's view of the runner.
#[derive(Debug)]
pub struct Runtime {
    actions: bool,
    json: bool,
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    outputs: BTreeMap<String, String>,
    summary_truncated: bool,
}

impl Runtime {
    /// Reads `GITHUB_ACTIONS`, `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`, and masks the
    /// credentials the environment holds ([`mask::add_env_credentials`]) before anything
    /// else can be printed.
    pub fn from_env(json: bool) -> Self {
        mask::add_env_credentials();
        let file = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Runtime {
            actions: in_actions(),
            json,
            output_file: file("GITHUB_OUTPUT"),
            summary_file: file("GITHUB_STEP_SUMMARY"),
            outputs: BTreeMap::new(),
            summary_truncated: false,
        }
    }

    /// A runtime with explicit files, for tests and embedding.
    pub fn with_files(
        actions: bool,
        json: bool,
        output: Option<PathBuf>,
        summary: Option<PathBuf>,
    ) -> Self {
        Runtime {
            actions,
            json,
            output_file: output,
            summary_file: summary,
            outputs: BTreeMap::new(),
            summary_truncated: false,
        }
    }

    pub fn in_actions(&self) -> bool {
        self.actions
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// Outputs set so far, in name order.
    pub fn outputs(&self) -> &BTreeMap<String, String> {
        &self.outputs
    }

    /// Human text: stdout normally, stderr when stdout is reserved for `--json`.
    pub fn say(&self, text: impl AsRef<str>) {
        let text = mask::redact(text.as_ref());
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }

    /// Sets a step output. Values are written to `$GITHUB_OUTPUT` immediately, so a
    /// command that fails later still leaves the outputs it had already computed.
    pub fn set_output(&mut self, name: &str, value: impl Into<String>) -> Result<(), RuntimeError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(RuntimeError::BadOutputName(name.to_string()));
        }
        // An output is read by later steps and shown in the UI, where no mask applies.
        let value = mask::redact(&value.into());
        if let Some(path) = &self.output_file {
            append(path, &format_output(name, &value), "GITHUB_OUTPUT")?;
        }
        self.outputs.insert(name.to_string(), value);
        Ok(())
    }

    /// Appends Markdown to the job summary, keeping the file under GitHub's 1 MiB limit.
    pub fn summary(&mut self, markdown: &str) -> Result<(), RuntimeError> {
        let Some(path) = self.summary_file.clone() else {
            return Ok(());
        };
        if self.summary_truncated {
            return Ok(());
        }
        let markdown = mask::redact(markdown);
        let used = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let note = "\n> Summary truncated: GitHub limits a step summary to 1 MiB; the full detail is in the log.\n";
        let room = SUMMARY_LIMIT_BYTES.saturating_sub(used);
        let mut text = markdown;
        if text.len() as u64 + 1 > room {
            self.summary_truncated = true;
            let keep = (room as usize).saturating_sub(note.len() + 1);
            let mut cut = keep.min(text.len());
            while cut > 0 && !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(note);
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        append(&path, &text, "GITHUB_STEP_SUMMARY")
    }

    /// Starts a collapsible log group; it ends when the guard is dropped.
    pub fn group(&self, title: &str) -> Group<'_> {
        if self.actions {
            println!("::group::{}", escape_data(&mask::redact(title)));
        } else {
            self.say(format!("==> {title}"));
        }
        Group { runtime: self }
    }

    pub fn error(&self, message: &str, at: &Annotation) {
        self.annotate(Level::Error, message, at);
    }

    pub fn warning(&self, message: &str, at: &Annotation) {
        self.annotate(Level::Warning, message, at);
    }

    pub fn notice(&self, message: &str, at: &Annotation) {
        self.annotate(Level::Notice, message, at);
    }

    fn annotate(&self, level: Level, message: &str, at: &Annotation) {
        if self.actions {
            println!("{}", workflow_annotation(level, message, at));
            return;
        }
        let message = mask::redact(message);
        let mut prefix = level.command().to_string();
        if let Some(file) = &at.file {
            prefix.push_str(&format!(
                " [{file}{}]",
                at.line.map(|l| format!(":{l}")).unwrap_or_default()
            ));
        }
        if let Some(title) = &at.title {
            prefix.push_str(&format!(" {title}"));
        }
        // Errors and warnings go to stderr so they are seen even when stdout is piped.
        eprintln!("{prefix}: {message}");
    }

    /// Registers a secret (see [`mask::add`]).
    pub fn mask(&self, secret: &str) {
        mask::add(secret);
    }

    /// Prints the outputs: a JSON object with `--json`, a short list otherwise.
    /// Under Actions nothing is printed; the outputs are already in `$GITHUB_OUTPUT`.
    pub fn finish(&self) {
        if self.json {
            let map: serde_json::Map<String, serde_json::Value> = self
                .outputs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(mask::redact(v))))
                .collect();
            let text = serde_json::to_string_pretty(&serde_json::Value::Object(map))
                .unwrap_or_else(|_| "{}".into());
            println!("{text}");
        } else if !self.actions && !self.outputs.is_empty() {
            let mut text = String::from("outputs:");
            for (name, value) in &self.outputs {
                if value.contains('\n') {
                    text.push_str(&format!("\n  {name}:"));
                    for line in value.lines() {
                        text.push_str(&format!("\n    {line}"));
                    }
                } else {
                    text.push_str(&format!("\n  {name} = {value}"));
                }
            }
            self.say(text);
        }
    }
}

/// `::error title=…::message`: redacted, then cut at [`ANNOTATION_LIMIT_BYTES`] with
/// [`ANNOTATION_CUT_MARKER`] (only where GitHub renders it: a terminal shows the whole
/// text), then escaped.
fn workflow_annotation(level: Level, message: &str, at: &Annotation) -> String {
    let message = mask::redact_capped(message, ANNOTATION_LIMIT_BYTES, ANNOTATION_CUT_MARKER);
    format!(
        "::{}{}::{}",
        level.command(),
        at.properties(),
        escape_data(&message)
    )
}

pub struct Group<'a> {
    runtime: &'a Runtime,
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        if self.runtime.actions {
            println!("::endgroup::");
        }
    }
}

/// `name=value`, or the heredoc form with a delimiter that cannot occur in the value.
pub fn format_output(name: &str, value: &str) -> String {
    if !value.contains('\n') && !value.contains('\r') {
        return format!("{name}={value}\n");
    }
    let mut rng = rand::rng();
    let delimiter = loop {
        let candidate = format!(
            "ghadelimiter_{:016x}{:016x}",
            rng.random::<u64>(),
            rng.random::<u64>()
        );
        if !value.contains(&candidate) {
            break candidate;
        }
    };
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

fn append(path: &Path, text: &str, what: &'static str) -> Result<(), RuntimeError> {
    let result = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    result.map_err(|source| RuntimeError::Write {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// Parses a `$GITHUB_OUTPUT` file the way the runner does. Used by tests and by the
/// demo to show what a step produced.
pub fn parse_output_file(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                match lines.next() {
                    Some(l) if l == delimiter => break,
                    Some(l) => value.push(l),
                    None => {
                        return Err(format!("output {name}: delimiter {delimiter} never closed"));
                    }
                }
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        } else {
            return Err(format!(
                "line {line:?} is neither name=value nor name<<DELIMITER"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_output_uses_name_equals_value() {
        assert_eq!(format_output("status", "SUCCESSFUL"), "status=SUCCESSFUL\n");
    }

    #[test]
    fn multi_line_output_uses_a_fresh_heredoc_delimiter() {
        let text = format_output("changelog", "## 1.2.0\n- feat: x\n");
        let first = text.lines().next().unwrap_or_default();
        let delimiter = first.strip_prefix("changelog<<").expect("heredoc form");
        assert!(delimiter.starts_with("ghadelimiter_"));
        assert!(text.ends_with(&format!("\n{delimiter}\n")));
        let parsed = parse_output_file(&text).expect("parses");
        assert_eq!(parsed["changelog"], "## 1.2.0\n- feat: x\n");
    }

    #[test]
    fn outputs_and_summary_land_in_their_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("output");
        let summary = dir.path().join("summary");
        let mut rt = Runtime::with_files(true, false, Some(out.clone()), Some(summary.clone()));
        rt.set_output("a", "1").expect("write");
        rt.set_output("b", "x\ny").expect("write");
        rt.summary("# Title").expect("write");
        let parsed =
            parse_output_file(&std::fs::read_to_string(&out).expect("read")).expect("parse");
        assert_eq!(parsed["a"], "1");
        assert_eq!(parsed["b"], "x\ny");
        assert_eq!(
            std::fs::read_to_string(&summary).expect("read"),
            "# Title\n"
        );
    }

    #[test]
    fn bad_output_names_are_refused() {
        let mut rt = Runtime::with_files(false, false, None, None);
        assert!(matches!(
            rt.set_output("a b", "1"),
            Err(RuntimeError::BadOutputName(_))
        ));
        assert!(matches!(
            rt.set_output("", "1"),
            Err(RuntimeError::BadOutputName(_))
        ));
    }

    #[test]
    fn summary_stops_at_the_github_limit_with_a_note() {
        let dir = tempfile::tempdir().expect("tempdir");
        let summary = dir.path().join("summary");
        let mut rt = Runtime::with_files(true, false, None, Some(summary.clone()));
        let chunk = "é".repeat(300 * 1024);
        for _ in 0..4 {
            rt.summary(&chunk).expect("write");
        }
        let written = std::fs::read_to_string(&summary).expect("valid UTF-8 after truncation");
        assert!(written.len() as u64 <= SUMMARY_LIMIT_BYTES);
        assert!(written.contains("Summary truncated"));
    }

    #[test]
    fn long_annotations_are_cut_with_a_marker_and_nothing_secret() {
        mask::add("annotation-secret-0123456789");
        // The secret straddles the cut: cut before redaction, a prefix of it would show.
        let long = format!(
            "{}annotation-secret-0123456789{}",
            "e".repeat(3920),
            "f".repeat(9000)
        );
        let line = workflow_annotation(Level::Error, &long, &Annotation::titled("t"));
        let message = line
            .strip_prefix("::error title=t::")
            .expect("error command");
        assert!(message.len() <= ANNOTATION_LIMIT_BYTES, "{}", message.len());
        assert!(message.ends_with(ANNOTATION_CUT_MARKER), "{message}");
        assert!(message.contains("e***f"), "the secret is replaced whole");
        assert!(!message.contains("annotation-secr"), "{message}");
        let short = workflow_annotation(Level::Warning, "50% done", &Annotation::default());
        assert_eq!(short, "::warning::50%25 done");
    }

    #[test]
    fn outputs_are_redacted() {
        mask::add("output-secret-value-42");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("output");
        let mut rt = Runtime::with_files(true, false, Some(out.clone()), None);
        rt.set_output("result", "got output-secret-value-42")
            .expect("write");
        let text = std::fs::read_to_string(&out).expect("read");
        assert_eq!(text, "result=got ***\n");
        assert_eq!(rt.outputs()["result"], "got ***");
    }

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let at = Annotation::titled("Deploy failed").in_file(".github/deployer.yml", Some(3));
        assert_eq!(
            at.properties(),
            " file=.github/deployer.yml,line=3,title=Deploy failed"
        );
    }
}
