//! XML import: the three real exports, the console's object.xml wrapper, and the
//! malformed files of `tests/data/xml/bad/`.

use super::*;
use crate::tasksequence::tree::{Condition, Node, StepKind, VarOp};
use crate::tasksequence::{print, xml};

/// Names of every group, step and sub task sequence of an export, in document order,
/// read with roxmltree directly (independently of the importer).
fn xml_names(text: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(text).expect("example parses");
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("group") || n.has_tag_name("step") || n.has_tag_name("subtasksequence")
        })
        .map(|n| n.attribute("name").unwrap_or_default().to_string())
        .collect()
}

fn count(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| {
            1 + match &n.kind {
                StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. } => count(steps),
                _ => 0,
            }
        })
        .sum()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(example(name)).expect("example readable")
}

#[test]
fn examples_import_and_show_every_name_in_order() {
    for e in EXAMPLES {
        let text = read(e);
        let ts = xml::import_file(&example(e)).unwrap_or_else(|err| panic!("{e}: {err}"));
        let names = xml_names(&text);
        assert_eq!(count(&ts.steps), names.len(), "{e}: node count");
        let shown = print::show(&ts);
        // One line per node, after the title (and the variables line, if any).
        let header = 1 + usize::from(!ts.variables.is_empty());
        let lines: Vec<&str> = shown.lines().skip(header).collect();
        assert_eq!(lines.len(), names.len(), "{e}: show lines\n{shown}");
        for (line, name) in lines.iter().zip(&names) {
            assert!(
                line.contains(&format!("\"{name}\"")),
                "{e}: line {line:?} should name {name:?}"
            );
        }
    }
}

#[test]
fn examples_round_trip_through_toml() {
    for e in EXAMPLES {
        let ts = xml::import_file(&example(e)).expect("imports");
        let toml = inline::to_toml(&ts);
        let back = parse_inline(&toml).unwrap_or_else(|d| panic!("{e}: {d:?}\n{toml}"));
        assert_eq!(back, ts, "{e}");
    }
}

#[test]
fn default_template_maps_the_wizard_steps() {
    let ts = xml::import_file(&example(EXAMPLES[0])).expect("imports");
    assert_eq!(ts.name, "upgrade-os-default-template");
    let prepare = &ts.steps[0];
    let StepKind::Group { steps } = &prepare.kind else {
        panic!("group expected")
    };
    let StepKind::CheckReadiness(c) = &steps[0].kind else {
        panic!("check readiness expected")
    };
    assert_eq!(c.free_disk_mb, Some(25600));
    assert_eq!(c.memory_mb, Some(2048));
    assert_eq!(c.processor_mhz, Some(1024));
    assert_eq!(c.os_type.as_deref(), Some("CLIENT"));
    assert!(!c.require_ac && !c.require_wired && c.os_architecture.is_none());
    assert_eq!(steps[0].success_codes, vec![0]);
    let StepKind::Group { steps: upgrade } = &ts.steps[1].kind else {
        panic!("group expected")
    };
    let StepKind::UpgradeOs(u) = &upgrade[0].kind else {
        panic!("upgrade expected")
    };
    assert_eq!(u.content, vec!["OPC005ED".to_string()]);
    assert!(!u.scan_only && !u.ignore_dismissable);
    assert_eq!(u.edition_index, 1);
    assert_eq!(u.product_key, None);
    assert_eq!(u.dynamic_update.as_deref(), Some("Disable"));
    assert!(matches!(
        upgrade[1].kind,
        StepKind::Restart { duration: None }
    ));
    // Run Actions on Failure: the lower-case operator of the real export.
    assert_eq!(
        ts.steps[4].condition,
        Some(Condition::Variable {
            variable: "_SMSTSOSUpgradeActionReturnCode".into(),
            op: VarOp::NotEquals,
            value: "0".into()
        })
    );
}

