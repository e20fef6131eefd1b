//! Tests of the task-sequence layer, one file per module.
