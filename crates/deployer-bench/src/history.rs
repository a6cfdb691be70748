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

/// A history shaped like a real project's (issue 21), where the linear one above is not:
/// pull requests merged in each of GitHub's three modes, a monorepo of services, and
/// thousands of tags (release tags and per-service tags).
pub mod real {
    use std::path::{Path, PathBuf};

    use crate::BenchError;
    use crate::rng::Rng;
    use crate::workload::{self, FastImport, Scale};

    /// Pull requests at full scale (about 2.8 commits each with the merge commits).
    pub const PULL_REQUESTS: usize = 8_000;
    /// The last third of the pull requests is not released yet: the range walked.
    pub const UNRELEASED_SHARE: usize = 3;
    /// A release tag every this many pull requests, before the unreleased range.
    pub const RELEASE_EVERY: usize = 4;
    /// The first is the one whose `--service` walk is measured.
    pub const SERVICES: [&str; 8] = [
        "api", "web", "worker", "billing", "search", "auth", "notify", "gateway",
    ];
    /// The service whose `--service` walk is measured.
    pub const SERVICE: &str = SERVICES[0];
    const DIRS: usize = 6;
    const FILES: usize = 25;
    pub const GENERATOR_VERSION: u32 = 1;

    #[derive(Debug, Clone)]
    pub struct RealHistory {
        pub work: PathBuf,
        pub origin: PathBuf,
        /// The last `v…` tag and the last `api-v…` tag.
        pub last_tag: String,
        pub last_service_tag: String,
        pub commits: usize,
        pub tags: usize,
        pub pull_requests: usize,
    }

    impl RealHistory {
        pub fn describe(&self) -> String {
            format!(
                "real-shaped history: {} commits from {} pull requests (merge commits with default and PR-title subjects, squash and rebase merges), a monorepo of {} services, {} tags",
                crate::monorepo::thousands(self.commits),
                crate::monorepo::thousands(self.pull_requests),
                SERVICES.len(),
                crate::monorepo::thousands(self.tags)
            )
        }

        /// The paths `--service api` counts, as `git log -- <paths>` takes them.
        pub fn service_path(&self) -> String {
            format!("services/{SERVICE}/")
        }
    }

    fn file(service: &str, dir: usize, f: usize) -> String {
        format!("services/{service}/src/m{dir}/file_{f:02}.rs")
    }

    fn title(rng: &mut Rng, n: usize, breaking: bool) -> String {
        let kinds = [
            "feat", "fix", "fix", "chore", "docs", "refactor", "perf", "test",
        ];
        let kind = *rng.pick(&kinds);
        let bang = if breaking { "!" } else { "" };
        let scope = *rng.pick(&SERVICES);
        format!("{kind}({scope}){bang}: change number {n}")
    }

    /// One pull request's branch commits: (message, files changed).
    fn branch_commits(rng: &mut Rng, pr: usize, service: &str) -> Vec<(String, Vec<String>)> {
        let count = 1 + rng.below(4);
        (0..count)
            .map(|c| {
                let message = if rng.chance(30) {
                    format!("wip {pr}.{c}\n")
                } else {
                    format!("{}\n", title(rng, pr * 10 + c, false))
                };
                let files = (0..1 + rng.below(3))
                    .map(|_| file(service, rng.below(DIRS), rng.below(FILES)))
                    .collect();
                (message, files)
            })
            .collect()
    }

    struct Generator {
        fi: FastImport,
        rng: Rng,
        main: u64,
        tags: usize,
        versions: [(u64, u64); SERVICES.len() + 1],
    }

    impl Generator {
        fn touch(&mut self, files: &[String], n: usize) -> Result<(), BenchError> {
            for f in files {
                self.fi.modify(
                    f,
                    format!("// {f}\npub const REV: usize = {n};\n").as_bytes(),
                )?;
            }
            Ok(())
        }

