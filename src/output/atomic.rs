//! Write-then-replace for result folders: at every instant `--out` holds either the
//! previous complete folder or the new complete one, never neither, never half of one.
//!
//! The new folder is filled beside the target as `.<name>.tmp-<pid>@<host>` (hidden,
//! and without the [`COMPLETE_MARKER`] until the end, so it never looks like a
//! result), then put in place:
//!
//! - nothing at `--out`: one rename;
//! - an old result (or an empty folder): `renameat2(RENAME_EXCHANGE)` swaps the two
//!   folders in one step where the kernel and file system support it, and the old one,
//!   now under the temporary name, is removed. Elsewhere two renames are used (old
//!   aside as `.<name>.old-<pid>@<host>`, new in place) with a moment in between
//!   where `--out` is absent, and the old one is put back if the second rename fails.
//!
//! What may be replaced at all, and the lock that keeps two processes from writing
//! one `--out`, are [`super::outdir`]'s. A process killed half-way leaves its
//! temporary folder behind; the next fleetsim writing beside it removes it once its
//! owner is gone ([`super::outdir::clean_stale`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::outdir::{self, OutError, State, TMP_MARKER};

/// Name of the marker file written last into every complete result folder.
pub const COMPLETE_MARKER: &str = ".complete";

fn sibling(out: &Path, tag: &str) -> PathBuf {
    outdir::parent_of(out).join(format!(
        ".{}.{tag}-{}",
        outdir::name_of(out),
        outdir::owner()
    ))
}

/// The temporary folder this process fills for `out` (for tests and messages).
pub fn temp_dir_for(out: &Path) -> PathBuf {
    sibling(out, "tmp")
}

fn refusal(e: OutError) -> io::Error {
    let kind = match &e {
        OutError::Io { source, .. } => source.kind(),
        _ => io::ErrorKind::InvalidInput,
    };
    io::Error::new(kind, e)
}

/// Creates a temporary folder, lets `fill` write into it, marks it complete and puts
/// it at `out`, replacing an earlier result there only once the new one is whole.
///
/// Refuses (an [`io::Error`] carrying an [`OutError`], see [`outdir::out_error`]) to
/// replace anything fleetsim did not write, and to write an `--out` another process
/// is writing. Commands claim `out` before they start working ([`outdir::claim`]), so
/// that a refusal comes before the work; this checks again at the end.
pub fn write_dir(out: &Path, fill: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let _claim = outdir::claim(out).map_err(refusal)?;
    let tmp = sibling(out, "tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir(&tmp)?;
    let result = fs::write(tmp.join(TMP_MARKER), outdir::owner())
        .and_then(|()| fill(&tmp))
        .and_then(|()| fs::write(tmp.join(COMPLETE_MARKER), b""))
        .and_then(|()| fs::remove_file(tmp.join(TMP_MARKER)))
        .and_then(|()| put_in_place(&tmp, out));
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Moves the complete folder `tmp` to `out` (see the module docs).
fn put_in_place(tmp: &Path, out: &Path) -> io::Result<()> {
    match outdir::check(out).map_err(refusal)? {
        State::Absent => fs::rename(tmp, out),
        State::Empty | State::Result => {
            if outdir::sys::exchange(tmp, out)? {
                // `tmp` now names the old folder.
                return fs::remove_dir_all(tmp);
            }
            let old = sibling(out, "old");
            if old.exists() {
                fs::remove_dir_all(&old)?;
            }
            fs::rename(out, &old)?;
            if let Err(e) = fs::rename(tmp, out) {
                let _ = fs::rename(&old, out);
                return Err(e);
            }
            fs::remove_dir_all(&old)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_result_replaces_a_result_and_leaves_nothing_beside_it() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("r");
        for round in ["one", "two"] {
            write_dir(&out, |t| fs::write(t.join("summary.json"), round)).unwrap();
            assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), round);
            assert_eq!(names(&out), [".complete", "summary.json"]);
            assert_eq!(names(d.path()), ["r"]);
        }
    }

    #[test]
    fn a_failed_fill_keeps_the_old_result_and_removes_the_temporary_folder() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("r");
        write_dir(&out, |t| fs::write(t.join("summary.json"), "old")).unwrap();
        let e = write_dir(&out, |t| {
            fs::write(t.join("summary.json"), "new")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "old");
        assert_eq!(names(d.path()), ["r"]);
    }

    #[test]
    fn a_users_folder_is_refused_untouched() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("mine");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("notes.txt"), "x").unwrap();
        let mut ran = false;
        let e = write_dir(&out, |_| {
            ran = true;
            Ok(())
        })
        .unwrap_err();
        assert!(!ran, "nothing is computed into a refused --out");
        assert!(outdir::out_error(&e).is_some_and(OutError::is_input), "{e}");
        assert_eq!(names(&out), ["notes.txt"]);
        assert_eq!(names(d.path()), ["mine"]);
    }
}
