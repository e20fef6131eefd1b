//! What may stand at `--out`, and who may write it.
//!
//! A result folder replaces whatever is at `--out`, so fleetsim must be sure that what
//! it replaces is its own: a folder it wrote (the [`COMPLETE_MARKER`] written last,
//! plus the manifest of its kind, [`MANIFESTS`]) or an empty folder. Anything else (a
//! folder holding the user's files, a file, a symbolic link, the current folder or one
//! above it) is refused before any work starts and left untouched, and so is an
//! `--out` that is, holds or sits inside one of the command's own inputs
//! ([`check_inputs`]).
//!
//! One process at a time writes a given `--out`: [`claim`] takes an exclusive
//! `flock` on a lock file beside it (`.<name>.lock`, holding `pid@host` for the
//! message a second process prints) for as long as the command runs, so a second
//! writer is told who holds it instead of racing it to a rename ("Directory not
//! empty"). The lock is also what tells a live writer's temporary folder from one a
//! killed process left behind ([`clean_stale`]): a leftover is removed only when its
//! lock is free, its owner process is gone, and it was made on this host (a process
//! id means nothing on another machine sharing the folder, as Kubernetes pods and
//! Slurm nodes do).

use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::atomic::COMPLETE_MARKER;

/// The file that names a result folder's kind, one of which a folder fleetsim wrote
/// holds beside [`COMPLETE_MARKER`]: a run, a load test, a merge or `run
/// --replications` (`summary.json`), a sweep or a shard (`study.json`), a comparison
/// (`compare.json`), a plan (`plan.json`).
pub const MANIFESTS: [&str; 4] = ["summary.json", "study.json", "compare.json", "plan.json"];

/// Marker inside a temporary folder while it is being filled, so that a leftover is
/// recognisably fleetsim's even before anything else is in it.
pub const TMP_MARKER: &str = ".fleetsim-tmp";

/// Why a folder cannot be written at `--out`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutError {
    /// A file stands at `--out`.
    #[error(
        "{}: is a file; fleetsim writes a folder at --out and never replaces a file: choose another --out",
        .0.display()
    )]
    IsFile(PathBuf),
    /// A symbolic link stands at `--out`.
    #[error(
        "{}: is a symbolic link; give the folder it points to, or another --out",
        .0.display()
    )]
    Symlink(PathBuf),
    /// A folder that fleetsim did not write stands at `--out`.
    #[error(
        "{}: holds files fleetsim did not write ({found}); a result replaces only a folder fleetsim wrote (with its .complete marker) or an empty one: choose another --out, or move those files away",
        path.display()
    )]
    Foreign {
        /// The folder.
        path: PathBuf,
        /// A few of its entries, for the message.
        found: String,
    },
    /// `--out` is the current folder or one above it.
    #[error(
        "{}: is the current folder or contains it; a result replaces the whole folder at --out: give a folder of its own, e.g. --out results/run1",
        .0.display()
    )]
    Current(PathBuf),
    /// `--out` overlaps an input of the command.
    #[error("{}: {relation} the input {}; the result would replace what it reads: choose another --out", path.display(), input.display())]
    Overlap {
        /// The output folder.
        path: PathBuf,
        /// The input it overlaps.
        input: PathBuf,
        /// `is`, `contains` or `is inside`.
        relation: &'static str,
    },
    /// Another process is writing the same `--out`.
    #[error(
        "{}: another fleetsim ({holder}) is writing this folder now; wait for it to finish or choose another --out",
        path.display()
    )]
    Busy {
        /// The output folder.
        path: PathBuf,
        /// `pid N on HOST`, as its lock file says.
        holder: String,
    },
    /// The file system failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl OutError {
    /// Whether the user asked for something that cannot be done (exit code 2) rather
    /// than the machine failing.
    pub fn is_input(&self) -> bool {
        !matches!(self, OutError::Io { .. })
    }

    fn io(path: &Path) -> impl FnOnce(io::Error) -> OutError + '_ {
        move |source| OutError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The [`OutError`] inside an [`io::Error`], when a refusal travelled through code