#[test]
fn citrix_example_keeps_operators_and_success_codes() {
    let ts = xml::import_file(&example(EXAMPLES[1])).expect("imports");
    let StepKind::Group { steps } = &ts.steps[1].kind else {
        panic!("group expected")
    };
    assert_eq!(steps[1].retry_count, 2);
    let exit3 = &steps[2];
    assert!(matches!(&exit3.condition, Some(Condition::All(v)) if v.len() == 1));
    let StepKind::Group { steps: inner } = &exit3.kind else {
        panic!("group expected")
    };
    assert_eq!(inner[1].success_codes, vec![0, 3010, 3, 8, 4]);
    let last = steps.last().expect("Exit 0 or 8");
    assert!(matches!(&last.condition, Some(Condition::Any(v)) if v.len() == 2));
    let StepKind::Group { steps: exit3b } = &steps[3].kind else {
        panic!("group expected")
    };
    assert!(matches!(
        &exit3b[1].kind,
        StepKind::Run { powershell: true, output_variable: Some(v), .. } if v == "XenSetupCatalog"
    ));
}

#[test]
fn all_step_types_maps_known_types_and_keeps_the_rest() {
    let ts = xml::import_file(&example(EXAMPLES[2])).expect("imports");
    assert_eq!(ts.variables.len(), 4);
    assert_eq!(
        ts.variables[0],
        ("OSDStateSMPRetryCount".into(), "3".into())
    );
    let all = flatten(&ts.steps);
    let find = |name: &str| all.iter().find(|n| n.name == name).copied().expect(name);
    assert!(matches!(
        &find("Download Package Content").kind,
        StepKind::Download { content, variable: None } if content == &["RSC002A2".to_string()]
    ));
    assert!(matches!(
        &find("Install Default Applications").kind,
        StepKind::SubTaskSequence { package, steps } if package == "RSC00237" && steps.is_empty()
    ));
    assert!(matches!(
        &find("Set Task Sequence Variable").kind,
        StepKind::SetVariable { variable, value } if variable == "s" && value == "s"
    ));
    let StepKind::SetDynamicVariables { rules } = &find("Set Dynamic Variables").kind else {
        panic!("dynamic variables expected")
    };
    assert_eq!(rules.len(), 1);
    assert!(matches!(
        &rules[0].0,
        Some(Condition::Expression { expr_type, properties })
            if expr_type == "SMS_TaskSequence_ComputerConditionExpression" && properties[0] == ("AssetTag".into(), "s".into())
    ));
    assert_eq!(rules[0].1, vec![("s".to_string(), String::new())]);
    let runbook = find("Execute Runbook");
    assert!(runbook.disabled);
    assert!(matches!(
        &runbook.kind,
        StepKind::Timed { step_type, properties, .. } if step_type == "BDD_ExecuteRunbook" && properties.len() == 5
    ));
    assert!(matches!(
        &find("Install Software Updates").kind,
        StepKind::InstallUpdates {
            mode: crate::domain::UpdatesMode::Required
        }
    ));
    let timed = all
        .iter()
        .filter(|n| matches!(n.kind, StepKind::Timed { .. }))
        .count();
    assert!(timed >= 30, "{timed} timed steps");
}

