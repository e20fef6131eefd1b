//! `fleetsim ts show` / `fleetsim ts import`.

use std::path::PathBuf;

use super::ScenarioArgs;
use crate::tasksequence::{inline, print, xml};

/// `ts` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TsCommand {
    /// Print a scenario's task sequence as a tree, with conditions.
    Show(ScenarioArgs),
    /// Convert an exported ConfigMgr task sequence (XML) into the scenario's inline form.
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
            let t = xml::import_file(file)?;
            super::out(&inline::to_toml(&t));
        }
    }
    Ok(0)
}
