//! Helpers for the scenario tests: run a section reader on a snippet of TOML, or
//! build a whole scenario around a hand-made task sequence (the template, XML and
//! inline readers belong to another module).

use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::model::Scenario;
use super::parse::{Parts, read_parts, tree};
use super::source::Buffer;
use super::value::SourceCtx;
use crate::diag::Diagnostic;
use crate::tasksequence::tree::TaskSequence;

/// Parses `text` (which must be valid TOML) and hands its root to `f`.
pub(crate) fn with_doc<R>(text: &str, f: impl FnOnce(&SourceCtx<'_>, &DeTable<'_>) -> R) -> R {
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => panic!("test TOML does not parse: {e:?}"),
    };
    let ctx = SourceCtx {
        file: Path::new("test.toml"),
        text,
        base_dir: Path::new("."),
        lines: None,
    };
    f(&ctx, doc.get_ref())
}

/// Runs a reader and returns the errors it reported, in the order reported.
pub(crate) fn doc_errors(
    text: &str,
    f: impl FnOnce(&SourceCtx<'_>, &DeTable<'_>, &mut Vec<Diagnostic>),
) -> Vec<Diagnostic> {
    with_doc(text, |ctx, doc| {
        let mut errors = Vec::new();
        f(ctx, doc, &mut errors);
        errors
    })
}

/// Every section but the task sequence, and the errors found.
pub(crate) fn parts(text: &str) -> (Parts, Vec<Diagnostic>) {
    with_doc(text, |ctx, doc| {
        let mut errors = Vec::new();
        let p = read_parts(ctx, doc, "test", &mut errors);
        (p, errors)
    })
}

/// A scenario from `text` (which must have no errors) with `ts` as its task sequence.
pub(crate) fn scenario_with(text: &str, ts: TaskSequence) -> Scenario {
    let (p, errors) = parts(text);
    assert!(errors.is_empty(), "{errors:?}");
    Scenario {
        name: p.name,
        source: None,
        simulation: p.simulation,
        fleet: p.fleet,
        network: p.network,
        sites: p.topology.sites,
        distribution_points: p.topology.distribution_points,
        content: p.content.items,
        deployment: p.deployment,
        client: p.client,
        task_sequence: ts,
        setup: p.setup,
        step_overrides: Vec::new(),
        calendar: p.calendar,
        targets: Vec::new(),
        overrides: Vec::new(),
        notes: Vec::new(),
    }
}

/// Every section but the task sequence after `--set` overrides, with the errors as
/// `load` reports them (overrides mapped to `<--set ...>`, sorted).
pub(crate) fn parts_with(text: &str, overrides: &[&str]) -> (Option<Parts>, Vec<Diagnostic>) {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let file = Path::new("test.toml");
    let (buf, mut errors) = Buffer::new(text, &overrides);
    let parts = match tree(file, &buf, &mut errors) {
        Ok(DeValue::Table(root)) => {
            let ctx = SourceCtx {
                file,
                text: &buf.text,
                base_dir: Path::new("."),
                lines: None,
            };
            Some(read_parts(&ctx, &root, "test", &mut errors))
        }
        Ok(_) => None,
        Err(mut syntax) => {
            errors.append(&mut syntax);
            None
        }
    };
    (parts, buf.finish(file, errors).0)
}
