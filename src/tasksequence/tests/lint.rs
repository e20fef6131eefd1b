//! `validate`'s checks.

use super::*;
use crate::tasksequence::lint::{Severity, is_product_key, lint};
use crate::tasksequence::tree::{Condition, Node, StepKind, UpgradeOs, VarOp};
use crate::tasksequence::xml;

fn upgrade(key: Option<&str>, content: &[&str]) -> Node {
    Node::new(
        "Upgrade Operating System",
        StepKind::UpgradeOs(UpgradeOs {
            content: content.iter().map(|s| s.to_string()).collect(),
            product_key: key.map(str::to_string),
            edition_index: 1,
            ..UpgradeOs::default()
        }),
    )
}

fn in_group(children: Vec<Node>) -> TaskSequence {
    TaskSequence {
        name: "t".into(),
        variables: vec![],
        steps: vec![Node::new("Upgrade", StepKind::Group { steps: children })],
    }
}

#[test]
fn product_keys() {
    assert!(is_product_key("ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"));
    assert!(is_product_key("NPPR9-FWDCX-D2C8J-H872K-2YT43"));
    assert!(!is_product_key("ABCDE-FGHIJ-KLMNO-PQRST"));
    assert!(!is_product_key("ABCDEF-GHIJ-KLMNO-PQRST-UVWXY"));
    assert!(!is_product_key("ABCDEFGHIJKLMNOPQRSTUVWXY"));
    assert!(!is_product_key("ABCDE-FGHIJ-KLMNO-PQRST-UVWX!"));
    let items = lint(
        &in_group(vec![upgrade(Some("ABCDE-FGHIJ"), &["OS"])]),
        &["OS"],
    );
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].severity, Severity::Error);
    assert_eq!(items[0].name, "Upgrade Operating System");
    assert_eq!(items[0].path, "Upgrade / Upgrade Operating System");
    assert!(items[0].message.contains("ABCDE-FGHIJ"));
    assert!(
        lint(
            &in_group(vec![upgrade(
                Some("ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"),
                &["OS"]
            )]),
            &["OS"]
        )
        .is_empty()
    );
    assert!(lint(&in_group(vec![upgrade(None, &["OS"])]), &["OS"]).is_empty());
}

#[test]
fn content_not_in_the_scenario() {
    let mut dl = Node::new(
        "Download",
        StepKind::Download {
            content: vec!["DRV-1".into(), "DRV-2".into(), "%DriverPackage%".into()],
            variable: None,
        },
    );
    dl.disabled = true;
    let items = lint(
        &in_group(vec![dl, upgrade(None, &["OS-X64", "OS-X86"])]),
        &["DRV-1", "OS-X64"],
    );
    let errors: Vec<&str> = items
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.message.as_str())
        .collect();
    assert_eq!(errors.len(), 2, "{items:?}");
    assert!(errors[0].contains("\"DRV-2\""));
    assert!(errors[1].contains("\"OS-X86\""));
    let notes: Vec<&str> = items
        .iter()
        .filter(|i| i.severity == Severity::Note)
        .map(|i| i.message.as_str())
        .collect();
    assert!(notes.iter().any(|n| n.starts_with("disabled")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("%DriverPackage%")),
        "{notes:?}"
    );
}

#[test]
fn conditions_that_do_not_compile_or_never_hold() {
    let mut bad = Node::new("Bad WQL", StepKind::Restart { duration: None });
    bad.condition = Some(Condition::All(vec![Condition::Wql {
        query: "SELECT * FROM".into(),
        namespace: None,
    }]));
    let mut typo = Node::new("Typo", StepKind::Restart { duration: None });
    typo.condition = Some(Condition::Wql {
        query: "SELECT * FROM Win32_OperatingSystem WHERE OSArch = '64-bit'".into(),
        namespace: None,
    });
    let mut version = Node::new("Version", StepKind::Restart { duration: None });
    version.condition = Some(Condition::OsVersion {
        op: VarOp::Less,
        version: "ten".into(),
    });
    let items = lint(&in_group(vec![bad, typo, version]), &[]);
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0].severity, Severity::Error);
    assert!(items[0].message.contains("position 14"), "{}", items[0]);
    assert_eq!(items[1].severity, Severity::Note);
    assert!(items[1].message.contains("OSArch"));
    assert_eq!(items[2].severity, Severity::Error);
    assert!(
        items[2]
            .to_string()
            .starts_with("error: step \"Upgrade / Version\"")
    );
}

#[test]
fn all_step_types_example_lists_every_timed_step() {
    let ts = xml::import_file(&example("all-step-types.xml")).expect("imports");
    let ids = [
        "RSC002A2", "RSC001A4", "RSC001B7", "RSC00150", "RSC00254", "RSC0022E", "RSC00242",
        "RSC0017C",
    ];
    let items = lint(&ts, &ids);
    let timed: Vec<_> = items
        .iter()
        .filter(|i| i.message.starts_with("timed only"))
        .collect();
    // Every step of a type the simulator does not model, plus the sub task sequence.
    let modelled = [
        "RunCommandLineAction",
        "RunPowerShellScriptAction",
        "SetDynamicVariablesAction",
        "RebootAction",
        "SetVariableAction",
        "PrestartCheckAction",
        "InstallApplicationAction",
        "InstallSoftwareAction",
        "InstallUpdateAction",
        "DownloadPackageContentAction",
        "UpgradeOperatingSystemAction",
    ];
    let text = std::fs::read_to_string(example("all-step-types.xml")).expect("read");
    let doc = roxmltree::Document::parse(&text).expect("parses");
    let unmodelled = doc
        .descendants()
        .filter(|n| n.has_tag_name("step"))
        .filter(|n| {
            !modelled
                .iter()
                .any(|m| n.attribute("type").unwrap_or_default().ends_with(m))
        })
        .count();
    assert_eq!(unmodelled, 38);
    assert_eq!(timed.len(), unmodelled + 1, "{timed:#?}");
    assert!(
        items
            .iter()
            .any(|i| i.name == "Execute Runbook" && i.message.starts_with("disabled"))
    );
    assert!(
        items.iter().any(|i| i.name == "Set Dynamic Variables"
            && i.message.contains("ComputerConditionExpression"))
    );
    assert!(
        items.iter().all(|i| i.severity == Severity::Note),
        "{items:#?}"
    );
    // Without the scenario's content the upgrade and download steps are errors.
    let errors = lint(&ts, &[])
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .count();
    assert_eq!(errors, 2);
}
