//! Bounded reads of the files a command is pointed at from outside (`--config`,
//! `GITHUB_EVENT_PATH`, `--task-definition`, test and scan reports).
//!
//! A path from outside can name anything: a FIFO that blocks the open forever, a device
//! such as `/dev/zero` that never ends, a directory, or a regular file that keeps growing
//! while it is read. [`read_limited`] refuses all of them in bounded time and memory:
//!
//! 1. it looks at the path with `stat` first and refuses anything that is not a regular
//!    file, without opening it;
//! 2. it opens with `O_NONBLOCK`, so a FIFO swapped in after the `stat` cannot block the
//!    open either, and checks the opened file again with `fstat`;
//! 3. it refuses a file whose size is over the limit before reading a byte, and reads at
//!    most `limit + 1` bytes ([`Read::take`]) so a file that grows meanwhile cannot
//!    exhaust memory.
//!
//! Every refusal is a [`FileError`] that names the file, what it is for (e.g. "the
//! coverage report"), the limit and the fix, and classifies as bad input (exit 2).

use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::exit::{Classify, ErrorKind};

/// The size limits, one per kind of file. Each is far above what a real file of that
/// kind needs and far below what would hurt a runner (7 GB of memory on GitHub's hosted
/// Linux runners).
pub mod limit {
    const MIB: u64 = 1024 * 1024;

    /// `.github/deployer.yml`: a real one is a few KiB; a MiB is hundreds of services.
    pub const CONFIG: u64 = MIB;
    /// The webhook payload at `GITHUB_EVENT_PATH`. GitHub caps payloads at 25 MB
    /// ("Payloads are capped at 25 MB", docs.github.com, Webhook events and payloads);
    /// 32 MiB leaves room above that.
    pub const EVENT_PAYLOAD: u64 = 32 * MIB;
    /// `--task-definition` JSON. ECS itself refuses task definitions over 64 KiB (service
    /// quota "Task definition size"); 1 MiB leaves room for indentation and the
    /// `describe-task-definition` wrapper.
    pub const TASK_DEFINITION: u64 = MIB;
    /// Every report `gate-check` reads: JUnit XML, coverage (LCOV, Cobertura, JaCoCo,
    /// Istanbul), SARIF, k6 summaries and Locust CSVs. JUnit and SARIF grow with the test
    /// suite and can carry captured output, hence 256 MiB.
    pub const REPORT: u64 = 256 * MIB;
    /// A file holding one credential (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`): a token
    /// of a few hundred bytes.
    pub const CREDENTIAL: u64 = 64 * 1024;
}

/// What a path names, when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    /// Anything else that is not a regular file.
    Other,
}

impl FileKind {
    fn of(meta: &Metadata) -> Option<FileKind> {
        let t = meta.file_type();
        if t.is_file() {
            return None;
        }
        if t.is_dir() {
            return Some(FileKind::Directory);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                return Some(FileKind::Fifo);
            }
            if t.is_socket() {
                return Some(FileKind::Socket);
            }
            if t.is_char_device() {
                return Some(FileKind::CharDevice);
            }
            if t.is_block_device() {
                return Some(FileKind::BlockDevice);
            }
        }
        Some(FileKind::Other)
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::Socket => "a socket",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Other => "not a regular file",
        })
    }
}

/// A byte count as people write it: `1 MiB`, `256 MiB`, `512 bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (size, unit) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{} {unit}", self.0 / size);
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

/// Why a file was not read.
#[derive(Debug, Error)]
pub enum FileError {
    /// The path names a FIFO, device, socket or directory.
    #[error(
        "{what} {path} is {kind}, not a regular file; deployer reads {what} only from a regular \
         file of at most {limit}. Point it at the file itself (write the output to a file first \
         instead of passing a pipe or device)",
        path = path.display()
    )]
    NotRegular {
        what: &'static str,
        path: PathBuf,
        kind: FileKind,
        limit: Bytes,
    },
    /// The file is larger than the limit for its kind (or grew past it while read).
    #[error(
        "{what} {path} is larger than the limit of {limit}{size}; this is not a file of that \
         kind, or a runaway one. Check that the path names the right file, and trim it below \
         {limit}",
        path = path.display(),
        size = size.map(|s| format!(" ({s} bytes)")).unwrap_or_default()
    )]
    TooLarge {
        what: &'static str,
        path: PathBuf,
        limit: Bytes,
        /// The size `stat` reported, when it was already over the limit.
        size: Option<u64>,
    },
    /// The file is not UTF-8 text.
    #[error(
        "{what} {path} is not UTF-8 text ({source}); save it as UTF-8",
        path = path.display()
    )]
    NotUtf8 {
        what: &'static str,
        path: PathBuf,
        source: std::string::FromUtf8Error,
    },
    /// The file could not be looked at, opened or read (missing, no permission, …).
    #[error("cannot read {what} {path}: {source}", path = path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl FileError {
    /// The underlying I/O error kind, e.g. to tell a missing file apart.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            FileError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

impl Classify for FileError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadInput
    }
}

/// For callers whose error type carries a `std::io::Error`: the kind is kept for I/O
/// failures (so `NotFound` stays `NotFound`); refusals become `InvalidInput` (not a
/// regular file), `FileTooLarge` or `InvalidData` with the full message.
impl From<FileError> for std::io::Error {
    fn from(err: FileError) -> std::io::Error {
        let kind = match &err {
            FileError::Io { source, .. } => source.kind(),
            FileError::NotRegular { .. } => std::io::ErrorKind::InvalidInput,
            FileError::TooLarge { .. } => std::io::ErrorKind::FileTooLarge,
            FileError::NotUtf8 { .. } => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, err.to_string())
    }
}

