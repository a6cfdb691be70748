//! Shared pieces of the workload generators: scale, a `git fast-import` stream writer,
//! git CLI calls and the cache layout (`<cache>/<kind>-g<version>-seed<seed>-scale<scale>/`).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::BenchError;

/// Deterministic author/committer; commit times advance by a fixed step.
pub const IDENT: &str = "Bench Author <bench@example.com>";
pub const EPOCH: i64 = 1_600_000_000;

/// Workload scale: 1.0 is the size the issue asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale(pub f64);

impl Scale {
    /// `full` scaled, never below `min`.
    pub fn of(self, full: usize, min: usize) -> usize {
        ((full as f64 * self.0).round() as usize).max(min)
    }

    /// `1`, `0.1`, `0.25`: stable text for cache keys and table headers.
    pub fn label(self) -> String {
        let s = format!("{:.4}", self.0);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The cache directory of one generated workload; `version` is the generator's own
/// version (bumped when it changes what it writes, which invalidates cached repositories).
pub fn cache_dir(cache: &Path, kind: &str, version: u32, seed: u64, scale: Scale) -> PathBuf {
    cache.join(format!(
        "{kind}-g{version}-seed{seed}-scale{}",
        scale.label()
    ))
}

/// Runs git with a clean, deterministic environment; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, BenchError> {
    let out = git_command(dir)
        .args(args)
        .output()
        .map_err(|e| BenchError::Io(format!("cannot run git {}", args.join(" ")), e))?;
    if !out.status.success() {
        return Err(BenchError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn git_command(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Bench Author")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench Author")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com");
    c
}

/// A `git fast-import` process fed through a buffered pipe.
pub struct FastImport {
    child: Child,
    out: BufWriter<ChildStdin>,
    mark: u64,
    pub commits: u64,
    clock: i64,
}

impl FastImport {
    /// Starts `git fast-import` in the repository `dir` (which must exist).
    pub fn start(dir: &Path) -> Result<Self, BenchError> {
        let mut child = git_command(dir)
            .args(["fast-import", "--quiet", "--done"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| BenchError::Io("cannot start git fast-import".into(), e))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| BenchError::Tool("git fast-import has no stdin".into()))?;
        Ok(FastImport {
            child,
            out: BufWriter::with_capacity(1 << 20, stdin),
            mark: 0,
            commits: 0,
            clock: EPOCH,
        })
    }

    fn io(e: std::io::Error) -> BenchError {
        BenchError::Io("cannot write to git fast-import".into(), e)
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), BenchError> {
        writeln!(self.out, "data {}", bytes.len()).map_err(Self::io)?;
        self.out.write_all(bytes).map_err(Self::io)?;
        self.out.write_all(b"\n").map_err(Self::io)
    }

    /// Starts a commit on `refs/heads/main` (continuing the branch); returns its mark.
    /// Follow with [`FastImport::modify`]/[`FastImport::delete`] lines.
    pub fn commit(&mut self, message: &str) -> Result<u64, BenchError> {
        self.mark += 1;
        self.commits += 1;
        self.clock += 60;
        let mark = self.mark;
        write!(
            self.out,
            "commit refs/heads/main\nmark :{mark}\nauthor {IDENT} {t} +0000\ncommitter {IDENT} {t} +0000\n",
            t = self.clock
        )
        .map_err(Self::io)?;
        self.data(message.as_bytes())?;
        Ok(mark)
    }

    /// Starts a commit on `branch` with explicit parents: `from` (the first parent; the
    /// branch's tip when `None`) and `merge` (a second parent, for a merge commit). The
    /// tree starts as the first parent's: a merge must repeat the changes it brings in.
    pub fn commit_on(
        &mut self,
        branch: &str,
        from: Option<u64>,
        merge: Option<u64>,
        message: &str,
    ) -> Result<u64, BenchError> {
        self.mark += 1;
        self.commits += 1;
        self.clock += 60;
        let mark = self.mark;
        write!(
            self.out,
            "commit refs/heads/{branch}\nmark :{mark}\nauthor {IDENT} {t} +0000\ncommitter {IDENT} {t} +0000\n",
            t = self.clock
        )
        .map_err(Self::io)?;
        self.data(message.as_bytes())?;
        if let Some(from) = from {
            writeln!(self.out, "from :{from}").map_err(Self::io)?;
        }
        if let Some(merge) = merge {
            writeln!(self.out, "merge :{merge}").map_err(Self::io)?;
        }
        Ok(mark)
    }

    pub fn modify(&mut self, path: &str, content: &[u8]) -> Result<(), BenchError> {
        writeln!(self.out, "M 100644 inline {path}").map_err(Self::io)?;
        self.data(content)
    }

    pub fn delete(&mut self, path: &str) -> Result<(), BenchError> {
        writeln!(self.out, "D {path}").map_err(Self::io)
    }

    /// An annotated tag on the commit `mark`.
    pub fn tag(&mut self, name: &str, mark: u64, message: &str) -> Result<(), BenchError> {
        write!(
            self.out,
            "tag {name}\nfrom :{mark}\ntagger {IDENT} {t} +0000\n",
            t = self.clock
        )
        .map_err(Self::io)?;
        self.data(message.as_bytes())
    }

    pub fn finish(mut self) -> Result<u64, BenchError> {
        self.out.write_all(b"done\n").map_err(Self::io)?;
        self.out.flush().map_err(Self::io)?;
        drop(self.out);
        let status = self
            .child
            .wait()
            .map_err(|e| BenchError::Io("git fast-import".into(), e))?;
        if !status.success() {
            return Err(BenchError::Tool(format!(
                "git fast-import failed: {status}"
            )));
        }
        Ok(self.commits)
    }
}

/// Packs objects and refs the way a fresh clone has them (one pack, `packed-refs`, no
/// commit-graph: actions/checkout does not write one).
pub fn pack(dir: &Path) -> Result<(), BenchError> {
    git(dir, &["repack", "-adq"])?;
    git(dir, &["pack-refs", "--all"])?;
    Ok(())
}

/// Writes `contents` to `path`, creating parent directories.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), BenchError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| BenchError::Io(format!("cannot create {}", parent.display()), e))?;
    }
    std::fs::write(path, contents)
        .map_err(|e| BenchError::Io(format!("cannot write {}", path.display()), e))
}

/// Replaces `dir` with a fresh empty directory.
pub fn fresh_dir(dir: &Path) -> Result<(), BenchError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| BenchError::Io(format!("cannot remove {}", dir.display()), e))?;
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| BenchError::Io(format!("cannot create {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_labels_and_sizes() {
        assert_eq!(Scale(1.0).label(), "1");
        assert_eq!(Scale(0.1).label(), "0.1");
        assert_eq!(Scale(0.25).label(), "0.25");
        assert_eq!(Scale(0.001).of(100_000, 1), 100);
        assert_eq!(Scale(0.0001).of(50, 1), 1);
        assert_eq!(
            cache_dir(Path::new("/c"), "monorepo", 3, 42, Scale(0.5)),
            PathBuf::from("/c/monorepo-g3-seed42-scale0.5")
        );
    }
}
