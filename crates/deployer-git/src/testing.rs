//! Real git repositories in temp dirs for tests (feature `testing`).
//!
//! Commits are made with git2 (deterministic, increasing commit times); clones, pushes
//! and shallow clones use the git CLI, as on a runner.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{IndexAddOption, Oid, Repository, Signature, Time};

/// A work tree repository on branch `main`, optionally with a bare `origin`.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    clock: std::cell::Cell<i64>,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl TestRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(&work, &opts).expect("init");
        {
            let mut cfg = repo.config().expect("config");
            cfg.set_str("user.name", "Test").expect("cfg");
            cfg.set_str("user.email", "test@example.com").expect("cfg");
        }
        TestRepo {
            dir,
            repo,
            clock: std::cell::Cell::new(1_700_000_000),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.repo.workdir().expect("workdir").to_path_buf()
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.path(), args)
    }

    pub fn write(&self, path: &str, content: &str) -> &Self {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(full, content).expect("write");
        self
    }

    pub fn remove(&self, path: &str) -> &Self {
        std::fs::remove_file(self.path().join(path)).expect("remove");
        self
    }

    pub fn rename(&self, from: &str, to: &str) -> &Self {
        let dest = self.path().join(to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::rename(self.path().join(from), dest).expect("rename");
        self
    }

    fn signature(&self) -> Signature<'static> {
        self.clock.set(self.clock.get() + 60);
        Signature::new("Test", "test@example.com", &Time::new(self.clock.get(), 0)).expect("sig")
    }

    fn tree(&self) -> Oid {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"], None).expect("update");
        index.write().expect("write index");
        index.write_tree().expect("tree")
    }

    /// Stages everything and commits on HEAD.
    pub fn commit(&mut self, message: &str) -> Oid {
        let tree = self.repo.find_tree(self.tree()).expect("tree");
        let sig = self.signature();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit")
    }

    /// Writes `path` and commits.
    pub fn commit_file(&mut self, path: &str, content: &str, message: &str) -> Oid {
        self.write(path, content);
        self.commit(message)
    }

    pub fn head(&self) -> Oid {
        self.repo
            .head()
            .expect("head")
            .peel_to_commit()
            .expect("commit")
            .id()
    }

    pub fn tag(&self, name: &str) {
        let obj = self.repo.find_object(self.head(), None).expect("obj");
        self.repo.tag_lightweight(name, &obj, false).expect("tag");
    }

    pub fn tag_at(&self, name: &str, at: Oid) {
        let obj = self.repo.find_object(at, None).expect("obj");
        self.repo.tag_lightweight(name, &obj, false).expect("tag");
    }

    pub fn tag_annotated(&mut self, name: &str, message: &str) {
        let obj = self.repo.find_object(self.head(), None).expect("obj");
        let sig = self.signature();
        self.repo
            .tag(name, &obj, &sig, message, false)
            .expect("tag");
    }

    /// Creates `name` at HEAD (no checkout).
    pub fn branch(&self, name: &str) {
        let commit = self.repo.find_commit(self.head()).expect("commit");
        self.repo.branch(name, &commit, true).expect("branch");
    }

    pub fn checkout(&self, name: &str) {
        self.repo
            .set_head(&format!("refs/heads/{name}"))
            .expect("set head");
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .expect("checkout");
    }

    /// Merges branch `other` into HEAD with a merge commit (no conflicts expected).
    pub fn merge(&mut self, other: &str, message: &str) -> Oid {
        let ours = self.repo.find_commit(self.head()).expect("ours");
        let theirs = self
            .repo
            .find_branch(other, git2::BranchType::Local)
            .expect("branch")
            .get()
            .peel_to_commit()
            .expect("theirs");
        let mut index = self
            .repo
            .merge_commits(&ours, &theirs, None)
            .expect("merge");
        assert!(!index.has_conflicts(), "merge conflicts");
        let tree = self
            .repo
            .find_tree(index.write_tree_to(&self.repo).expect("tree"))
            .expect("tree");
        let sig = self.signature();
        let id = self
            .repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &[&ours, &theirs])
            .expect("commit");
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .expect("checkout");
        id
    }

    /// Moves the current branch to `to` (simulates rewriting history before a force push).
    pub fn reset_hard(&self, to: Oid) {
        let obj = self.repo.find_object(to, None).expect("obj");
        self.repo
            .reset(&obj, git2::ResetType::Hard, None)
            .expect("reset");
    }

    /// Creates a bare `origin` next to the work tree and pushes every branch and tag.
    pub fn add_origin(&self) -> PathBuf {
        let origin = self.dir.path().join("origin.git");
        git(
            self.dir.path(),
            &[
                "init",
                "--bare",
                "-q",
                "-b",
                "main",
                origin.to_str().expect("utf8"),
            ],
        );
        // GitHub lets clients fetch any commit by SHA; make the local origin do the same.
        git(
            &origin,
            &["config", "uploadpack.allowAnySHA1InWant", "true"],
        );
        self.git(&[
            "remote",
            "add",
            "origin",
            &format!("file://{}", origin.display()),
        ]);
        self.push_all();
        origin
    }

    pub fn origin_url(&self) -> String {
        format!("file://{}", self.dir.path().join("origin.git").display())
    }

    pub fn push_all(&self) {
        self.git(&[
            "push",
            "-q",
            "--force",
            "origin",
            "refs/heads/*:refs/heads/*",
        ]);
        self.git(&["push", "-q", "--force", "origin", "refs/tags/*:refs/tags/*"]);
    }

    /// A clone of origin in a new dir: `depth` 0 means full history.
    pub fn clone_origin(&self, name: &str, depth: u32, branch: &str, tags: bool) -> PathBuf {
        let dest = self.dir.path().join(name);
        let mut args: Vec<String> = vec![
            "clone".into(),
            "-q".into(),
            "--branch".into(),
            branch.into(),
        ];
        if depth > 0 {
            args.push(format!("--depth={depth}"));
        }
        if !tags {
            args.push("--no-tags".into());
        }
        args.push(self.origin_url());
        args.push(dest.to_str().expect("utf8").into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        git(self.dir.path(), &refs);
        dest
    }

    /// Garbage-collects origin so commits no branch reaches are really gone.
    pub fn gc_origin(&self) {
        let origin = self.dir.path().join("origin.git");
        git(&origin, &["reflog", "expire", "--expire=now", "--all"]);
        git(&origin, &["gc", "-q", "--prune=now"]);
    }
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs git in `dir` (asserting success) and returns stdout.
pub fn run_git(dir: &Path, args: &[&str]) -> String {
    git(dir, args)
}