/// Reads the regular file at `path`, at most `limit` bytes; `what` names it in errors
/// ("the coverage report"). See the module documentation for what is refused and how.
pub fn read_limited(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, FileError> {
    let io = |source| FileError::Io {
        what,
        path: path.to_owned(),
        source,
    };
    check(path, what, limit, &std::fs::metadata(path).map_err(io)?)?;
    let file = open_nonblocking(path).map_err(io)?;
    // The path may have been swapped between the `stat` and the open: judge what was opened.
    check(path, what, limit, &file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            what,
            path: path.to_owned(),
            limit: Bytes(limit),
            size: None,
        });
    }
    Ok(bytes)
}

/// [`read_limited`], then the bytes as UTF-8 text.
pub fn read_text_limited(path: &Path, what: &'static str, limit: u64) -> Result<String, FileError> {
    let bytes = read_limited(path, what, limit)?;
    String::from_utf8(bytes).map_err(|source| FileError::NotUtf8 {
        what,
        path: path.to_owned(),
        source,
    })
}

fn check(path: &Path, what: &'static str, limit: u64, meta: &Metadata) -> Result<(), FileError> {
    if let Some(kind) = FileKind::of(meta) {
        return Err(FileError::NotRegular {
            what,
            path: path.to_owned(),
            kind,
            limit: Bytes(limit),
        });
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            what,
            path: path.to_owned(),
            limit: Bytes(limit),
            size: Some(meta.len()),
        });
    }
    Ok(())
}

/// Opens for reading with `O_NONBLOCK`: on a FIFO without a writer a plain open blocks
/// until one appears (open(2), fifo(7)); on regular files the flag has no effect.
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(bytes).expect("write");
        f
    }

    #[test]
    fn reads_a_file_at_the_limit() {
        let f = file_with(b"12345");
        assert_eq!(read_limited(f.path(), "the x", 5).expect("read"), b"12345");
        assert_eq!(
            read_text_limited(f.path(), "the x", 5).expect("read"),
            "12345"
        );
    }

    #[test]
    fn refuses_a_file_one_byte_over_the_limit_naming_file_and_limit() {
        let f = file_with(b"123456");
        let err = read_limited(f.path(), "the coverage report", 5).expect_err("too large");
        assert!(matches!(err, FileError::TooLarge { size: Some(6), .. }));
        let msg = err.to_string();
        assert!(msg.contains("the coverage report"), "{msg}");
        assert!(msg.contains(&f.path().display().to_string()), "{msg}");
        assert!(msg.contains("limit of 5 bytes"), "{msg}");
        assert_eq!(err.kind(), ErrorKind::BadInput);
    }

    #[test]
    fn refuses_a_sparse_huge_file_without_reading_it() {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        // 1 TiB of holes: reading it would take minutes and all memory.
        f.as_file().set_len(1 << 40).expect("sparse");
        let err = read_limited(f.path(), "the SARIF report", limit::REPORT).expect_err("large");
        assert!(matches!(err, FileError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("256 MiB"), "{err}");
    }

    #[test]
    fn refuses_a_directory() {
        let dir = tempfile::tempdir().expect("dir");
        let err = read_limited(dir.path(), "the JUnit XML report", 10).expect_err("dir");
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    kind: FileKind::Directory,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("a directory"), "{err}");
        assert!(err.to_string().contains("at most 10 bytes"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_dev_zero_as_a_device() {
        let err = read_limited(Path::new("/dev/zero"), "the event payload", 1024).expect_err("dev");
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    kind: FileKind::CharDevice,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("1 KiB"), "{err}");
    }

    /// A FIFO with no writer: a blocking open would never return, so this test finishing
    /// at all is the assertion (no writer is ever attached).
    #[cfg(unix)]
    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().expect("dir");
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        let err = read_limited(&fifo, "deployer.yml", limit::CONFIG).expect_err("fifo");
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    kind: FileKind::Fifo,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("FIFO"), "{err}");
    }

    /// `/proc` files report size 0 and yield more: the `stat` check passes, so only the
    /// bounded read stands between such a file (or one that grows) and memory.
    #[cfg(target_os = "linux")]
    #[test]
    fn stops_reading_a_file_that_is_longer_than_its_stat_size() {
        let path = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(path).expect("stat").len(), 0);
        let err = read_limited(path, "the x", 16).expect_err("longer than 16 bytes");
        assert!(
            matches!(err, FileError::TooLarge { size: None, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_keeps_its_io_kind() {
        let err = read_limited(Path::new("/nonexistent/x.json"), "the x", 10).expect_err("none");
        assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotFound));
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn refusals_convert_to_io_errors_with_the_message() {
        let f = file_with(b"123456");
        let err = read_limited(f.path(), "the x", 5).expect_err("too large");
        let text = err.to_string();
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::FileTooLarge);
        assert_eq!(io.to_string(), text);
    }

    #[test]
    fn refuses_invalid_utf8_as_text() {
        let f = file_with(&[0xff, 0xfe, 0x00]);
        let err = read_text_limited(f.path(), "the x", 10).expect_err("utf8");
        assert!(matches!(err, FileError::NotUtf8 { .. }), "{err}");
    }

    #[test]
    fn byte_counts_read_like_people_write_them() {
        assert_eq!(Bytes(limit::CONFIG).to_string(), "1 MiB");
        assert_eq!(Bytes(limit::REPORT).to_string(), "256 MiB");
        assert_eq!(Bytes(2048).to_string(), "2 KiB");
        assert_eq!(Bytes(1500).to_string(), "1500 bytes");
        assert_eq!(Bytes(1 << 30).to_string(), "1 GiB");
    }
}
