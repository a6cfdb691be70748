//! Refuses documents nested deeper than [`MAX_DEPTH`] before the YAML parser sees them.
//!
//! Why: the YAML scanner (libyaml, through yaml_serde) keeps one "possible simple key"
//! per open flow collection and walks all of them for every token
//! (`yaml_parser_fetch_more_tokens` / `yaml_parser_stale_simple_keys`), so parsing takes
//! time quadratic in the flow nesting depth: 40 KB of `[[[…]]]` under a key took 6.5 s in
//! a debug build, 200 KB would take minutes. A real `deployer.yml` needs a handful of
//! levels (the list at `services.api.migration.command` is the fifth).
//!
//! The scan is one linear pass and errs on the side of counting too much: it counts two
//! ways and refuses when either is over the limit.
//! * `blind`: every `[`/`{` minus every `]`/`}`, ignoring quotes and comments; an
//!   unbalanced bracket inside a string can only add, and only a closing bracket inside
//!   quotes (`"]"`) can hide a level from it;
//! * `aware`: follows quotes, comments and block scalars the way the YAML scanner starts
//!   tokens, and adds the block levels implied by indentation and `- ` entries; it sees
//!   through `"]"`.
//!
//! Deep block nesting (indentation) costs the parser only linear time; yaml_serde's own
//! recursion limit (128) stays as a second guard for shapes the scan counts too low.

/// The deepest nesting of mappings and lists a configuration may have.
pub(crate) const MAX_DEPTH: usize = 32;

/// Where the nesting first went past [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    /// 1-based line.
    pub line: usize,
}

/// `Err` at the first line whose nesting (as counted, see the module docs) exceeds
/// [`MAX_DEPTH`].
pub(crate) fn check(text: &str) -> Result<(), TooDeep> {
    let mut blind = 0usize;
    let mut aware = Aware::default();
    for (idx, line) in text.lines().enumerate() {
        for b in line.bytes() {
            match b {
                b'[' | b'{' => blind += 1,
                b']' | b'}' => blind = blind.saturating_sub(1),
                _ => {}
            }
            if blind > MAX_DEPTH {
                return Err(TooDeep { line: idx + 1 });
            }
        }
        if aware.line(line.as_bytes()) > MAX_DEPTH {
            return Err(TooDeep { line: idx + 1 });
        }
    }
    Ok(())
}

#[derive(Default)]
struct Aware {
    /// Open flow collections (`[`, `{`).
    flow: usize,
    /// Columns of the open block collections, innermost last.
    block: Vec<usize>,
    /// Inside a quoted scalar that continues on the next line: its quote byte.
    quote: Option<u8>,
    /// Inside a block scalar (`|`, `>`): the indentation its lines must exceed.
    block_scalar: Option<usize>,
}

impl Aware {
    fn depth(&self) -> usize {
        self.block.len() + self.flow
    }

    /// Reads one line; returns the deepest nesting seen on it.
    fn line(&mut self, bytes: &[u8]) -> usize {
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let blank = bytes[indent..].iter().all(|b| b.is_ascii_whitespace());
        if let Some(parent) = self.block_scalar {
            if blank || indent > parent {
                return 0;
            }
            self.block_scalar = None;
        }
        let mut i = 0;
        if let Some(q) = self.quote {
            i = self.skip_quote(bytes, 0, q);
        } else if self.flow == 0 {
            if blank || bytes.get(indent) == Some(&b'#') {
                return 0;
            }
            i = self.block_entries(bytes, indent);
        }
        let mut deepest = self.depth();
        let mut token_start = true;
        while i < bytes.len() {
            let b = bytes[i];
            let next_blank = bytes.get(i + 1).is_none_or(|n| *n == b' ' || *n == b'\t');
            match b {
                b' ' | b'\t' => {}
                b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => break,
                b'"' | b'\'' if token_start => {
                    i = self.skip_quote(bytes, i + 1, b);
                    token_start = false;
                    continue;
                }
                b'|' | b'>' if token_start && self.flow == 0 => {
                    self.block_scalar = Some(indent);
                    break;
                }
                b'[' | b'{' => {
                    self.flow += 1;
                    deepest = deepest.max(self.depth());
                    token_start = true;
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    token_start = false;
                }
                b',' if self.flow > 0 => token_start = true,
                b':' if next_blank || self.flow > 0 => token_start = true,
                b'-' | b'?' if token_start && next_blank => {}
                _ => token_start = false,
            }
            i += 1;
        }
        deepest
    }