        /// Pull request `pr` touching `service`, merged in one of GitHub's three modes.
        fn pull_request(
            &mut self,
            pr: usize,
            service: &str,
            breaking: bool,
        ) -> Result<(), BenchError> {
            let commits = branch_commits(&mut self.rng, pr, service);
            let pr_title = title(&mut self.rng, pr, breaking);
            let all_files: Vec<String> = commits.iter().flat_map(|(_, f)| f.clone()).collect();
            let footer = if breaking {
                "\n\nBREAKING CHANGE: the old endpoints are gone.\n\nClients must move to the new ones."
            } else {
                ""
            };
            // The breaking change must be visible to every tool: not in the body of a
            // `Merge pull request #…` commit, which no tool parses.
            let mode = match self.rng.below(100) {
                m if breaking && m < 45 => 50,
                m => m,
            };
            match mode {
                // Merge commit (default subject, or the PR title when the repository is
                // set to use it), on top of the branch.
                mode @ 0..60 => {
                    let mut tip = self.main;
                    for (message, files) in &commits {
                        tip = self.fi.commit_on("topic", Some(tip), None, message)?;
                        self.touch(files, pr)?;
                    }
                    let message = if mode < 45 {
                        format!(
                            "Merge pull request #{pr} from org/topic-{pr}\n\n{pr_title}{footer}\n"
                        )
                    } else {
                        format!("{pr_title} (#{pr}){footer}\n")
                    };
                    self.main = self
                        .fi
                        .commit_on("main", Some(self.main), Some(tip), &message)?;
                    self.touch(&all_files, pr)?;
                }
                // Squash and merge: one commit titled like the pull request.
                60..85 => {
                    let bullets: String = commits.iter().map(|(m, _)| format!("* {m}")).collect();
                    let message = format!("{pr_title} (#{pr})\n\n{bullets}{footer}\n");
                    self.main = self.fi.commit_on("main", Some(self.main), None, &message)?;
                    self.touch(&all_files, pr)?;
                }
                // Rebase and merge: the branch's commits land on main one by one.
                _ => {
                    let last = commits.len() - 1;
                    for (i, (message, files)) in commits.iter().enumerate() {
                        let message = if breaking && i == last {
                            format!("{pr_title}{footer}\n")
                        } else {
                            message.clone()
                        };
                        self.main = self.fi.commit_on("main", Some(self.main), None, &message)?;
                        self.touch(files, pr)?;
                    }
                }
            }
            Ok(())
        }

        /// The next patch (every 10th a minor) of `slot` (0 = the whole repository).
        fn next_version(&mut self, slot: usize) -> String {
            let (minor, patch) = &mut self.versions[slot];
            if (*patch + 1) % 10 == 0 {
                *minor += 1;
                *patch = 0;
            } else {
                *patch += 1;
            }
            format!("1.{minor}.{patch}")
        }

        fn tag(&mut self, name: &str) -> Result<(), BenchError> {
            self.tags += 1;
            let main = self.main;
            self.fi.tag(name, main, &format!("Release {name}\n"))
        }
    }

    fn config() -> String {
        let mut yml = String::from("services:\n");
        for s in SERVICES {
            yml.push_str(&format!(
                "  {s}:\n    paths: ['services/{s}/**']\n    tag-prefix: {s}-v\n"
            ));
        }
        yml
    }

    fn import(dir: &Path, seed: u64, prs: usize) -> Result<(RealHistory, u64), BenchError> {
        let mut fi = FastImport::start(dir)?;
        let main = fi.commit("chore: initial commit\n")?;
        fi.modify(".github/deployer.yml", config().as_bytes())?;
        fi.modify("cog.toml", b"tag_prefix = \"v\"\n")?;
        for s in SERVICES {
            for d in 0..DIRS {
                for f in 0..FILES {
                    let p = file(s, d, f);
                    fi.modify(&p, format!("// {p}\n").as_bytes())?;
                }
            }
        }
        let mut g = Generator {
            fi,
            rng: Rng::new(seed),
            main,
            tags: 0,
            versions: [(0, 0); SERVICES.len() + 1],
        };
        g.tag("v1.0.0")?;
        for s in SERVICES {
            g.tag(&format!("{s}-v1.0.0"))?;
        }
        let released = prs - prs / UNRELEASED_SHARE;
        let breaking_at = released + (prs - released) / 2;
        let (mut last_tag, mut last_service_tag) =
            ("v1.0.0".to_string(), format!("{SERVICE}-v1.0.0"));
        for pr in 1..=prs {
            // The breaking change is in the measured service, so both walks find it.
            let slot = match g.rng.below(SERVICES.len()) {
                _ if pr == breaking_at => 0,
                n => n,
            };
            let service = SERVICES[slot];
            g.pull_request(pr, service, pr == breaking_at)?;
            if pr > released {
                continue;
            }
            // Service tags as the service's changes are released; release tags on a cadence.
            if g.rng.chance(50) {
                let name = format!("{service}-v{}", g.next_version(slot + 1));
                g.tag(&name)?;
                if service == SERVICE {
                    last_service_tag = name;
                }
            }
            if pr % RELEASE_EVERY == 0 {
                last_tag = format!("v{}", g.next_version(0));
                let name = last_tag.clone();
                g.tag(&name)?;
            }
        }
        let tags = g.tags;
        let commits = g.fi.finish()? as usize;
        let history = RealHistory {
            work: PathBuf::new(),
            origin: PathBuf::new(),
            last_tag,
            last_service_tag,
            commits,
            tags,
            pull_requests: prs,
        };
        Ok((history, commits as u64))
    }

