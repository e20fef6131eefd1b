//! Write-then-rename for result folders: a run killed at any moment leaves either the
//! previous complete folder or the new complete folder, never a half-written one.
//! Temporary folders are named `.<name>.tmp-<pid>` beside the target; a leftover one
//! (from a killed run) never looks like a result because it has the dot prefix and
//! lacks the `.complete` marker written last.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Name of the marker file written last into every complete result folder.
pub const COMPLETE_MARKER: &str = ".complete";

fn sibling(out: &Path, tag: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "result".into());
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.join(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Creates a temporary folder, lets `fill` write into it, marks it complete and
/// renames it to `out` (replacing an existing `out` only after the new one is whole).
pub fn write_dir(out: &Path, fill: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let tmp = sibling(out, "tmp");
    if let Some(parent) = tmp.parent() {
        fs::create_dir_all(parent)?;
    }
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    let result = fill(&tmp)
        .and_then(|()| fs::write(tmp.join(COMPLETE_MARKER), b""))
        .and_then(|()| {
            if out.exists() {
                let old = sibling(out, "old");
                if old.exists() {
                    fs::remove_dir_all(&old)?;
                }
                fs::rename(out, &old)?;
                fs::rename(&tmp, out)?;
                fs::remove_dir_all(&old)
            } else {
                fs::rename(&tmp, out)
            }
        });
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}