    /// A line in block context: the collections its indentation and `- ` entries open.
    /// Returns where the line's first node starts.
    fn block_entries(&mut self, bytes: &[u8], indent: usize) -> usize {
        let mut i = indent;
        loop {
            while self.block.last().is_some_and(|&c| c > i) {
                self.block.pop();
            }
            if self.block.last() != Some(&i) {
                self.block.push(i);
            }
            let entry = bytes.get(i) == Some(&b'-')
                && bytes.get(i + 1).is_none_or(|n| *n == b' ' || *n == b'\t');
            if !entry {
                return i;
            }
            i += 1;
            while bytes.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
                i += 1;
            }
            if i >= bytes.len() {
                return i;
            }
        }
    }

    /// Skips a quoted scalar from `from` (just after the opening quote `q`); returns the
    /// index after the closing quote, or the line's end when the scalar goes on.
    fn skip_quote(&mut self, bytes: &[u8], from: usize, q: u8) -> usize {
        let mut i = from;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if q == b'"' => i += 2,
                b'\'' if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                b if b == q => {
                    self.quote = None;
                    return i + 1;
                }
                _ => i += 1,
            }
        }
        self.quote = Some(q);
        bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(n: usize) -> String {
        format!(
            "services:\n  api:\n    paths: {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        )
    }

    #[test]
    fn real_configurations_pass() {
        let text = "services:\n  api:\n    paths: [\"services/api/**\", 'a[b]', \"[\"]\n    \
                    migration:\n      command: [\"alembic\", \"upgrade\", \"head\"]\n      \
                    script: |\n        if [[ -f x ]]; then { echo \"[\"; }\n        fi\n\
                    # [[[[ a comment\n";
        assert!(check(text).is_ok());
        let mut aware = Aware::default();
        let deepest = text.lines().map(|l| aware.line(l.as_bytes())).max();
        assert_eq!(
            deepest,
            Some(5),
            "top > services > api > migration > command list"
        );
        assert!(check(&flow(MAX_DEPTH - 3)).is_ok());
    }

    #[test]
    fn deep_flow_nesting_is_refused_at_its_line() {
        assert_eq!(check(&flow(MAX_DEPTH + 1)), Err(TooDeep { line: 3 }));
        assert_eq!(check(&flow(100_000)), Err(TooDeep { line: 3 }));
    }

    #[test]
    fn closing_brackets_in_quotes_hide_no_level() {
        let text = format!("a: {}\n", "[\"]\", ".repeat(MAX_DEPTH + 1));
        assert!(check(&text).is_err());
        let text = format!("a: {}\n", "['}', ".repeat(MAX_DEPTH + 1));
        assert!(check(&text).is_err());
    }

    #[test]
    fn deep_block_nesting_is_refused() {
        let text = "- ".repeat(MAX_DEPTH + 1) + "x\n";
        assert_eq!(check(&text), Err(TooDeep { line: 1 }));
        let mut text = String::new();
        for level in 0..=MAX_DEPTH {
            text.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
        }
        assert_eq!(
            check(&text),
            Err(TooDeep {
                line: MAX_DEPTH + 1
            })
        );
    }

    #[test]
    fn dedent_closes_block_levels() {
        let mut text = String::new();
        for _ in 0..100 {
            for level in 0..10 {
                text.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
            }
        }
        assert!(check(&text).is_ok());
    }
}