fn flatten(nodes: &[Node]) -> Vec<&Node> {
    let mut out = Vec::new();
    for n in nodes {
        out.push(n);
        if let StepKind::Group { steps } | StepKind::SubTaskSequence { steps, .. } = &n.kind {
            out.extend(flatten(steps));
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn wrap(sequence: &str, cdata: bool) -> String {
    let value = if cdata {
        format!("<![CDATA[{sequence}]]>")
    } else {
        escape(sequence)
    };
    format!(
        "<INSTANCE CLASSNAME=\"SMS_TaskSequencePackage\">\n  <PROPERTY NAME=\"Name\" CLASSORIGIN=\"SMS_PackageBaseclass\" TYPE=\"string\">\n    <VALUE>Upgrade to Windows 10</VALUE>\n  </PROPERTY>\n  <PROPERTY NAME=\"Sequence\" CLASSORIGIN=\"SMS_TaskSequencePackage\" TYPE=\"string\">\n    <QUALIFIER NAME=\"CIMTYPE\" TYPE=\"string\"><VALUE>string</VALUE></QUALIFIER>\n    <VALUE>{value}</VALUE>\n  </PROPERTY>\n</INSTANCE>\n"
    )
}

#[test]
fn console_export_wrapper_with_cdata_or_escaped_sequence() {
    for e in EXAMPLES {
        let text = read(e);
        let bare = xml::import_str(&text, Path::new(e)).expect("bare imports");
        for cdata in [true, false] {
            let wrapped = xml::import_str(&wrap(&text, cdata), Path::new("object.xml"))
                .unwrap_or_else(|err| panic!("{e} cdata={cdata}: {err}"));
            assert_eq!(wrapped.name, "Upgrade to Windows 10");
            assert_eq!(wrapped.steps, bare.steps, "{e} cdata={cdata}");
            assert_eq!(wrapped.variables, bare.variables);
        }
    }
}

#[test]
fn errors_inside_a_cdata_sequence_point_into_the_file() {
    let seq = "<sequence version=\"3.10\">\n<group name=\"a\">\n<step type=\"SMS_TaskSequence_RebootAction\"/>\n</group>\n</sequence>";
    let text = wrap(seq, true);
    let err = xml::import_str(&text, Path::new("object.xml")).expect_err("step without name");
    let d = &err.0[0];
    let step_line = text
        .lines()
        .position(|l| l.starts_with("<step"))
        .expect("line")
        + 1;
    assert_eq!((d.line, d.column), (step_line, 1), "{d}");
    assert!(d.message.contains("no `name`"), "{d}");
    // Escaped: the VALUE element's position, and the inner position in the message.
    let text = wrap(seq, false);
    let err = xml::import_str(&text, Path::new("object.xml")).expect_err("step without name");
    let d = &err.0[0];
    let value_line = text
        .lines()
        .position(|l| l.trim_start().starts_with("<VALUE>&lt;"))
        .expect("line")
        + 1;
    assert_eq!(d.line, value_line, "{d}");
    assert!(
        d.message.contains("line 3, column 1 of the embedded XML"),
        "{d}"
    );
}

#[test]
fn utf16_and_bom_exports_import() {
    let text = read(EXAMPLES[0]);
    let bare = xml::import_str(&text, Path::new("t.xml")).expect("imports");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend(text.as_bytes());
    for (name, bytes) in [("le.xml", le), ("be.xml", be), ("bom.xml", bom)] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        let ts = xml::import_file(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ts.steps, bare.steps, "{name}");
    }
}

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xml/bad")
}

#[test]
fn every_malformed_file_is_an_error_with_a_line() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(bad_dir())
        .expect("bad folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{} files", files.len());
    for f in files {
        let err = xml::import_file(&f).expect_err(&f.display().to_string());
        assert!(!err.0.is_empty());
        for d in &err.0 {
            assert!(d.line >= 1 && d.column >= 1, "{}: {d}", f.display());
            assert_eq!(d.file, f);
        }
    }
}

#[test]
fn malformed_files_say_what_is_wrong() {
    let cases = [
        ("unknown-operator-type.xml", "unknown operator type \"xor\""),
        (
            "unknown-variable-operator.xml",
            "unknown operator \"approximately\"",
        ),
        ("deep-group-nesting.xml", "nested deeper than 64"),
        ("deep-condition-nesting.xml", "nested deeper than 32"),
        ("invalid-utf8.xml", "invalid UTF-8"),
        ("missing-group-name.xml", "no `name` attribute"),
        ("wrong-root.xml", "found <tasksequence>"),
        ("wrapper-without-sequence.xml", "no Sequence property"),
        ("dtd-entities.xml", "malformed XML"),
    ];
    for (file, text) in cases {
        let err = xml::import_file(&bad_dir().join(file)).expect_err(file);
        let all = err.to_string();
        assert!(all.contains(text), "{file}: {all}");
    }
    let err = xml::import_file(&bad_dir().join("invalid-utf8.xml")).expect_err("utf8");
    assert_eq!((err.0[0].line, err.0[0].column), (2, 19));
    let err = xml::import_file(&bad_dir().join("unknown-operator-type.xml")).expect_err("op");
    assert_eq!(err.0[0].line, 4);
    assert_eq!(err.0[0].key, "sequence/group[g]/condition/operator");
}

