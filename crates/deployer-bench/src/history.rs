//! The semver-release workload: 5,000 older annotated SemVer tags (`v1.0.0` …, four
//! commits apart) and then 100k Conventional Commits since the last tag, in a bare
//! `origin.git` and a clone `work/` (with `origin` → file:// URL, so tools that insist on
//! a remote, like semantic-release, can run offline).
//!
//! Versions start at 1.0.0 so every tool applies the same (non-0.x) bump policy; the
//! commits since the last tag include a breaking change, so the expected answer is the
//! next major.

use std::path::{Path, PathBuf};

use semver_lite::Version;

use crate::BenchError;
use crate::rng::Rng;
use crate::workload::{self, FastImport, Scale};

pub const TAGS: usize = 5_000;
pub const SINCE: usize = 100_000;
/// Commits between two older tags.
pub const TAG_SPACING: usize = 4;
/// Bump when the generator changes what it writes.
pub const GENERATOR_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    pub tags: usize,
    pub since: usize,
}

impl Sizes {
    pub fn at(scale: Scale) -> Sizes {
        Sizes {
            tags: scale.of(TAGS, 2),
            since: scale.of(SINCE, 10),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "history: {} conventional commits since the last tag, {} tags",
            crate::monorepo::thousands(self.since),
            crate::monorepo::thousands(self.tags)
        )
    }
}

/// Minimal version arithmetic for the generator (no dependency on the semver crate).
mod semver_lite {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Version(pub u64, pub u64, pub u64);
    impl std::fmt::Display for Version {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}.{}.{}", self.0, self.1, self.2)
        }
    }
}

/// The version of tag number `i` (0-based): mostly patches, every 10th a minor, every
/// 250th a major.
pub fn tag_version(i: usize) -> Version {
    let mut v = Version(1, 0, 0);
    for n in 1..=i {
        v = if n % 250 == 0 {
            Version(v.0 + 1, 0, 0)
        } else if n % 10 == 0 {
            Version(v.0, v.1 + 1, 0)
        } else {
            Version(v.0, v.1, v.2 + 1)
        };
    }
    v
}

#[derive(Debug, Clone)]
pub struct History {
    /// Clone with a work tree, `origin` pointing at `origin`.
    pub work: PathBuf,
    pub origin: PathBuf,
    pub last_tag: String,
    /// The major bump every conforming tool should compute.
    pub expected: String,
    pub sizes: Sizes,
}

const TYPES: [(&str, u32); 9] = [
    ("feat", 20),
    ("fix", 30),
    ("chore", 12),
    ("docs", 10),
    ("refactor", 10),
    ("test", 6),
    ("perf", 5),
    ("ci", 4),
    ("build", 3),
];
const SCOPES: [&str; 10] = [
    "api", "web", "worker", "db", "auth", "billing", "search", "cli", "deps", "infra",
];
const WORDS: [&str; 16] = [
    "handle", "timeout", "cache", "request", "retry", "config", "user", "session", "index",
    "parser", "limit", "queue", "token", "export", "report", "schema",
];

fn message(rng: &mut Rng, n: usize) -> String {
    let mut roll = rng.below(100) as u32;
    let mut kind = "chore";
    for (k, w) in TYPES {
        if roll < w {
            kind = k;
            break;
        }
        roll -= w;
    }
    let scope = if rng.chance(60) {
        format!("({})", rng.pick(&SCOPES))
    } else {
        String::new()
    };
    let words: Vec<&str> = (0..3 + rng.below(5)).map(|_| *rng.pick(&WORDS)).collect();
    let mut m = format!("{kind}{scope}: {} (#{n})\n", words.join(" "));
    if rng.chance(35) {
        m.push_str(&format!(
            "\nThe {} now {} the {} before the {}.\nSee the discussion in the issue.\n",
            rng.pick(&WORDS),
            rng.pick(&WORDS),
            rng.pick(&WORDS),
            rng.pick(&WORDS)
        ));
    }
    if rng.chance(10) {
        m.push_str(&format!("\nRefs: #{}\n", 1000 + rng.below(9000)));
    }
    m
}

