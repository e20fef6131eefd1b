//! Tests of the task-sequence layer, one file per module, plus property tests.

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use super::inline;
use super::tree::TaskSequence;
use crate::diag::Diagnostic;
use crate::input::value::{self, SourceCtx};

mod cond;
mod expand;
mod inline_form;
mod lint;
mod props;
mod wql;
mod xml;

/// The shared folder beside the checkout (`<manifest>/../shared`), or the one every
/// worktree of this machine sees.
fn shared_dir() -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if local.join("domain").is_dir() {
        local
    } else {
        PathBuf::from("/work/shared")
    }
}

/// The real exports of `shared/domain/ts-examples`.
const EXAMPLES: [&str; 3] = [
    "upgrade-os-default-template.xml",
    "ipu-citrix-vda-windows10.xml",
    "all-step-types.xml",
];

fn example(name: &str) -> PathBuf {
    shared_dir().join("domain/ts-examples").join(name)
}

/// Parses a TOML document's `[task_sequence]` table with the inline reader.
fn parse_inline(text: &str) -> Result<TaskSequence, Vec<Diagnostic>> {
    let ctx = SourceCtx {
        file: Path::new("scenario.toml"),
        text,
        base_dir: Path::new("."),
        lines: None,
    };
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => return Err(vec![ctx.diag(e.span().unwrap_or(0..0), "", e.to_string())]),
    };
    let Some(t) = value::get(doc.get_ref(), "task_sequence") else {
        return Err(vec![ctx.diag(0..0, "task_sequence", "missing")]);
    };
    match value::table(&ctx, "task_sequence", t) {
        Ok(t) => inline::parse(&ctx, "task_sequence", t),
        Err(d) => Err(vec![d]),
    }
}
