//! `[[content]]`: the packages the task sequence references, with their sizes.

use toml::Spanned;
use toml::de::DeValue;

use super::fields::{self, Section, table_array};
use super::fleet::{ARCHS, lcid};
use super::model::{Arch, Content, ContentKind, WindowsRelease};
use super::value::{self, SourceCtx};
use crate::diag::Diagnostic;

const CONTENT_KEYS: &[&str] = &[
    "id",
    "kind",
    "size",
    "architecture",
    "language",
    "os",
    "model",
];

const RELEASES: &[(&str, WindowsRelease)] = &[
    ("win10", WindowsRelease::Win10),
    ("win11", WindowsRelease::Win11),
];

const KINDS: &[(&str, ContentKind)] = &[
    ("os_upgrade", ContentKind::OsUpgrade),
    ("driver", ContentKind::Driver),
    ("application", ContentKind::Application),
    ("software_update", ContentKind::SoftwareUpdate),
    ("package", ContentKind::Package),
];

/// What `[[content]]` yields: the items, plus every id that was written (even on an
/// item with other errors) so that the task sequence check does not pile an
/// "unknown content" error on top of the real one.
pub(crate) struct ContentList {
    /// The valid items, in file order.
    pub items: Vec<Content>,
    /// Every id seen.
    pub ids: Vec<String>,
}

