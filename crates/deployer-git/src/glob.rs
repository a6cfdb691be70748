//! Path globs with GitHub's `paths:` semantics.
//!
//! * `*` matches any characters except `/`; `**` matches across directories
//!   (`globset` with `literal_separator(true)`).
//! * Dotfiles and dot-directories match like any other name.
//! * Patterns are evaluated **in order and the last match wins**: `!pattern` removes
//!   paths matched by earlier patterns, a later positive pattern adds them back.
//! * Paths are relative to the repository root, with `/` separators. A pattern ending
//!   in `/` means "everything below" (`services/api/` = `services/api/**`), a leading
//!   `./` is ignored.
//! * Differences from GitHub: `?` matches exactly one character (GitHub: zero or one of
//!   the preceding character) and `+` is literal. Character classes follow `globset`.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("path pattern #{index} is empty: remove it or write a glob such as `services/api/**`")]
    Empty { index: usize },
    #[error(
        "path pattern #{index} `{pattern}` starts with `/`: patterns are relative to the repository root, write `{suggestion}`"
    )]
    Absolute {
        index: usize,
        pattern: String,
        suggestion: String,
    },
    #[error("path pattern #{index} `{pattern}` is not a valid glob: {message}")]
    Invalid {
        index: usize,
        pattern: String,
        message: String,
    },
    #[error(
        "the path patterns contain only exclusions (`!…`), so they can never match; add a positive pattern first, e.g. `services/api/**`"
    )]
    OnlyNegations,
    #[error("no path patterns given: list at least one glob, e.g. `services/api/**`")]
    NoPatterns,
}

impl deployer_core::Classify for GlobError {
    fn kind(&self) -> deployer_core::ErrorKind {
        deployer_core::ErrorKind::BadInput
    }
}

/// An ordered list of include/exclude globs, parsed and checked but not compiled: the
/// form to keep when many filters are matched together through one [`FilterSet`]
/// (compiling each filter on its own as well would double the start-up cost).
#[derive(Debug, Clone)]
pub struct Patterns {
    globs: Vec<Glob>,
    /// `negate[i]` for pattern `i`.
    negate: Vec<bool>,
    patterns: Vec<String>,
}

impl Patterns {
    /// Parses and checks `patterns` (1-based indexes in errors).
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, GlobError> {
        if patterns.is_empty() {
            return Err(GlobError::NoPatterns);
        }
        let mut negates = Vec::with_capacity(patterns.len());
        let mut globs = Vec::with_capacity(patterns.len());
        for (i, raw) in patterns.iter().enumerate() {
            let index = i + 1;
            let raw = raw.as_ref().trim();
            let (negate, body) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest.trim_start()),
                None => (false, raw),
            };
            let mut body = body.strip_prefix("./").unwrap_or(body).to_string();
            if body.is_empty() {
                return Err(GlobError::Empty { index });
            }
            if body.starts_with('/') {
                let suggestion = format!(
                    "{}{}",
                    if negate { "!" } else { "" },
                    body.trim_start_matches('/')
                );
                return Err(GlobError::Absolute {
                    index,
                    pattern: raw.to_string(),
                    suggestion,
                });
            }
            if body.ends_with('/') {
                body.push_str("**");
            }
            let glob = GlobBuilder::new(&body)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| GlobError::Invalid {
                    index,
                    pattern: raw.to_string(),
                    message: e.kind().to_string(),
                })?;
            globs.push(glob);
            negates.push(negate);
        }
        if negates.iter().all(|n| *n) {
            return Err(GlobError::OnlyNegations);
        }
        Ok(Patterns {
            globs,
            negate: negates,
            patterns: patterns.iter().map(|p| p.as_ref().to_string()).collect(),
        })
    }

    /// The patterns as given.
    pub fn as_given(&self) -> &[String] {
        &self.patterns
    }

    /// The literal start of each positive pattern, up to its first glob character
    /// (`services/api/**` → `services/api/`). A path can match only if it starts with
    /// one of them (exclusions only take matches away), so a walk of the trees can skip
    /// every directory no prefix leads into.
    pub fn literal_prefixes(&self) -> Vec<String> {
        self.globs
            .iter()
            .zip(&self.negate)
            .filter(|(_, negate)| !**negate)
            .map(|(glob, _)| {
                let text = glob.glob();
                let end = text.find(['*', '?', '[', '{', '\\']).unwrap_or(text.len());
                text[..end].to_string()
            })
            .collect()
    }

    /// Compiles these patterns into a filter of their own.
    pub fn compile(self) -> Result<PathFilter, GlobError> {
        Ok(PathFilter {
            set: build(self.globs.iter().cloned())?,
            patterns: self,
        })
    }
}

fn build(globs: impl IntoIterator<Item = Glob>) -> Result<GlobSet, GlobError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(glob);
    }
    builder.build().map_err(|e| GlobError::Invalid {
        index: 0,
        pattern: String::new(),
        message: e.kind().to_string(),
    })
}

/// One filter, compiled: all its patterns in one set (literal/prefix/extension
/// strategies, one regex set for the rest) instead of one regex per pattern.
#[derive(Debug, Clone)]
pub struct PathFilter {
    set: GlobSet,
    patterns: Patterns,
}

