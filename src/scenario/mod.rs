//! Reading scenarios: TOML with units and distributions into a resolved
//! [`model::Scenario`], with every problem reported at once, located by file, line,
//! column and key.
//!
//! The pipeline (ripgrep's "raw arguments, then resolved config"):
//!
//! 1. `source`: bytes to text (UTF-8 only, BOM dropped); the `--set` values are placed
//!    after the file in one buffer so their spans are as good as the file's.
//! 2. `parse`: the TOML tree is parsed with spans and the `overrides` applied to it.
//! 3. One module per section reads and checks its table with the shared readers of
//!    `fields`, [`value`] and [`dist`], filling [`defaults`]: `fleet` (and
//!    `[network]`), `topology` (sites and DPs, names resolved to indices), `content`,
//!    `deployment` (and `[client]`), `setup`, `tasksequence`.
//! 4. The task sequence tree is checked against `[[content]]`; diagnostics are sorted.
//!
//! [`warnings`] lists what is legal but probably not meant, for `fleetsim validate`.
//!
//! ```no_run
//! let s = fleetsim::scenario::load(
//!     std::path::Path::new("scenarios/win10-precache.toml"),
//!     &["fleet.clients=1000".to_string()],
//! );
//! match s {
//!     Ok(s) => println!("{} clients", s.fleet.clients),
//!     Err(e) => eprintln!("{e}"),
//! }
//! ```

mod calendar;
mod calendar_notes;
mod check;
mod content;
pub mod defaults;
mod deployment;
mod fields;
mod fleet;
pub mod model;
mod overrides;
mod parse;
mod setup;
mod source;
pub mod targets;
mod tasksequence;
mod topology;

/// The shared readers, re-exported where they were (they live in [`crate::input`]).
pub use crate::input::{dist, units, value};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use std::path::Path;

use crate::diag::{Diagnostic, InputError};
pub use calendar::{BITS_NO_PROGRESS_TIMEOUT, BITS_RETRY_DELAY};
pub use calendar_notes::{describe as describe_calendar, fmt_schedule};
pub use check::warnings;
use model::Scenario;
pub use overrides::blame;

/// Reads, overrides, checks and resolves a scenario file. `overrides` are the
/// `--set KEY=VALUE` arguments, applied in order (a later one wins).
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, InputError> {
    let bytes = source::read_limited(path).map_err(|e| Diagnostic {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        key: String::new(),
        message: format!("cannot read the scenario file: {e}"),
    })?;
    let text = source::decode(path, &bytes)?;
    let base_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    parse::load_text(&text, path, base_dir, overrides, Some(path))
}

/// Same as [`load`] from text already in memory (`fleetsim validate -`, tests, sweeps
/// that edit text): `file` names it in messages and gives the default `name`;
/// `base_dir` is where relative paths (`xml`, `csv`) resolve. The resulting
/// scenario's `source` is `None`: no file was read.
pub fn load_str(
    text: &str,
    file: &Path,
    base_dir: &Path,
    overrides: &[String],
) -> Result<Scenario, InputError> {
    parse::load_text(text, file, base_dir, overrides, None)
}