/// that speaks `io::Result` ([`super::atomic::write_dir`]).
pub fn out_error(e: &io::Error) -> Option<&OutError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<OutError>())
}

/// What stands at `--out` now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Nothing: the result is renamed into place.
    Absent,
    /// An empty folder: nothing of anyone's is lost by replacing it.
    Empty,
    /// A folder fleetsim wrote: replaced whole.
    Result,
}

/// `p` made absolute and free of `.`, `..` and symbolic links as far as it exists;
/// the part that does not exist yet is appended as written (normalised).
pub fn absolute(p: &Path) -> PathBuf {
    let base = if p.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    let mut out = PathBuf::new();
    for c in base.join(p).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => {
                out.push(other);
                // Resolve symbolic links while the path exists.
                if let Ok(real) = fs::canonicalize(&out) {
                    out = real;
                }
            }
        }
    }
    out
}

/// Looks at `--out` and says whether a result may be written there.
pub fn check(out: &Path) -> Result<State, OutError> {
    let named = out
        .components()
        .next_back()
        .is_some_and(|c| matches!(c, Component::Normal(_)));
    let abs = absolute(out);
    let cwd = std::env::current_dir().map(|c| absolute(&c)).ok();
    if !named || abs.parent().is_none() || cwd.is_some_and(|c| c.starts_with(&abs)) {
        return Err(OutError::Current(out.to_path_buf()));
    }
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::Absent),
        Err(e) => return Err(OutError::io(out)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(OutError::Symlink(out.to_path_buf()));
    }
    if !meta.is_dir() {
        return Err(OutError::IsFile(out.to_path_buf()));
    }
    let mut names: Vec<String> = fs::read_dir(out)
        .map_err(OutError::io(out))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(State::Empty);
    }
    let has = |n: &str| names.iter().any(|x| x == n);
    if has(COMPLETE_MARKER) && MANIFESTS.iter().any(|m| has(m)) {
        return Ok(State::Result);
    }
    names.sort();
    let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
    let more = if names.len() > shown.len() {
        format!(" and {} more", names.len() - shown.len())
    } else {
        String::new()
    };
    Err(OutError::Foreign {
        path: out.to_path_buf(),
        found: format!("{}{more}", shown.join(", ")),
    })
}

/// Refuses an `--out` that is one of `inputs`, holds one, or sits inside one: the
/// result would replace (or be written into) what the command reads.
pub fn check_inputs(out: &Path, inputs: &[PathBuf]) -> Result<(), OutError> {
    let o = absolute(out);
    for i in inputs {
        let a = absolute(i);
        let relation = if a == o {
            "is"
        } else if a.starts_with(&o) {
            "contains"
        } else if o.starts_with(&a) {
            "is inside"
        } else {
            continue;
        };
        return Err(OutError::Overlap {
            path: out.to_path_buf(),
            input: i.clone(),
            relation,
        });
    }
    Ok(())
}

/// The folder `--out` sits in (`.` for a bare name).
pub fn parent_of(out: &Path) -> PathBuf {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The last component of `--out`, for the names of its lock and temporary folders.
pub fn name_of(out: &Path) -> String {
    out.file_name()
        .map_or_else(|| "result".into(), |n| n.to_string_lossy().into_owned())
}

/// This process as temporary folders and lock files name it: `pid@host`.
pub fn owner() -> String {
    format!("{}@{}", std::process::id(), sys::hostname())
}

/// Absolute paths of the `--out` folders this process has claimed (so that writing
/// one, deep inside a command that claimed it up front, does not lock it twice).
static CLAIMED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn claimed() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    CLAIMED.lock().unwrap_or_else(|p| p.into_inner())
}

/// The right to write one `--out`, held until dropped: the lock file beside it is
/// locked, and removed on drop.
#[derive(Debug)]
pub struct Claim {
    /// The lock file and its open handle; `None` for a claim this process already held.
    lock: Option<(PathBuf, File)>,
    /// The registry entry to drop.
    key: PathBuf,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some((path, file)) = self.lock.take() {
            // Unlinked while still locked: a process that opened the old file retries
            // on the new one (see `lock_file`), so nobody ever holds a dead lock.
            let _ = fs::remove_file(&path);
            drop(file);
            claimed().retain(|k| *k != self.key);
        }
    }
}