/// Reads `[[content]]` (absent means no content: a task sequence of run steps needs
/// none).
pub(crate) fn read_content(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> ContentList {
    let mut out = ContentList {
        items: Vec::new(),
        ids: Vec::new(),
    };
    let Some(v) = v else { return out };
    // Ids seen, to find duplicates without a scan per table.
    let mut seen = std::collections::HashSet::new();
    for t in table_array(ctx, "content", v, errors) {
        t.check_keys(CONTENT_KEYS, errors);
        let before = errors.len();
        let id = t.required("id", &value::string, errors);
        if let (Some(id), Some(idv)) = (&id, t.get("id")) {
            if id.is_empty() {
                errors.push(ctx.diag(idv.span(), &t.key("id"), "content id is empty"));
            } else if !seen.insert(id.clone()) {
                errors.push(ctx.diag(
                    idv.span(),
                    &t.key("id"),
                    format!("duplicate content id {id:?}: ids must be unique"),
                ));
            }
            out.ids.push(id.clone());
        }
        let kind = t.required("kind", &|c, k, v| fields::keyword(c, k, v, KINDS), errors);
        let size = t.required("size", &fields::size, errors);
        let architecture = t.opt(
            "architecture",
            &|c, k, v| fields::keyword(c, k, v, ARCHS),
            errors,
        );
        let language = t.opt("language", &language_id, errors);
        let os = t.or(
            "os",
            WindowsRelease::Win10,
            &|c, k, v| fields::keyword(c, k, v, RELEASES),
            errors,
        );
        let model = t.opt("model", &value::string, errors);
        if kind.is_some_and(|k| k != ContentKind::OsUpgrade) {
            os_only(&t, "architecture", errors);
            os_only(&t, "language", errors);
            os_only(&t, "os", errors);
        }
        if kind.is_some_and(|k| k != ContentKind::Driver)
            && let Some(v) = t.get("model")
        {
            errors.push(t.ctx.diag(
                v.span(),
                &t.key("model"),
                "`model` applies to kind = \"driver\" only (pre-cache takes a driver package for the clients of its model)",
            ));
        }
        if let (Some(v), Some("")) = (t.get("model"), model.as_deref()) {
            errors.push(t.ctx.diag(
                v.span(),
                &t.key("model"),
                "empty model, expected a hardware model name",
            ));
        }
        // There is no 32-bit Windows 11 (https://learn.microsoft.com/windows/whats-new/windows-11-requirements).
        if os == WindowsRelease::Win11
            && architecture == Some(Arch::X86)
            && let Some(v) = t.get("architecture")
        {
            errors.push(t.ctx.diag(
                v.span(),
                &t.key("architecture"),
                "there is no x86 Windows 11, expected architecture = \"x64\" for os = \"win11\"",
            ));
        }
        if let (Some(id), Some(kind), Some(size), true) = (id, kind, size, errors.len() == before) {
            out.items.push(Content {
                id,
                kind,
                size,
                architecture,
                language,
                os,
                model,
            });
        }
    }
    out
}

/// `template = "win11-inplace-upgrade"` upgrades to Windows 11: its Upgrade OS
/// steps list no package and take the scenario's OS package matching the client,
/// so every OS package must be a Windows 11 one (and there must be one).
pub(crate) fn check_win11_template(
    ctx: &SourceCtx<'_>,
    ts: Option<&Spanned<DeValue<'_>>>,
    content: &[Content],
    errors: &mut Vec<Diagnostic>,
) {
    let Some(DeValue::Table(t)) = ts.map(|v| v.get_ref()) else {
        return;
    };
    let Some(tv) = value::get(t, "template") else {
        return;
    };
    if !matches!(tv.get_ref(), DeValue::String(n) if n == crate::tasksequence::templates::WIN11) {
        return;
    }
    let os: Vec<&Content> = content
        .iter()
        .filter(|c| c.kind == ContentKind::OsUpgrade)
        .collect();
    let win10: Vec<&str> = os
        .iter()
        .filter(|c| c.os != WindowsRelease::Win11)
        .map(|c| c.id.as_str())
        .collect();
    let message = if os.is_empty() {
        "the Windows 11 template needs an OS upgrade package with os = \"win11\" in [[content]]"
            .to_string()
    } else if !win10.is_empty() {
        format!(
            "the Windows 11 template upgrades to Windows 11, but these OS upgrade packages \
             install Windows 10: {}; expected os = \"win11\" on each",
            win10.join(", ")
        )
    } else {
        return;
    };
    errors.push(ctx.diag(tv.span(), "task_sequence.template", message));
}

fn os_only(t: &Section<'_, '_>, name: &str, errors: &mut Vec<Diagnostic>) {
    if let Some(v) = t.get(name) {
        errors.push(t.ctx.diag(
            v.span(),
            &t.key(name),
            format!("`{name}` applies to kind = \"os_upgrade\" only (pre-cache picks the OS package by architecture and language)"),
        ));
    }
}

/// A decimal LCID written as an integer (`1033`) or a string of digits (`"1033"`).
fn language_id(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<u32, Diagnostic> {
    let found = match v.get_ref() {
        DeValue::String(s) => lcid(s),
        DeValue::Integer(_) => fields::integer(ctx, key, v)
            .ok()
            .and_then(|x| u32::try_from(x).ok()),
        _ => None,
    };
    found.ok_or_else(|| {
        ctx.diag(
            v.span(),
            key,
            format!(
                "found {}, expected a decimal LCID such as 1033",
                value::type_name(v.get_ref())
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Arch;
    use crate::scenario::testutil::doc_errors;

    fn read(text: &str) -> (Vec<Content>, Vec<Diagnostic>) {
        let mut items = Vec::new();
        let errors = doc_errors(text, |ctx, doc, errors| {
            items = read_content(ctx, value::get(doc, "content"), errors).items;
        });
        (items, errors)
    }

    #[test]
    fn reads_items_with_units() {
        let text = r#"
[[content]]
id = "OS"
kind = "os_upgrade"
size = "3.2GB"
architecture = "x86"
language = 1031
[[content]]
id = "APP"
kind = "application"
size = "800MiB"
"#;
        let (items, errors) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].size, 3_200_000_000);
        assert_eq!(items[0].architecture, Some(Arch::X86));
        assert_eq!(items[0].language, Some(1031));
        assert_eq!(items[1].kind, ContentKind::Application);
        assert_eq!(items[1].size, 800 * 1024 * 1024);
        assert_eq!(items[1].language, None);
    }

    #[test]
    fn each_problem_is_reported_at_its_line() {
        let text = r#"[[content]]
id = "A"
kind = "driver"
size = "-5MB"
language = 1033
[[content]]
id = "A"
kind = "firmware"
size = "1 parsec"
"#;
        let (items, errors) = read(text);
        assert!(items.is_empty());
        let got: Vec<(usize, &str)> = errors.iter().map(|d| (d.line, d.key.as_str())).collect();
        let mut got = got;
        got.sort();
        assert_eq!(
            got,
            [
                (4, "content.0.size"),
                (5, "content.0.language"),
                (7, "content.1.id"),
                (8, "content.1.kind"),
                (9, "content.1.size"),
            ]
        );
        assert!(errors.iter().any(|d| {
            d.message
                .contains("found \"-5MB\", expected a size that is not negative")
        }));
        assert!(
            errors
                .iter()
                .any(|d| d.message.contains("os_upgrade, driver"))
        );
    }
}
