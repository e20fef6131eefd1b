//! `fleetsim ts show` / `fleetsim ts import`.

use std::path::{Path, PathBuf};

use super::ScenarioArgs;
use crate::diag::{Diagnostic, InputError};
use crate::tasksequence::tree::{Node, StepKind};
use crate::tasksequence::{inline, print, xml};

/// `ts` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TsCommand {
    /// Print a scenario's task sequence as a tree, with conditions.
    Show(ScenarioArgs),
    /// Convert an exported ConfigMgr task sequence (XML) into the scenario's inline
    /// form, followed by a `[[content]]` entry for each package it references.
    Import {
        /// The XML export (a bare `<sequence>` or an `SMS_TaskSequencePackage` object).
        file: PathBuf,
    },
}

/// Runs the command.
pub fn ts(c: &TsCommand) -> anyhow::Result<i32> {
    match c {
        TsCommand::Show(a) => {
            let s = a.load()?;
            super::out(&print::show(&s.task_sequence));
        }
        TsCommand::Import { file } => {
            refuse_non_xml(file)?;
            let t = xml::import_file(file)?;
            let mut text = inline::to_toml(&t);
            text.push_str(&content_entries(&t.steps));
            super::out(&text);
        }
    }
    Ok(0)
}

/// A file that does not start with `<` (after a BOM and blank space) is not an XML
/// export at all: say so instead of reporting an XML syntax error at 1:1.
fn refuse_non_xml(file: &Path) -> Result<(), InputError> {
    let Ok(bytes) = std::fs::read(file) else {
        return Ok(()); // the importer reports a missing or unreadable file
    };
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Ok(()),
        _ => Err(InputError(vec![Diagnostic {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
            key: String::new(),
            message: "not an XML file: `ts import` reads a task sequence exported from ConfigMgr \
                      (a <sequence> document or an SMS_TaskSequencePackage object.xml); a scenario \
                      file is read by `ts show`"
                .into(),
        }])),
    }
}

/// `[[content]]` entries for every package the steps reference, once each, in step
/// order, with the kind the referencing step implies. The export does not carry
/// sizes, so each entry says so in a comment rather than inventing one.
fn content_entries(steps: &[Node]) -> String {
    fn walk(n: &Node, out: &mut Vec<(String, &'static str, String)>) {
        let mut add = |ids: &[String], kind: &'static str| {
            for id in ids.iter().filter(|id| !id.is_empty()) {
                if !out.iter().any(|(x, _, _)| x == id) {
                    out.push((id.clone(), kind, n.name.clone()));
                }
            }
        };
        match &n.kind {
            StepKind::Download { content, .. } => add(content, "package"),
            StepKind::Run {
                package: Some(p), ..
            } => add(std::slice::from_ref(p), "package"),
            StepKind::UpgradeOs(u) => {
                add(&u.content, "os_upgrade");
                add(&u.driver_content, "driver");
            }
            StepKind::InstallApplications { applications, .. } => add(applications, "application"),
            StepKind::InstallPackage { package, .. } => {
                add(std::slice::from_ref(package), "package")
            }
            StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. } => {
                for c in steps {
                    walk(c, out);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for n in steps {
        walk(n, &mut found);
    }
    if found.is_empty() {
        return String::new();
    }
    let mut o = String::from(
        "\n# The content this task sequence references. The export does not say how large\n\
         # each package is: write its size (e.g. size = \"3.5GB\") before running.\n",
    );
    for (id, kind, step) in found {
        o.push_str(&format!(
            "\n[[content]]\nid = {id:?}\nkind = \"{kind}\"   # referenced by {step:?}\n# size = ?\n"
        ));
    }
    o
}