/// Checks `--out` ([`check`]), locks it against other fleetsim processes, and removes
/// temporary folders that killed processes left beside it ([`clean_stale`]). Hold the
/// returned claim for as long as the command may write `out`.
pub fn claim(out: &Path) -> Result<Claim, OutError> {
    check(out)?;
    let key = absolute(out);
    if claimed().contains(&key) {
        return Ok(Claim { lock: None, key });
    }
    let parent = parent_of(out);
    fs::create_dir_all(&parent).map_err(OutError::io(&parent))?;
    let path = parent.join(format!(".{}.lock", name_of(out)));
    let mut file = None;
    // A lock held for a few milliseconds (another process's clean-up looking at this
    // name) is waited for; a writer holds it for its whole run.
    for _ in 0..40 {
        if let Some(f) = sys::lock_file(&path).map_err(OutError::io(&path))? {
            file = Some(f);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let Some(mut file) = file else {
        let holder = fs::read_to_string(&path).unwrap_or_default();
        let holder = match holder.trim().split_once('@') {
            Some((pid, host)) => format!("pid {pid} on {host}"),
            None => "another process".to_string(),
        };
        return Err(OutError::Busy {
            path: out.to_path_buf(),
            holder,
        });
    };
    {
        use std::io::{Seek, Write};
        let _ = file.set_len(0);
        let _ = file.seek(io::SeekFrom::Start(0));
        let _ = writeln!(file, "{}", owner());
    }
    claimed().push(key.clone());
    let c = Claim {
        lock: Some((path, file)),
        key,
    };
    clean_stale(&parent, &name_of(out));
    Ok(c)
}

/// A leftover of a temporary or replaced folder: `.<name>.tmp-<pid>@<host>` (or the
/// `.old-` form, or without `@host` as older versions wrote them).
#[derive(Debug, PartialEq, Eq)]
struct Leftover {
    name: String,
    pid: u32,
    host: Option<String>,
}

fn parse_leftover(file: &str) -> Option<Leftover> {
    let rest = file.strip_prefix('.')?;
    let (name, owner) = [".tmp-", ".old-"]
        .iter()
        .filter_map(|tag| rest.rfind(tag).map(|i| (i, tag.len())))
        .max()
        .and_then(|(i, len)| Some((rest.get(..i)?, rest.get(i + len..)?)))?;
    let (pid, host) = match owner.split_once('@') {
        Some((p, h)) => (p, Some(h.to_string())),
        None => (owner, None),
    };
    let pid: u32 = pid.parse().ok()?;
    (!name.is_empty() && pid > 0).then(|| Leftover {
        name: name.to_string(),
        pid,
        host,
    })
}

/// Removes, in `parent`, the temporary folders of processes that are gone: made on
/// this host by a process that no longer runs, for a name whose lock nobody holds
/// (the caller holds `own`'s). Anything else is left alone: a live writer's folder,
/// a folder from another machine, anything not named like fleetsim's.
pub fn clean_stale(parent: &Path, own: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let host = sys::hostname();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_prefix('.').and_then(|f| f.strip_suffix(".lock"))
            && name != own
        {
            clean_stale_lock(&e.path(), &host);
            continue;
        }
        let Some(l) = parse_leftover(&file) else {
            continue;
        };
        let ours = l.host.as_deref().is_none_or(|h| h == host);
        if !ours || l.pid == std::process::id() || sys::pid_alive(l.pid) {
            continue;
        }
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = e.path();
        let guard = if l.name == own {
            None
        } else {
            // Someone writing that name now holds its lock: leave it alone.
            let lock = parent.join(format!(".{}.lock", l.name));
            match sys::lock_file(&lock) {
                Ok(Some(f)) => Some((lock, f)),
                _ => continue,
            }
        };
        let _ = fs::remove_dir_all(&dir);
        if let Some((lock, f)) = guard {
            let _ = fs::remove_file(&lock);
            drop(f);
        }
    }
}

/// Removes a lock file that a killed process left (its owner, written inside, ran on
/// this host and is gone, and nobody holds the lock).
fn clean_stale_lock(path: &Path, host: &str) {
    let text = fs::read_to_string(path).unwrap_or_default();
    let Some((pid, h)) = text.trim().split_once('@') else {
        return;
    };
    let Ok(pid) = pid.parse::<u32>() else { return };
    if h != host || pid == std::process::id() || sys::pid_alive(pid) {
        return;
    }
    if let Ok(Some(f)) = sys::lock_file(path) {
        let _ = fs::remove_file(path);
        drop(f);
    }
}

/// Bytes free for this user on the file system holding `p` (or its nearest existing
/// ancestor); `None` when unknown.
pub fn free_bytes(p: &Path) -> Option<u64> {
    let abs = absolute(p);
    let existing = abs.ancestors().find(|a| a.exists())?;
    sys::free_bytes(existing)
}

/// Platform specifics: locks, process liveness, the host name, free space and the
/// atomic exchange of two folders.
#[cfg(unix)]
pub(crate) mod sys {
    use std::ffi::CString;
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::io::AsRawFd;
    use std::path::Path;

    fn c_path(p: &Path) -> io::Result<CString> {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
    }

    /// Opens and exclusively locks `path` without waiting; `None` when another
    /// process holds it. The file is re-checked after locking: if it was unlinked or
    /// replaced meanwhile (its holder finished), the lock is taken again on the file
    /// now at `path`.
    pub fn lock_file(path: &Path) -> io::Result<Option<File>> {
        for _ in 0..8 {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            // SAFETY: flock on a descriptor this function owns; no memory is shared.
            let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if r != 0 {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(libc::EWOULDBLOCK) => Ok(None),
                    _ => Err(e),
                };
            }
            let held = f.metadata()?;
            match std::fs::metadata(path) {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                    return Ok(Some(f));
                }
                _ => continue,
            }
        }
        Ok(None)
    }

    /// Whether process `pid` exists on this machine (in this pid namespace).
    pub fn pid_alive(pid: u32) -> bool {
        let Ok(p) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        let r = unsafe { libc::kill(p, 0) };
        r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }

    /// The host name (`localhost` when unknown).
    pub fn hostname() -> String {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer outlives the call and its length is passed.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let name = String::from_utf8_lossy(buf.get(..end).unwrap_or_default())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
            .collect::<String>();
        if r != 0 || name.is_empty() {
            "localhost".into()
        } else {
            name
        }
    }

    /// Bytes available to this user on the file system holding `p`.
    pub fn free_bytes(p: &Path) -> Option<u64> {
        let c = c_path(p).ok()?;
        // SAFETY: statvfs fills the zeroed struct it is given; `c` outlives the call.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
        #[allow(
            clippy::useless_conversion,
            reason = "fsblkcnt_t and c_ulong are 32 bits on some targets"
        )]
        let (avail, frsize) = (u64::from(s.f_bavail), u64::from(s.f_frsize));
        (r == 0).then(|| avail.saturating_mul(frsize))
    }

    /// Swaps two existing paths in one step (`renameat2` with `RENAME_EXCHANGE`).
    /// `Ok(false)` when the kernel or the file system cannot (the caller falls back
    /// to two renames).
    #[cfg(target_os = "linux")]
    pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
        let (ca, cb) = (c_path(a)?, c_path(b)?);
        // SAFETY: renameat2 through syscall (present in every libc); both paths are
        // NUL-terminated and outlive the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP) => Ok(false),
            _ => Err(e),
        }
    }

    /// Other Unix systems: no exchange; two renames.
    #[cfg(not(target_os = "linux"))]
    pub fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
        Ok(false)
    }
}