    /// Generates (or reuses from `cache`) the real-shaped history for `seed` and `scale`.
    pub fn generate(cache: &Path, seed: u64, scale: Scale) -> Result<RealHistory, BenchError> {
        let dir = workload::cache_dir(cache, "real-history", GENERATOR_VERSION, seed, scale);
        let prs = scale.of(PULL_REQUESTS, 12);
        let origin = dir.join("origin.git");
        let work = dir.join("work");
        let meta_path = dir.join("meta.json");
        if let Ok(text) = std::fs::read_to_string(&meta_path)
            && let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text)
            && let (Some(last_tag), Some(service_tag), Some(commits), Some(tags)) = (
                meta["last_tag"].as_str(),
                meta["last_service_tag"].as_str(),
                meta["commits"].as_u64(),
                meta["tags"].as_u64(),
            )
        {
            return Ok(RealHistory {
                work,
                origin,
                last_tag: last_tag.into(),
                last_service_tag: service_tag.into(),
                commits: commits as usize,
                tags: tags as usize,
                pull_requests: prs,
            });
        }
        workload::fresh_dir(&dir)?;
        workload::git(&dir, &["init", "-q", "--bare", "-b", "main", "origin.git"])?;
        let (mut history, _) = import(&origin, seed, prs)?;
        workload::git(&origin, &["update-ref", "-d", "refs/heads/topic"])?;
        workload::pack(&origin)?;
        workload::git(&dir, &["clone", "-q", "origin.git", "work"])?;
        workload::git(&work, &["pack-refs", "--all"])?;
        let meta = serde_json::json!({
            "last_tag": history.last_tag,
            "last_service_tag": history.last_service_tag,
            "commits": history.commits,
            "tags": history.tags,
            "seed": seed,
            "scale": scale.0,
        });
        workload::write_file(&meta_path, meta.to_string().as_bytes())?;
        history.work = work;
        history.origin = origin;
        Ok(history)
    }
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

    #[test]
    fn the_real_shaped_history_has_merges_of_each_mode_tags_and_services() {
        let tmp = tempfile::tempdir().expect("tmp");
        let h = real::generate(tmp.path(), 7, Scale(0.01)).expect("generate");
        let git = |args: &[&str]| workload::git(&h.work, args).expect("git");
        let merges: usize = git(&["rev-list", "--merges", "--count", "HEAD"])
            .parse()
            .expect("n");
        assert!(merges > 10, "{merges} merges");
        let subjects = git(&["log", "--format=%s", "--merges"]);
        assert!(
            subjects
                .lines()
                .any(|l| l.starts_with("Merge pull request #"))
        );
        assert!(
            subjects
                .lines()
                .any(|l| !l.starts_with("Merge ") && l.ends_with(')'))
        );
        let tags = git(&["tag", "--list"]);
        assert_eq!(tags.lines().count(), h.tags);
        assert!(tags.lines().any(|t| t == h.last_tag.as_str()));
        assert!(tags.lines().any(|t| t == h.last_service_tag.as_str()));
        let commits: usize = git(&["rev-list", "--count", "HEAD"]).parse().expect("n");
        assert_eq!(commits, h.commits);
        let since = git(&["log", "--format=%B", &format!("{}..HEAD", h.last_tag)]);
        assert!(
            since.contains("BREAKING CHANGE:"),
            "a breaking change to find"
        );
        assert!(git(&["ls-files"]).contains(".github/deployer.yml"));
        assert!(git(&["branch", "--list", "topic"]).is_empty());
    }
}
