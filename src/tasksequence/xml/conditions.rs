//! `<condition>` trees: `<expression type="SMS_TaskSequence_...ConditionExpression">`
//! with `<variable name="...">` values, `<operator type="and|or|not">` and
//! `<osConditionGroup>`/`<osExpressionGroup>` nesting, capped at
//! [`MAX_CONDITION_DEPTH`] levels.

use roxmltree::Node as XNode;

use super::{MAX_CONDITION_DEPTH, Src, first_of_each};
use crate::diag::Diagnostic;
use crate::tasksequence::tree::{Condition, VarOp};

/// A `<condition>`: its operands are combined with AND (as the editor shows them);
/// an empty condition is no condition.
pub(super) fn condition(
    src: Src<'_>,
    el: XNode<'_, '_>,
    path: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Condition> {
    let key = format!("{path}/condition");
    let mut items: Vec<Condition> = el
        .children()
        .filter(XNode::is_element)
        .filter_map(|c| operand(src, c, &key, 0, errors))
        .collect();
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Condition::All(items)),
    }
}

/// The `<variable name="...">` values of an expression, in order.
fn expr_vars<'a>(el: XNode<'a, '_>) -> Vec<(&'a str, &'a str)> {
    el.children()
        .filter(|n| n.has_tag_name("variable"))
        .map(|v| {
            (
                v.attribute("name").unwrap_or_default(),
                v.text().unwrap_or_default(),
            )
        })
        .collect()
}

fn operand(
    src: Src<'_>,
    el: XNode<'_, '_>,
    path: &str,
    depth: usize,
    errors: &mut Vec<Diagnostic>,
) -> Option<Condition> {
    let tag = el.tag_name().name();
    let key = format!("{path}/{tag}");
    if depth > MAX_CONDITION_DEPTH {
        errors.push(src.diag(
            el,
            &key,
            format!("condition nested deeper than {MAX_CONDITION_DEPTH} levels"),
        ));
        return None;
    }
    let children = |errors: &mut Vec<Diagnostic>| -> Vec<Condition> {
        el.children()
            .filter(XNode::is_element)
            .filter_map(|c| operand(src, c, &key, depth + 1, errors))
            .collect()
    };
    match tag {
        "operator" | "osConditionGroup" => {
            let ty = el.attribute("type").unwrap_or_default();
            if ty.eq_ignore_ascii_case("and") {
                Some(Condition::All(children(errors)))
            } else if ty.eq_ignore_ascii_case("or") {
                Some(Condition::Any(children(errors)))
            } else if ty.eq_ignore_ascii_case("not") {
                Some(Condition::None(children(errors)))
            } else {
                errors.push(src.diag(
                    el,
                    &key,
                    format!("unknown operator type {ty:?}, expected and, or or not"),
                ));
                None
            }
        }
        // One OS platform: all its WMI tests must hold.
        "osExpressionGroup" => Some(Condition::All(children(errors))),
        "expression" => expression(src, el, &key, errors),
        other => {
            errors.push(src.diag(
                el,
                &key,
                format!("unexpected element <{other}> in a condition, expected <expression>, <operator> or <osConditionGroup>"),
            ));
            None
        }
    }
}

fn expression(
    src: Src<'_>,
    el: XNode<'_, '_>,
    key: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Condition> {
    let Some(ty) = el.attribute("type") else {
        errors.push(src.diag(el, key, "<expression> has no `type` attribute"));
        return None;
    };
    let vars = expr_vars(el);
    let get = |name: &str| {
        vars.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, v)| v.to_string())
    };
    let op = |errors: &mut Vec<Diagnostic>| -> Option<VarOp> {
        let text = get("Operator").unwrap_or_default();
        let op = VarOp::parse(&text);
        if op.is_none() {
            errors.push(src.diag(el, key, format!("unknown operator {text:?}, expected one of: exists, notExists, equals, notEquals, less, lessEqual, greater, greaterEqual, like")));
        }
        op
    };
    let short = ty.strip_prefix("SMS_TaskSequence_").unwrap_or(ty);
    Some(match short {
        "VariableConditionExpression" => {
            let Some(variable) = get("Variable").filter(|v| !v.is_empty()) else {
                errors.push(src.diag(
                    el,
                    key,
                    "variable condition names no variable (<variable name=\"Variable\">)",
                ));
                return None;
            };
            Condition::Variable {
                variable,
                op: op(errors)?,
                value: get("Value").unwrap_or_default(),
            }
        }
        "WMIConditionExpression" => Condition::Wql {
            query: get("Query").unwrap_or_default(),
            namespace: get("Namespace").filter(|n| !n.is_empty()),
        },
        "FileConditionExpression" => Condition::File {
            path: get("Path").unwrap_or_default(),
        },
        "FolderConditionExpression" => Condition::Folder {
            path: get("Path").unwrap_or_default(),
        },
        "RegistryConditionExpression" => Condition::Registry {
            key: get("KeyPath").unwrap_or_default(),
            value_name: get("Value").unwrap_or_default(),
            op: op(errors)?,
            data: get("Data").unwrap_or_default(),
        },
        "SoftwareConditionExpression" => Condition::Software {
            product: get("ProductCode")
                .filter(|p| !p.is_empty())
                .or_else(|| get("ProductName"))
                .unwrap_or_default(),
        },
        _ => Condition::Expression {
            expr_type: ty.to_string(),
            // A repeated name keeps its first value, so the TOML form can print it.
            properties: first_of_each(vars.iter().copied()),
        },
    })
}