fn import(dir: &Path, seed: u64, sizes: &Sizes) -> Result<String, BenchError> {
    let mut rng = Rng::new(seed);
    let mut fi = FastImport::start(dir)?;
    let mut n = 0usize;
    let touch = |fi: &mut FastImport, rng: &mut Rng, n: usize| {
        let p = format!("src/module_{:02}.rs", rng.below(100));
        fi.modify(
            &p,
            format!("// {p}\npub const REV: u32 = {n};\n").as_bytes(),
        )
    };
    fi.commit("chore: initial commit\n")?;
    fi.modify("README.md", b"# bench history\n")?;
    // cocogitto only recognises `v`-prefixed tags when told so, in a committed cog.toml.
    fi.modify("cog.toml", b"tag_prefix = \"v\"\n")?;
    let mut last_tag = String::new();
    for t in 0..sizes.tags {
        for _ in 0..TAG_SPACING {
            n += 1;
            let m = message(&mut rng, n);
            fi.commit(&m)?;
            touch(&mut fi, &mut rng, n)?;
        }
        let mark = fi.commits; // the commit just written (marks count commits only)
        last_tag = format!("v{}", tag_version(t));
        fi.tag(&last_tag, mark, &format!("Release {last_tag}\n"))?;
    }
    // Commits since the last tag: one breaking change, about 1 % not conventional.
    let breaking_at = sizes.since / 2;
    for i in 0..sizes.since {
        n += 1;
        let m = if i == breaking_at {
            format!(
                "feat(api)!: drop the v1 endpoints (#{n})\n\nBREAKING CHANGE: the /v1 endpoints are gone; use /v2.\n"
            )
        } else if rng.chance(1) {
            format!("Update README for release {n}\n")
        } else {
            message(&mut rng, n)
        };
        fi.commit(&m)?;
        touch(&mut fi, &mut rng, n)?;
    }
    fi.finish()?;
    Ok(last_tag)
}

/// Generates (or reuses from `cache`) the history for `seed` and `scale`.
pub fn generate(cache: &Path, seed: u64, scale: Scale) -> Result<History, BenchError> {
    let dir = workload::cache_dir(cache, "history", GENERATOR_VERSION, seed, scale);
    let sizes = Sizes::at(scale);
    let origin = dir.join("origin.git");
    let work = dir.join("work");
    let meta_path = dir.join("meta.json");
    let last = tag_version(sizes.tags - 1);
    let expected = format!("{}.0.0", last.0 + 1);
    if let Ok(text) = std::fs::read_to_string(&meta_path)
        && let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(last_tag) = meta["last_tag"].as_str()
    {
        return Ok(History {
            work,
            origin,
            last_tag: last_tag.into(),
            expected,
            sizes,
        });
    }
    workload::fresh_dir(&dir)?;
    workload::git(&dir, &["init", "-q", "--bare", "-b", "main", "origin.git"])?;
    let last_tag = import(&origin, seed, &sizes)?;
    workload::pack(&origin)?;
    workload::git(&dir, &["clone", "-q", "origin.git", "work"])?;
    workload::git(&work, &["pack-refs", "--all"])?;
    let meta = serde_json::json!({"last_tag": last_tag, "seed": seed, "scale": scale.0});
    workload::write_file(&meta_path, meta.to_string().as_bytes())?;
    Ok(History {
        work,
        origin,
        last_tag,
        expected,
        sizes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_versions() {
        assert_eq!(tag_version(0).to_string(), "1.0.0");
        assert_eq!(tag_version(1).to_string(), "1.0.1");
        assert_eq!(tag_version(10).to_string(), "1.1.0");
        assert_eq!(tag_version(250).to_string(), "2.0.0");
        assert_eq!(tag_version(4999).to_string(), "20.24.9");
    }

    #[test]
    fn deterministic_small_history() {
        let scale = Scale(0.001);
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let ha = generate(a.path(), 7, scale).expect("generate");
        let hb = generate(b.path(), 7, scale).expect("generate");
        let head = |h: &History| workload::git(&h.work, &["rev-parse", "HEAD"]).expect("head");
        assert_eq!(head(&ha), head(&hb));
        let sizes = Sizes::at(scale);
        assert_eq!(ha.last_tag, "v1.0.4");
        assert_eq!(ha.expected, "2.0.0");
        let since = workload::git(
            &ha.work,
            &["rev-list", "--count", &format!("{}..HEAD", ha.last_tag)],
        )
        .expect("count");
        assert_eq!(since.parse::<usize>().expect("n"), sizes.since);
        let tags = workload::git(&ha.work, &["tag", "--list", "v*"]).expect("tags");
        assert_eq!(tags.lines().count(), sizes.tags);
        let total = workload::git(&ha.work, &["rev-list", "--count", "HEAD"]).expect("count");
        assert_eq!(
            total.parse::<usize>().expect("n"),
            1 + sizes.tags * TAG_SPACING + sizes.since
        );
        let c = tempfile::tempdir().expect("tmp");
        let hc = generate(c.path(), 8, scale).expect("generate");
        assert_ne!(head(&hc), head(&ha));
    }
}
