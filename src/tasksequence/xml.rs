//! Import of exported ConfigMgr task sequences.
//! DEVELOPMENT PLACEHOLDER: replaced by the task-sequence worker before landing.

use std::path::Path;

use super::tree::TaskSequence;
use crate::diag::{Diagnostic, InputError};

/// Reads a bare `<sequence>` document or an `SMS_TaskSequencePackage` export.
pub fn import_file(path: &Path) -> Result<TaskSequence, InputError> {
    Err(InputError(vec![Diagnostic {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        key: String::new(),
        message: "XML import is not implemented yet".into(),
    }]))
}
