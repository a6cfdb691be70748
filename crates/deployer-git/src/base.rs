//! Choosing the base commit to diff against, per GitHub event.
//!
//! | situation | base |
//! |---|---|
//! | `--base` given | that commit (two-dot: `base..head`) |
//! | push, branch deleted | nothing changed |
//! | push, new branch (`before` = 0…) | merge-base with the default branch; the default branch itself → everything |
//! | push, forced, `--last-deployed-sha` given | that SHA when it is an ancestor of head |
//! | push | `before` (fetched by SHA at depth 1 when the clone lacks it) |
//! | pull_request(_target) | merge-base of head with the base branch tip (fetched) |
//! | merge_group | `base_sha` |
//! | tag push, workflow_dispatch, schedule, anything else | `--last-deployed-sha` when it is an ancestor of head, else everything |
//!
//! When a needed commit cannot be found even after fetching (force-pushed away,
//! garbage-collected, no shared history), the answer is **everything changed**, with
//! the reason — never "nothing changed" by accident. Objects are fetched with the git
//! CLI (`git fetch --no-tags [--depth=N] origin <sha>`), because libgit2 cannot deepen
//! a shallow clone.

use std::path::{Path, PathBuf};

use deployer_core::event::{Event, is_zero_sha};
use git2::{Oid, Repository};

use crate::{GitError, diff, git_cli};

/// What to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Diff `base..head`.
    Diff {
        base: Oid,
        head: Oid,
        reason: String,
    },
    /// Treat every service as changed.
    All { head: Option<Oid>, reason: String },
    /// Nothing to do (branch deletion).
    Nothing { reason: String },
}

impl Selection {
    pub fn reason(&self) -> &str {
        match self {
            Selection::Diff { reason, .. }
            | Selection::All { reason, .. }
            | Selection::Nothing { reason } => reason,
        }
    }
}

/// Inputs besides the event.
#[derive(Debug, Clone, Default)]
pub struct BaseRequest<'a> {
    pub event: Option<&'a Event>,
    pub explicit_base: Option<&'a str>,
    pub explicit_head: Option<&'a str>,
    /// Overrides the payload's `repository.default_branch` (fallback `main`).
    pub default_branch: Option<&'a str>,
    pub last_deployed: Option<&'a str>,
}

/// A repository that can fetch missing objects from `origin`.
pub struct Resolver {
    dir: PathBuf,
    repo: Repository,
    /// Human-readable notes about fetches, for the log.
    pub notes: Vec<String>,
}

const DEEPEN_STEPS: [u32; 3] = [64, 512, 4096];

impl Resolver {
    pub fn open(dir: &Path) -> Result<Self, GitError> {
        let repo = crate::open(dir)?;
        let dir = crate::cli_dir(&repo);
        Ok(Resolver {
            dir,
            repo,
            notes: Vec::new(),
        })
    }

    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    pub fn into_repo(self) -> Repository {
        self.repo
    }

    fn reopen(&mut self) -> Result<(), GitError> {
        self.repo = crate::open(&self.dir)?;
        Ok(())
    }

    fn has_origin(&self) -> bool {
        self.repo.find_remote("origin").is_ok()
    }

    fn fetch(&mut self, args: &[&str]) -> bool {
        if !self.has_origin() {
            return false;
        }
        let mut full = vec!["fetch", "--no-tags", "--quiet"];
        full.extend_from_slice(args);
        match git_cli(&self.dir, &full) {
            Ok(_) => {
                self.notes.push(format!("fetched: git {}", full.join(" ")));
                self.reopen().is_ok()
            }
            Err(e) => {
                self.notes.push(e.to_string());
                false
            }
        }
    }