/// Platforms without `flock` and `kill(pid, 0)`: the claim registry still stops a
/// process from writing one folder twice, leftovers are never taken for stale, and
/// replacing falls back to two renames.
#[cfg(not(unix))]
pub(crate) mod sys {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::path::Path;

    /// Opens the lock file (no lock is taken on this platform).
    pub fn lock_file(path: &Path) -> io::Result<Option<File>> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map(Some)
    }

    /// Unknown: assume alive, so nothing is removed.
    pub fn pid_alive(_pid: u32) -> bool {
        true
    }

    /// The host name from the environment.
    pub fn hostname() -> String {
        std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".into())
    }

    /// Unknown.
    pub fn free_bytes(_p: &Path) -> Option<u64> {
        None
    }

    /// No exchange: two renames.
    pub fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names_parse() {
        assert_eq!(
            parse_leftover(".res.tmp-123@node-1.example"),
            Some(Leftover {
                name: "res".into(),
                pid: 123,
                host: Some("node-1.example".into())
            })
        );
        assert_eq!(
            parse_leftover(".a.tmp-b.old-77"),
            Some(Leftover {
                name: "a.tmp-b".into(),
                pid: 77,
                host: None
            })
        );
        for not in [
            "res",
            ".res.tmp-",
            ".res.tmp-x",
            ".tmp-12",
            ".res.lock",
            ".res.tmp-0",
        ] {
            assert_eq!(parse_leftover(not), None, "{not}");
        }
    }

    #[test]
    fn only_fleetsim_folders_are_replaceable() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("r");
        assert_eq!(check(&out).unwrap(), State::Absent);
        fs::create_dir(&out).unwrap();
        assert_eq!(check(&out).unwrap(), State::Empty);
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let e = check(&out).unwrap_err();
        assert!(e.to_string().contains("notes.txt"), "{e}");
        fs::write(out.join(COMPLETE_MARKER), "").unwrap();
        assert!(check(&out).is_err(), "a marker alone is not a result");
        fs::write(out.join("summary.json"), "{}").unwrap();
        assert_eq!(check(&out).unwrap(), State::Result);
        let f = d.path().join("file");
        fs::write(&f, "x").unwrap();
        assert!(matches!(check(&f), Err(OutError::IsFile(_))));
        for here in [".", "..", "/"] {
            assert!(
                matches!(check(Path::new(here)), Err(OutError::Current(_))),
                "{here}"
            );
        }
    }

    #[test]
    fn overlapping_inputs_are_named() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        fs::create_dir(&a).unwrap();
        let dotted = d.path().join("a/./");
        for (out, rel) in [
            (a.clone(), "is"),
            (dotted, "is"),
            (d.path().to_path_buf(), "contains"),
            (a.join("m"), "is inside"),
        ] {
            match check_inputs(&out, std::slice::from_ref(&a)) {
                Err(OutError::Overlap { relation, .. }) => assert_eq!(relation, rel),
                other => panic!("{}: {other:?}", out.display()),
            }
        }
        assert!(check_inputs(&d.path().join("b"), &[a]).is_ok());
    }

    #[test]
    fn a_second_claim_in_another_process_is_busy_and_stale_leftovers_go() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("r");
        let c = claim(&out).unwrap();
        // The same process may claim again (nested writers).
        drop(claim(&out).unwrap());
        assert!(d.path().join(".r.lock").exists());
        // A lock held through another open file description is busy.
        assert!(sys::lock_file(&d.path().join(".r.lock")).unwrap().is_none());
        drop(c);
        assert!(!d.path().join(".r.lock").exists());
        // A leftover of a process that is gone (pid far above pid_max) goes; a live
        // process's (ours) and another host's stay.
        let gone = d
            .path()
            .join(format!(".x.tmp-999999999@{}", sys::hostname()));
        let live = d.path().join(format!(".y.tmp-{}", std::process::id()));
        let remote = d.path().join(".z.tmp-999999999@elsewhere.invalid");
        for p in [&gone, &live, &remote] {
            fs::create_dir(p).unwrap();
        }
        clean_stale(d.path(), "r");
        assert!(!gone.exists());
        assert!(live.exists() && remote.exists());
    }
}
