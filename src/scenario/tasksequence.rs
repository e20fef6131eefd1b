//! `[task_sequence]`: picks one of the three forms (built-in template, exported XML,
//! inline steps) and hands it to the task-sequence module, then checks that every
//! content id the tree references is defined in `[[content]]`.
//!
//! The tree carries no spans, so a bad reference is located by finding the id as a
//! string inside the `[task_sequence]` TOML (inline form), or else at the
//! `template`/`xml` value or the table header.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

use super::fields::Section;
use super::model::StepOverride;
use super::topology::LISTED_NAMES;
use super::units::Quantity;
use super::value::{self, SourceCtx};
use crate::diag::Diagnostic;
use crate::tasksequence::tree::{Node, StepKind, TaskSequence};
use crate::tasksequence::{inline, templates, xml};

const FORMS: &str =
    "expected one of: template = \"<name>\", xml = \"<path>\", or inline [[task_sequence.steps]]";

/// Reads `[task_sequence]` into a tree and its step overrides; `None` after an error
/// (pushed).
pub(crate) fn read_task_sequence(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> Option<(TaskSequence, Vec<StepOverride>)> {
    let mut ts = read_tree(ctx, v, errors)?;
    let Some(v) = v else {
        return Some((ts, Vec::new()));
    };
    let s = Section::new(ctx, "task_sequence", v).ok()?;
    // `variables` also applies to templates and imports (the inline reader has read
    // them already for the inline form).
    if s.get("steps").is_none()
        && let Some(vars) = s.get("variables")
    {
        match value::table(ctx, &s.key("variables"), vars) {
            Ok(t) => {
                for (k, val) in t.iter() {
                    match value::string(ctx, &join_key(&s.key("variables"), k.get_ref()), val) {
                        Ok(x) => ts.variables.push((k.get_ref().to_string(), x)),
                        Err(d) => errors.push(d),
                    }
                }
            }
            Err(d) => errors.push(d),
        }
    }
    let overrides = match s.get("overrides") {
        Some(o) => read_overrides(ctx, &s.key("overrides"), o, &ts, errors),
        None => Vec::new(),
    };
    Some((ts, overrides))
}

fn join_key(a: &str, b: &str) -> String {
    value::join(a, b)
}

/// Every node's name and ` / `-joined path, in order.
pub(crate) fn node_paths(ts: &TaskSequence) -> Vec<(String, String)> {
    fn walk(nodes: &[Node], prefix: &str, out: &mut Vec<(String, String)>) {
        for n in nodes {
            let path = if prefix.is_empty() {
                n.name.clone()
            } else {
                format!("{prefix} / {}", n.name)
            };
            out.push((n.name.clone(), path.clone()));
            if let StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. } = &n.kind {
                walk(steps, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&ts.steps, "", &mut out);
    out
}

fn read_overrides(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
    ts: &TaskSequence,
    errors: &mut Vec<Diagnostic>,
) -> Vec<StepOverride> {
    let DeValue::Array(items) = v.get_ref() else {
        errors.push(ctx.diag(
            v.span(),
            key,
            format!(
                "found {}, expected an array of tables ([[task_sequence.overrides]])",
                value::type_name(v.get_ref())
            ),
        ));
        return Vec::new();
    };
    let paths = node_paths(ts);
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let k = format!("{key}.{i}");
        let t = match value::table(ctx, &k, item) {
            Ok(t) => t,
            Err(d) => {
                errors.push(d);
                continue;
            }
        };
        value::check_keys(
            ctx,
            &k,
            t,
            &["step", "duration", "exit_codes", "output", "success_codes"],
            errors,
        );
        let Some(sv) = value::get(t, "step") else {
            errors.push(ctx.diag(
                item.span(),
                &k,
                "missing key `step` (a step name or a path \"Group / Step\")",
            ));
            continue;
        };
        let step = match value::string(ctx, &join_key(&k, "step"), sv) {
            Ok(s) => s,
            Err(d) => {
                errors.push(d);
                continue;
            }
        };
        if !paths
            .iter()
            .any(|(n, p)| n.eq_ignore_ascii_case(&step) || p.eq_ignore_ascii_case(&step))
        {
            errors.push(ctx.diag(sv.span(), &join_key(&k, "step"), {
                let names = paths.iter().flat_map(|(n, p)| [n.as_str(), p.as_str()]);
                match crate::diag::closest(&step, names) {
                    Some(c) => format!(
                        "no step or group named {step:?} in the task sequence; did you mean {c:?}?"
                    ),
                    None => format!("no step or group named {step:?} in the task sequence"),
                }
            }));
        }
        let duration = value::get(t, "duration").and_then(|d| {
            super::dist::parse_dist(ctx, &join_key(&k, "duration"), d, Quantity::Duration)
                .map_err(|es| errors.extend(es))
                .ok()
        });
        let mut exit_codes = Vec::new();
        if let Some(ec) = value::get(t, "exit_codes") {
            match value::table(ctx, &join_key(&k, "exit_codes"), ec) {
                Ok(codes) => {
                    for (code, w) in codes.iter() {
                        let ck = join_key(&join_key(&k, "exit_codes"), code.get_ref());
                        let Some(c) = crate::tasksequence::inline::parse_code(code.get_ref())
                        else {
                            errors.push(ctx.diag(
                                code.span(),
                                &ck,
                                "expected an exit code (decimal or 0x hex)",
                            ));
                            continue;
                        };
                        match value::quantity(ctx, &ck, w, Quantity::Number) {
                            Ok(x) if x >= 0.0 => exit_codes.push((c, x)),
                            Ok(x) => errors.push(ctx.diag(
                                w.span(),
                                &ck,
                                format!("weight must not be negative (found {x})"),
                            )),
                            Err(d) => errors.push(d),
                        }
                    }
                    if !exit_codes.is_empty()
                        && exit_codes.iter().map(|(_, w)| w).sum::<f64>() <= 0.0
                    {
                        errors.push(ctx.diag(
                            ec.span(),
                            &join_key(&k, "exit_codes"),
                            "weights must sum to more than 0",
                        ));
                    }
                }
                Err(d) => errors.push(d),
            }
        }
        let output = value::get(t, "output").and_then(|o| {
            value::string(ctx, &join_key(&k, "output"), o)
                .map_err(|d| errors.push(d))
                .ok()
        });
        let success_codes = value::get(t, "success_codes").and_then(|sc| {
            let key = join_key(&k, "success_codes");
            let DeValue::Array(items) = sc.get_ref() else {
                errors.push(ctx.diag(
                    sc.span(),
                    &key,
                    "expected an array of exit codes, e.g. [0, 3010]",
                ));
                return None;
            };
            let mut codes = Vec::new();
            for (j, item) in items.iter().enumerate() {
                match value::as_f64(item.get_ref()) {
                    Some(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => codes.push(x as i64),
                    _ => errors.push(ctx.diag(
                        item.span(),
                        &format!("{key}.{j}"),
                        "expected an integer exit code",
                    )),
                }
            }
            Some(codes)
        });
        out.push(StepOverride {
            step,
            duration,
            exit_codes,
            output,
            success_codes,
        });
    }
    out
}

/// Reads the tree itself (one of the three forms).
fn read_tree(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> Option<TaskSequence> {
    let Some(v) = v else {
        errors.push(ctx.diag(
            0..0,
            "task_sequence",
            format!("missing [task_sequence] table; {FORMS}"),
        ));
        return None;
    };
    let s = match Section::new(ctx, "task_sequence", v) {
        Ok(s) => s,
        Err(d) => {
            errors.push(d);
            return None;
        }
    };
    let forms: Vec<&str> = ["template", "xml", "steps"]
        .into_iter()
        .filter(|k| s.get(k).is_some())
        .collect();
    match forms.as_slice() {
        [] => {
            errors.push(s.diag_here("task_sequence", format!("no task sequence given; {FORMS}")));
            None
        }
        ["template"] => {
            s.check_keys(&["template", "variables", "overrides"], errors);
            let name = s.opt("template", &value::string, errors)?;
            match templates::by_name(&name) {
                Some(ts) => Some(ts),
                None => {
                    let at = s
                        .get("template")
                        .map(|t| t.span())
                        .unwrap_or(s.span.clone());
                    let known = if templates::NAMES.is_empty() {
                        "(no templates are built in)".to_string()
                    } else {
                        templates::NAMES.join(", ")
                    };
                    errors.push(ctx.diag(
                        at,
                        &s.key("template"),
                        format!("unknown template {name:?}, expected one of: {known}"),
                    ));
                    None
                }
            }
        }
        ["xml"] => {
            s.check_keys(&["xml", "variables", "overrides"], errors);
            let rel = s.opt("xml", &value::string, errors)?;
            match xml::import_file(&ctx.base_dir.join(rel)) {
                Ok(ts) => Some(ts),
                Err(e) => {
                    // An export that cannot be read at all (missing, unreadable, not
                    // text) has no line of its own to point at: point at the
                    // scenario's `xml = ...` instead, naming the export.
                    let at = s
                        .table
                        .iter()
                        .find(|(k, _)| k.get_ref().as_ref() == "xml")
                        .map(|(_, v)| v.span())
                        .unwrap_or(s.span.clone());
                    for d in e.0 {
                        if d.line == 0 {
                            errors.push(ctx.diag(
                                at.clone(),
                                &s.key("xml"),
                                format!("{}: {}", d.file.display(), d.message),
                            ));
                        } else {
                            errors.push(d);
                        }
                    }
                    None
                }
            }
        }
        [_] => match inline::parse(ctx, "task_sequence", s.table) {
            Ok(ts) => Some(ts),
            Err(es) => {
                errors.extend(es);
                None
            }
        },
        [first, second, ..] => {
            let at = s
                .table
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == *second)
                .map(|(k, _)| k.span())
                .unwrap_or(s.span.clone());
            errors.push(ctx.diag(
                at,
                &s.key(second),
                format!(
                    "`{first}` and `{second}` are both given; a task sequence has exactly one \
                     form: template, xml or inline steps"
                ),
            ));
            None
        }
    }
}

/// Every content id the tree references, with the name of the step that references
/// it, in step order (duplicates kept).
pub(crate) fn referenced_content(ts: &TaskSequence) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for n in &ts.steps {
        collect(n, &mut out);
    }
    out
}

fn collect(n: &Node, out: &mut Vec<(String, String)>) {
    let mut add = |ids: &[String]| {
        for id in ids {
            out.push((id.clone(), n.name.clone()));
        }
    };
    match &n.kind {
        StepKind::Download { content, .. } => add(content),
        StepKind::Run {
            package: Some(p), ..
        } => add(std::slice::from_ref(p)),
        StepKind::UpgradeOs(u) => {
            add(&u.content);
            add(&u.driver_content);
        }
        StepKind::InstallApplications { applications, .. } => add(applications),
        StepKind::InstallPackage { package, .. } => add(std::slice::from_ref(package)),
        StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. } => {
            for c in steps {
                collect(c, out);
            }
        }
        _ => {}
    }
}

/// Reports every referenced id that `[[content]]` does not define (once per id).
pub(crate) fn check_content_refs(
    ctx: &SourceCtx<'_>,
    ts: &TaskSequence,
    ids: &[String],
    ts_value: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) {
    // Sets and one index of the TOML's strings: a task sequence of 100,000 references
    // took minutes with a scan of the ids and of the TOML per reference.
    let known: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut reported: HashSet<&str> = HashSet::new();
    let refs = referenced_content(ts);
    // Built at the first unknown reference (most scenarios have none).
    let mut strings: Option<HashMap<&str, (Range<usize>, String)>> = None;
    let defined = if ids.is_empty() {
        "no [[content]] is defined".to_string()
    } else {
        let more = ids.len().saturating_sub(LISTED_NAMES);
        let shown: Vec<&str> = ids.iter().take(LISTED_NAMES).map(String::as_str).collect();
        match more {
            0 => format!("defined ids: {}", shown.join(", ")),
            _ => format!("defined ids: {} and {more} more", shown.join(", ")),
        }
    };
    for (id, step) in &refs {
        // An empty id is a package the export chooses through a variable at run time.
        if id.is_empty() || known.contains(id.as_str()) || !reported.insert(id) {
            continue;
        }
        let strings = strings.get_or_insert_with(|| {
            let mut index = HashMap::new();
            if let Some(v) = ts_value {
                index_strings(v, "task_sequence", &mut index);
            }
            index
        });
        let (span, key) = match (strings.get(id.as_str()), ts_value) {
            (Some(found), _) => found.clone(),
            (None, Some(v)) => locate_table(v),
            (None, None) => (0..0, "task_sequence".to_string()),
        };
        errors.push(ctx.diag(
            span,
            &key,
            format!(
                "step {step:?} references content {id:?}, which is not in [[content]] ({defined})"
            ),
        ));
    }
}

/// Where to report a reference to an id no string of the `[task_sequence]` TOML holds
/// (one from a template or an export): the `template`/`xml` value, else the table.
fn locate_table(v: &Spanned<DeValue<'_>>) -> (Range<usize>, String) {
    if let DeValue::Table(t) = v.get_ref() {
        for k in ["xml", "template"] {
            if let Some(x) = value::get(t, k) {
                return (x.span(), format!("task_sequence.{k}"));
            }
        }
    }
    (v.span(), "task_sequence".to_string())
}

/// Indexes every string value inside the `[task_sequence]` TOML by its text, keeping
/// the earliest in the file: the best place to report a reference to that id.
fn index_strings<'v>(
    v: &'v Spanned<DeValue<'_>>,
    path: &str,
    out: &mut HashMap<&'v str, (Range<usize>, String)>,
) {
    match v.get_ref() {
        DeValue::String(s) => {
            let earlier = out
                .get(s.as_ref())
                .is_some_and(|(b, _)| b.start <= v.span().start);
            if !earlier {
                out.insert(s.as_ref(), (v.span(), path.to_string()));
            }
        }
        DeValue::Table(t) => {
            for (k, x) in t.iter() {
                index_strings(x, &value::join(path, k.get_ref()), out);
            }
        }
        DeValue::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                index_strings(x, &format!("{path}.{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testutil::doc_errors;
    use crate::tasksequence::tree::UpgradeOs;

    fn tree() -> TaskSequence {
        let upgrade = Node::new(
            "Upgrade",
            StepKind::UpgradeOs(UpgradeOs {
                content: vec!["OS-X64".into(), "OS-X86".into()],
                ..UpgradeOs::default()
            }),
        );
        let apps = Node::new(
            "Apps",
            StepKind::InstallApplications {
                applications: vec!["APP1".into()],
                continue_on_error_per_app: false,
            },
        );
        let dl = Node::new(
            "Download",
            StepKind::Download {
                content: vec!["DRV".into(), "OS-X64".into()],
                variable: None,
            },
        );
        TaskSequence {
            name: "t".into(),
            variables: Vec::new(),
            steps: vec![
                dl,
                Node::new(
                    "Group",
                    StepKind::Group {
                        steps: vec![upgrade, apps],
                    },
                ),
            ],
        }
    }

    #[test]
    fn collects_references_through_groups_in_order() {
        let ids: Vec<String> = referenced_content(&tree())
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        assert_eq!(ids, ["DRV", "OS-X64", "OS-X64", "OS-X86", "APP1"]);
    }

    #[test]
    fn unknown_ids_are_located_in_the_inline_toml() {
        let text = "[task_sequence]\nname = \"t\"\n[[task_sequence.steps]]\ntype = \"download\"\n\
                    content = [\"DRV\", \"OS-X64\"]\n";
        let ids = vec!["OS-X64".to_string(), "OS-X86".to_string()];
        let errors = doc_errors(text, |ctx, doc, errors| {
            check_content_refs(ctx, &tree(), &ids, value::get(doc, "task_sequence"), errors);
        });
        // DRV is found in the TOML; APP1 is not, so it falls back to the table header.
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (5, 12));
        assert_eq!(errors[0].key, "task_sequence.steps.0.content.0");
        assert!(errors[0].message.contains("\"DRV\""));
        assert_eq!(
            (errors[1].line, errors[1].key.as_str()),
            (1, "task_sequence")
        );
        assert!(errors[1].message.contains("\"APP1\""));
    }

    #[test]
    fn template_references_point_at_the_template() {
        let text = "# c\n[task_sequence]\ntemplate = \"x\"\n";
        let errors = doc_errors(text, |ctx, doc, errors| {
            check_content_refs(ctx, &tree(), &[], value::get(doc, "task_sequence"), errors);
        });
        assert_eq!(errors.len(), 4);
        assert!(
            errors
                .iter()
                .all(|d| d.line == 3 && d.key == "task_sequence.template")
        );
        assert!(errors[0].message.contains("no [[content]] is defined"));
    }

    #[test]
    fn forms_are_exclusive_and_required() {
        for (text, line, needle) in [
            (
                "[task_sequence]\nname = \"t\"\n",
                1,
                "no task sequence given",
            ),
            (
                "[task_sequence]\ntemplate = \"a\"\nxml = \"b.xml\"\n",
                3,
                "both given",
            ),
            (
                "[task_sequence]\ntemplate = \"no-such-template\"\n",
                2,
                "unknown template",
            ),
            ("name = \"x\"\n", 1, "missing [task_sequence]"),
            ("task_sequence = \"win10\"\n", 1, "expected a table"),
        ] {
            let errors = doc_errors(text, |ctx, doc, errors| {
                read_task_sequence(ctx, value::get(doc, "task_sequence"), errors);
            });
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert_eq!(errors[0].line, line, "{text}");
            assert!(errors[0].message.contains(needle), "{text}: {errors:?}");
        }
    }
}