impl PathFilter {
    /// Parses and compiles `patterns` (1-based indexes in errors).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, GlobError> {
        Patterns::parse(patterns)?.compile()
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        self.patterns.as_given()
    }

    /// The parsed patterns, to combine this filter with others in a [`FilterSet`].
    pub fn parsed(&self) -> &Patterns {
        &self.patterns
    }

    /// True when the last pattern matching `path` is a positive one.
    pub fn is_match(&self, path: &str) -> bool {
        // Last matching pattern wins: the highest matching index decides.
        self.set
            .matches(path)
            .last()
            .is_some_and(|&i| !self.patterns.negate[i])
    }

    /// The paths of `paths` this filter selects, in input order.
    pub fn matching<'a, I: IntoIterator<Item = &'a str>>(&self, paths: I) -> Vec<&'a str> {
        paths.into_iter().filter(|p| self.is_match(p)).collect()
    }
}

/// Many filters in one `GlobSet`: one match per path answers every filter.
#[derive(Debug, Clone)]
pub struct FilterSet {
    set: GlobSet,
    /// (filter index, negate) per pattern of the set, in filter order then pattern order.
    owners: Vec<(usize, bool)>,
    filters: usize,
}

impl FilterSet {
    pub fn new<'a, I: IntoIterator<Item = &'a Patterns>>(filters: I) -> Result<Self, GlobError> {
        let mut globs = Vec::new();
        let mut owners = Vec::new();
        let mut count = 0;
        for (f, filter) in filters.into_iter().enumerate() {
            count += 1;
            for (glob, negate) in filter.globs.iter().zip(&filter.negate) {
                globs.push(glob.clone());
                owners.push((f, *negate));
            }
        }
        Ok(FilterSet {
            set: build(globs)?,
            owners,
            filters: count,
        })
    }

    /// Sets `out[f]` to whether filter `f` selects `path` (`buf` is scratch space).
    pub fn matches_into(&self, path: &str, buf: &mut Vec<usize>, out: &mut Vec<bool>) {
        out.clear();
        out.resize(self.filters, false);
        self.set.matches_into(path, buf);
        // Ascending pattern index = filter order, then each filter's pattern order: the
        // last match of each filter wins.
        for &i in buf.iter() {
            let (f, negate) = self.owners[i];
            out[f] = !negate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefixes_stop_at_the_first_glob_character() {
        let p = Patterns::parse(&[
            "services/api/",
            "libs/*/src/**",
            "!services/api/tmp/**",
            "*.md",
            "a\\*b",
        ])
        .expect("patterns");
        assert_eq!(p.literal_prefixes(), ["services/api/", "libs/", "", "a"]);
    }

    fn f(p: &[&str]) -> PathFilter {
        PathFilter::new(p).expect("valid")
    }

    #[test]
    fn star_does_not_cross_slash_but_double_star_does() {
        let single = f(&["services/*"]);
        assert!(single.is_match("services/README.md"));
        assert!(!single.is_match("services/api/main.py"));
        let double = f(&["services/**"]);
        assert!(double.is_match("services/api/main.py"));
        assert!(f(&["*.md"]).is_match("README.md"));
        assert!(!f(&["*.md"]).is_match("docs/guide.md"));
        assert!(f(&["**/*.md"]).is_match("docs/guide.md"));
        assert!(f(&["**/*.md"]).is_match("README.md"));
    }

    #[test]
    fn dotfiles_match() {
        assert!(f(&["services/api/**"]).is_match("services/api/.env.example"));
        assert!(f(&["**"]).is_match(".github/workflows/ci.yml"));
        assert!(f(&["services/*"]).is_match("services/.dockerignore"));
    }

    #[test]
    fn ordered_negation_last_match_wins() {
        let filter = f(&[
            "services/api/**",
            "!services/api/docs/**",
            "services/api/docs/openapi.yaml",
        ]);
        assert!(filter.is_match("services/api/app.py"));
        assert!(!filter.is_match("services/api/docs/index.md"));
        assert!(filter.is_match("services/api/docs/openapi.yaml"));
        let md = f(&["**", "!**/*.md"]);
        assert!(!md.is_match("README.md"));
        assert!(md.is_match("src/lib.rs"));
    }

    #[test]
    fn trailing_slash_and_dot_slash() {
        assert!(f(&["services/api/"]).is_match("services/api/x/y.py"));
        assert!(f(&["./libs/**"]).is_match("libs/a.rs"));
        assert!(!f(&["services/api/**"]).is_match("services/api-gateway/main.go"));
    }

    #[test]
    fn odd_file_names() {
        let filter = f(&["docs/**"]);
        assert!(filter.is_match("docs/with space.md"));
        assert!(filter.is_match("docs/new\nline.md"));
        assert!(filter.is_match("docs/ünïcödé.md"));
    }

    #[test]
    fn invalid_patterns_are_clear_errors() {
        assert_eq!(
            PathFilter::new::<&str>(&[]).err(),
            Some(GlobError::NoPatterns)
        );
        assert_eq!(
            PathFilter::new(&["a/**", ""]).err(),
            Some(GlobError::Empty { index: 2 })
        );
        assert_eq!(
            PathFilter::new(&["!"]).err(),
            Some(GlobError::Empty { index: 1 })
        );
        assert!(
            matches!(PathFilter::new(&["/abs/**"]), Err(GlobError::Absolute { suggestion, .. }) if suggestion == "abs/**")
        );
        assert!(matches!(
            PathFilter::new(&["a/[b"]),
            Err(GlobError::Invalid { index: 1, .. })
        ));
        assert_eq!(
            PathFilter::new(&["!a/**"]).err(),
            Some(GlobError::OnlyNegations)
        );
        let text = PathFilter::new(&["a/{b"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(text.contains("a/{b"), "{text}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(patterns in proptest::collection::vec("[!*?/a-c.\\[\\]{},\\\\-]{0,12}", 0..4), path in "[a-c./ *]{0,20}") {
            if let Ok(filter) = PathFilter::new(&patterns) {
                let _ = filter.is_match(&path);
            }
        }
    }
}