#[test]
fn deep_nesting_within_the_cap_imports_and_round_trips() {
    let depth = xml::MAX_DEPTH;
    let text = format!(
        "<sequence>{}{}</sequence>",
        "<group name=\"g\">".repeat(depth),
        "</group>".repeat(depth)
    );
    let ts = xml::import_str(&text, Path::new("deep.xml")).expect("the cap is accepted");
    assert_eq!(count(&ts.steps), depth);
    let toml = inline::to_toml(&ts);
    assert_eq!(parse_inline(&toml).expect("parses"), ts);
}

#[test]
fn deep_conditions_within_the_cap_import_and_round_trip() {
    let depth = xml::MAX_CONDITION_DEPTH;
    let expr = "<expression type=\"SMS_TaskSequence_VariableConditionExpression\"><variable name=\"Operator\">exists</variable><variable name=\"Variable\">X</variable></expression>";
    let text = format!(
        "<sequence><group name=\"g\"><condition>{}{expr}{}</condition></group></sequence>",
        "<operator type=\"or\">".repeat(depth),
        "</operator>".repeat(depth)
    );
    let ts = xml::import_str(&text, Path::new("deep.xml")).expect("the cap is accepted");
    let toml = inline::to_toml(&ts);
    assert_eq!(parse_inline(&toml).expect("parses"), ts);
    let deeper = text
        .replacen("<condition>", "<condition><operator type=\"and\">", 1)
        .replacen("</condition>", "</operator></condition>", 1);
    let err = xml::import_str(&deeper, Path::new("deep.xml")).expect_err("one level too deep");
    assert!(err.to_string().contains("nested deeper than 32"), "{err}");
}

#[test]
fn repeated_names_import_and_round_trip() {
    let text = r#"<sequence>
  <globalVarList><variable name="A">1</variable><variable name="B">2</variable><variable name="A">3</variable></globalVarList>
  <group name="g">
    <condition><expression type="SMS_TaskSequence_MakeModelConditionExpression"><variable name="Model">X</variable><variable name="Model">Y</variable></expression></condition>
    <step type="Custom_Step" name="c"><defaultVarList><variable name="P" property="P">1</variable><variable name="P" property="P">2</variable></defaultVarList></step>
  </group>
</sequence>"#;
    let ts = xml::import_str(text, Path::new("dup.xml")).expect("imports");
    assert_eq!(
        ts.variables,
        vec![
            ("A".to_string(), "3".to_string()),
            ("B".to_string(), "2".to_string())
        ]
    );
    assert!(
        matches!(&ts.steps[0].condition, Some(Condition::Expression { properties, .. }) if properties == &[("Model".to_string(), "X".to_string())])
    );
    let toml = inline::to_toml(&ts);
    assert_eq!(parse_inline(&toml).expect("parses"), ts);
}

/// Exported Check Readiness steps carry the 2010 check as property `CheckDeviceUEFI`
/// (variable `OSDCheckDeviceUEFI`, from the SDK class page) and the 2111 checks
/// under the documented cmdlet names `CheckTpmEnabled` and `CheckTpmActivated`.
#[test]
fn check_readiness_reads_the_uefi_and_tpm_checks_of_an_export() {
    let xml = r#"<sequence version="3.10"><step type="SMS_TaskSequence_PrestartCheckAction" name="CR"><action>OSDPrestartCheck.exe</action><defaultVarList>
<variable name="OSDCheckDeviceUEFI" property="CheckDeviceUEFI">true</variable>
<variable name="OSDCheckDeviceTpmActivated" property="CheckTpmActivated">true</variable>
<variable name="OSDCheckDeviceTpmEnabled" property="CheckTpmEnabled">false</variable>
</defaultVarList></step></sequence>"#;
    let ts =
        crate::tasksequence::xml::import_str(xml, std::path::Path::new("t.xml")).expect("imports");
    let crate::tasksequence::tree::StepKind::CheckReadiness(c) = &ts.steps[0].kind else {
        panic!("a Check Readiness step")
    };
    assert!(c.uefi && c.tpm_activated && !c.tpm_enabled);
    // and they survive the inline form both ways
    let text = crate::tasksequence::print::to_toml(&ts);
    assert!(
        text.contains("uefi = true") && text.contains("tpm_activated = true"),
        "{text}"
    );
}
