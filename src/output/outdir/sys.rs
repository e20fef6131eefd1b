//! Platform specifics of [`super`]: exclusive locks (`flock`), whether a process is
//! alive (`kill(pid, 0)`), the host name, free space (`statvfs`) and the atomic
//! exchange of two folders (`renameat2(RENAME_EXCHANGE)`). Elsewhere than Unix they
//! degrade to what is safe: no lock, every process alive (nothing is removed), no
//! exchange.

pub use imp::*;

#[cfg(unix)]
mod imp {
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
                    // A file system without locks (NFS without its lock daemon): the
                    // lock only protects against a second writer, so write without it
                    // rather than refuse to write at all.
                    Some(libc::ENOLCK | libc::EOPNOTSUPP | libc::ENOSYS) => Ok(Some(f)),
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
mod imp {
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