    /// The commit `sha` names, fetching it from `origin` when this clone lacks it.
    pub fn commit(&mut self, sha: &str) -> Option<Oid> {
        if let Ok(id) = self
            .repo
            .revparse_single(sha)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
        {
            return Some(id);
        }
        let oid = Oid::from_str(sha)
            .ok()
            .filter(|_| sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()))?;
        let depth = if self.repo.is_shallow() {
            vec!["--depth=1"]
        } else {
            vec![]
        };
        let mut args = depth;
        args.extend(["origin", sha]);
        if self.fetch(&args) && self.repo.find_commit(oid).is_ok() {
            Some(oid)
        } else {
            None
        }
    }

    /// The tip of `branch` on origin (fetched), else the local branch.
    pub fn branch_tip(&mut self, branch: &str) -> Option<Oid> {
        let refspec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
        let shallow = self.repo.is_shallow();
        let args: Vec<&str> = if shallow {
            vec!["--depth=1", "origin", &refspec]
        } else {
            vec!["origin", &refspec]
        };
        self.fetch(&args);
        for name in [
            format!("refs/remotes/origin/{branch}"),
            format!("refs/heads/{branch}"),
        ] {
            if let Ok(id) = self.repo.refname_to_id(&name) {
                return Some(id);
            }
        }
        None
    }

    /// Merge-base of `a` and `b`, deepening a shallow clone until it appears.
    pub fn merge_base(&mut self, a: Oid, b: Oid) -> Option<Oid> {
        if let Some(m) = diff::merge_base(&self.repo, a, b) {
            return Some(m);
        }
        if !self.repo.is_shallow() {
            return None;
        }
        let (sa, sb) = (a.to_string(), b.to_string());
        for depth in DEEPEN_STEPS {
            let d = format!("--depth={depth}");
            self.fetch(&[&d, "origin", &sa, &sb]);
            if let Some(m) = diff::merge_base(&self.repo, a, b) {
                return Some(m);
            }
            if !self.repo.is_shallow() {
                return None;
            }
        }
        self.fetch(&["--unshallow", "origin", &sa, &sb]);
        diff::merge_base(&self.repo, a, b)
    }

    /// True when `ancestor` is reachable from `head` (deepening when shallow).
    pub fn is_ancestor(&mut self, ancestor: Oid, head: Oid) -> bool {
        if diff::is_ancestor(&self.repo, ancestor, head) {
            return true;
        }
        self.repo.is_shallow() && self.merge_base(ancestor, head) == Some(ancestor)
    }

    fn head(&mut self, req: &BaseRequest<'_>) -> Result<Oid, GitError> {
        if let Some(h) = req.explicit_head {
            return self.commit(h).ok_or_else(|| {
                GitError::BadRevision(format!("--head `{h}` is not a commit in this repository and could not be fetched from origin"))
            });
        }
        let from_event = match req.event {
            Some(Event::Push(p)) if !is_zero_sha(&p.after) => Some(p.after.clone()),
            Some(Event::MergeGroup(m)) if !m.merge_group.head_sha.is_empty() => {
                Some(m.merge_group.head_sha.clone())
            }
            _ => None,
        };
        if let Some(sha) = from_event
            && let Some(id) = self.commit(&sha)
        {
            return Ok(id);
        }
        self.repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| {
                GitError::BadRevision(format!(
                    "HEAD does not point at a commit ({}); pass --head",
                    e.message()
                ))
            })
    }

    fn last_deployed(&mut self, sha: &str, head: Oid) -> Result<Oid, String> {
        let Some(id) = self.commit(sha) else {
            return Err(format!(
                "the last deployed commit {sha} is not in this repository and could not be fetched"
            ));
        };
        if self.is_ancestor(id, head) {
            Ok(id)
        } else {
            Err(format!(
                "the last deployed commit {sha} is not an ancestor of {head} (history rewritten?)"
            ))
        }
    }

    fn fallback(&mut self, req: &BaseRequest<'_>, head: Oid, why: &str) -> Selection {
        if let Some(sha) = req.last_deployed {
            match self.last_deployed(sha, head) {
                Ok(base) => {
                    return Selection::Diff {
                        base,
                        head,
                        reason: format!("{why}: comparing with the last deployed commit {sha}"),
                    };
                }
                Err(problem) => {
                    return Selection::All {
                        head: Some(head),
                        reason: format!("{why} and {problem}: treating every service as changed"),
                    };
                }
            }
        }
        Selection::All {
            head: Some(head),
            reason: format!(
                "{why} and no --base or --last-deployed-sha was given: treating every service as changed"
            ),
        }
    }

    /// Chooses the base for `req` (see the module table).
    pub fn select(&mut self, req: &BaseRequest<'_>) -> Result<Selection, GitError> {
        if let Some(Event::Push(p)) = req.event
            && p.deleted
            && req.explicit_base.is_none()
        {
            return Ok(Selection::Nothing {
                reason: format!("push deleted {}: nothing to deploy", p.git_ref),
            });
        }
        let head = self.head(req)?;
        if let Some(base) = req.explicit_base {
            let id = self.commit(base).ok_or_else(|| {
                GitError::BadRevision(format!("--base `{base}` is not a commit in this repository and could not be fetched from origin"))
            })?;
            return Ok(Selection::Diff {
                base: id,
                head,
                reason: format!("comparing with --base {base}"),
            });
        }
        let default_branch = req
            .default_branch
            .filter(|b| !b.is_empty())
            .or_else(|| req.event.and_then(Event::default_branch))
            .unwrap_or("main")
            .to_string();
        let Some(event) = req.event else {
            return Ok(self.fallback(req, head, "no GitHub event (GITHUB_EVENT_NAME unset)"));
        };
        Ok(match event {
            Event::Push(p) if p.is_tag() => {
                self.fallback(req, head, &format!("tag push {}", p.git_ref))
            }
            Event::Push(p) if p.created || is_zero_sha(&p.before) => {
                let branch = p.branch().unwrap_or("");
                if branch == default_branch {
                    Selection::All {
                        head: Some(head),
                        reason: format!(
                            "first push of the default branch {branch}: treating every service as changed"
                        ),
                    }
                } else {
                    match self.branch_tip(&default_branch) {
                        Some(tip) => match self.merge_base(tip, head) {
                            Some(base) => Selection::Diff {
                                base,
                                head,
                                reason: format!(
                                    "new branch {branch}: comparing with its merge-base with {default_branch}"
                                ),
                            },
                            None => Selection::All {
                                head: Some(head),
                                reason: format!(
                                    "new branch {branch} shares no history with {default_branch}: treating every service as changed"
                                ),
                            },
                        },
                        None => Selection::All {
                            head: Some(head),
                            reason: format!(
                                "new branch {branch}, but the default branch {default_branch} could not be found: treating every service as changed"
                            ),
                        },
                    }
                }
            }
            Event::Push(p) => {
                if p.forced && req.last_deployed.is_some() {
                    return Ok(self.fallback(req, head, &format!("force push to {}", p.git_ref)));
                }
                match self.commit(&p.before) {
                    Some(base) => Selection::Diff {
                        base,
                        head,
                        reason: if p.forced {
                            format!(
                                "force push: comparing the new tip with the overwritten one {}",
                                p.before
                            )
                        } else {
                            format!("push: comparing with the previous tip {}", p.before)
                        },
                    },
                    None => Selection::All {
                        head: Some(head),
                        reason: format!(
                            "the push's previous tip {} is not in this clone and could not be fetched (force-pushed away or garbage-collected): treating every service as changed",
                            p.before
                        ),
                    },
                }
            }
            Event::PullRequest { payload, .. } => {
                let base_ref = payload.pull_request.base.git_ref.clone();
                let tip = if base_ref.is_empty() {
                    None
                } else {
                    self.branch_tip(&base_ref)
                }
                .or_else(|| self.commit(&payload.pull_request.base.sha));
                match tip.and_then(|t| self.merge_base(t, head)) {
                    Some(base) => Selection::Diff {
                        base,
                        head,
                        reason: format!(
                            "pull request #{}: comparing with the merge-base with {base_ref}",
                            payload.number()
                        ),
                    },
                    None => Selection::All {
                        head: Some(head),
                        reason: format!(
                            "pull request #{}: no merge-base with {base_ref} could be found: treating every service as changed",
                            payload.number()
                        ),
                    },
                }
            }
            Event::MergeGroup(m) => match self.commit(&m.merge_group.base_sha) {
                Some(base) => Selection::Diff {
                    base,
                    head,
                    reason: format!(
                        "merge group: comparing with base_sha {}",
                        m.merge_group.base_sha
                    ),
                },
                None => Selection::All {
                    head: Some(head),
                    reason: format!(
                        "merge group base_sha {} could not be fetched: treating every service as changed",
                        m.merge_group.base_sha
                    ),
                },
            },
            other => self.fallback(req, head, &format!("{} event", other.name())),
        })
    }

    /// Messages of the commits in `base..head` (newest first), for markers.
    pub fn messages(&self, base: Option<Oid>, head: Oid, limit: usize) -> Vec<String> {
        let Ok(mut walk) = self.repo.revwalk() else {
            return Vec::new();
        };
        if walk.push(head).is_err() {
            return Vec::new();
        }
        if let Some(b) = base {
            let _ = walk.hide(b);
        }
        walk.flatten()
            .take(limit)
            .filter_map(|id| self.repo.find_commit(id).ok())
            .map(|c| String::from_utf8_lossy(c.message_bytes()).into_owned())
            .collect()
    }
}
