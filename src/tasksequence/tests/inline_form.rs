//! The inline TOML form: reading every step type and condition, errors with line and
//! column, and printing back to the same tree.

use super::*;
use crate::domain::{Dist, UpdatesMode};
use crate::tasksequence::tree::{
    CheckReadiness, Condition, Node, RemoveWhat, StepKind, UpgradeOs, VarOp,
};

const FULL: &str = r#"
name = "ignored: not the task sequence"

[task_sequence]
template = "ignored by the reader"
name = "Upgrade"
variables = { OSDSetupAdditionalUpgradeOptions = "/ReflectDrivers", Retries = 5 }

[[task_sequence.steps]]
type = "group"
name = "Prepare"
condition = { any = [
  { variable = "_SMSTSSetupRollback", op = "NOTEQUALS", value = "true" },
  { none = [{ wql = "SELECT * FROM Win32_Battery WHERE BatteryStatus = 1", namespace = "root\\cimv2" }] },
] }

  [[task_sequence.steps.steps]]
  type = "check_readiness"
  free_disk = true
  memory = "2GiB"
  processor_mhz = 1024
  require_ac = true
  require_wired = true
  os_type = "CLIENT"
  os_language = 1033

  [[task_sequence.steps.steps]]
  type = "download"
  name = "Drivers"
  content = ["DRV-1", "DRV-2"]
  variable = "mycontent"
  retry_count = 2
  success_codes = [0, 0xC1900210]

[[task_sequence.steps]]
type = "run"
name = "Assessment result"
command = "cmd /c exit %_SMSTSOSUpgradeActionReturnCode%"
duration = { dist = "uniform", min = "10s", max = "2m" }
exit_codes = { "0" = 0.98, "0xC1900208" = 0.02 }
continue_on_error = true
disabled = true
condition = { variable = "_SMSTSOSUpgradeActionReturnCode", op = "notEquals", value = "3247440400" }

[[task_sequence.steps]]
type = "upgrade_os"
content = ["OSUPG-X64-1033", "OSUPG-X86-1033"]
scan_only = true
ignore_dismissable = true
additional_options = "/ReflectDrivers"
edition_index = 3
product_key = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"
dynamic_update = "Disable"
driver_content = ["DRV-1"]

[[task_sequence.steps]]
type = "set_dynamic_variables"
rules = [
  { condition = { os_version = "10.0", op = "less" }, variables = { A = "1" } },
  { variables = { B = "2" } },
]

[[task_sequence.steps]]
type = "remove"
what = "third_party_security"
condition = { all = [{ file = "C:\\x" }, { folder = "C:\\Windows" }, { software = "{GUID}" },
  { registry = "HKLM\\Software\\X", value_name = "V", op = "equals", data = "1" },
  { expression = "SMS_TaskSequence_ComputerConditionExpression", properties = { AssetTag = "A1" } }] }

[[task_sequence.steps]]
type = "install_updates"
mode = "all"

[[task_sequence.steps]]
type = "restart"
duration = "90s"

[[task_sequence.steps]]
type = "sub_task_sequence"
package = "RSC00237"

  [[task_sequence.steps.steps]]
  type = "install_applications"
  applications = ["APP-1"]
  continue_on_error_per_app = true

  [[task_sequence.steps.steps]]
  type = "install_package"
  package = "PKG-1"
  program = "Install"

[[task_sequence.steps]]
type = "timed"
step_type = "SMS_TaskSequence_PartitionDiskAction"
duration = { dist = "lognormal", median = "5m", sigma = 0.5 }
properties = { DiskIndex = "0", "Odd key" = "x" }

[[task_sequence.steps]]
type = "powershell"
set_variable_is_not_a_key = false
"#;

fn full() -> TaskSequence {
    let text = FULL.replace(
        "set_variable_is_not_a_key = false\n",
        "output_variable = \"Out\"\n",
    );
    parse_inline(&text).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn reads_every_step_type_and_condition() {
    let ts = full();
    assert_eq!(ts.name, "Upgrade");
    assert_eq!(
        ts.variables,
        vec![
            (
                "OSDSetupAdditionalUpgradeOptions".to_string(),
                "/ReflectDrivers".to_string()
            ),
            ("Retries".to_string(), "5".to_string())
        ]
    );
    let prepare = &ts.steps[0];
    assert!(matches!(&prepare.condition, Some(Condition::Any(v)) if v.len() == 2));
    let StepKind::Group { steps } = &prepare.kind else {
        panic!("group")
    };
    assert_eq!(
        steps[0].name, "check_readiness",
        "name defaults to the type"
    );
    assert_eq!(
        steps[0].kind,
        StepKind::CheckReadiness(CheckReadiness {
            free_disk_mb: Some(0),
            memory_mb: Some(2147),
            processor_mhz: Some(1024),
            require_ac: true,
            require_wired: true,
            require_network: false,
            os_type: Some("CLIENT".into()),
            os_architecture: None,
            os_language: Some(1033),
            ..CheckReadiness::default()
        })
    );
    assert_eq!(steps[1].retry_count, 2);
    assert_eq!(steps[1].success_codes, vec![0, 3_247_440_400]);
    let run = &ts.steps[1];
    assert!(run.continue_on_error && run.disabled);
    assert_eq!(
        run.kind,
        StepKind::Run {
            command: Some("cmd /c exit %_SMSTSOSUpgradeActionReturnCode%".into()),
            powershell: false,
            package: None,
            duration: Some(Dist::Uniform {
                min: 10e6,
                max: 120e6
            }),
            exit_codes: vec![(0, 0.98), (3_247_440_392, 0.02)],
            output_variable: None,
        }
    );
    assert_eq!(
        ts.steps[2].kind,
        StepKind::UpgradeOs(UpgradeOs {
            content: vec!["OSUPG-X64-1033".into(), "OSUPG-X86-1033".into()],
            scan_only: true,
            ignore_dismissable: true,
            additional_options: Some("/ReflectDrivers".into()),
            edition_index: 3,
            product_key: Some("ABCDE-FGHIJ-KLMNO-PQRST-UVWXY".into()),
            dynamic_update: Some("Disable".into()),
            driver_content: vec!["DRV-1".into()],
        })
    );
    let StepKind::SetDynamicVariables { rules } = &ts.steps[3].kind else {
        panic!("rules")
    };
    assert_eq!(
        rules[0].0,
        Some(Condition::OsVersion {
            op: VarOp::Less,
            version: "10.0".into()
        })
    );
    assert_eq!(rules[1], (None, vec![("B".to_string(), "2".to_string())]));
    assert_eq!(
        ts.steps[4].kind,
        StepKind::Remove {
            what: RemoveWhat::ThirdPartySecurity
        }
    );
    assert!(matches!(&ts.steps[4].condition, Some(Condition::All(v)) if v.len() == 5));
    assert_eq!(
        ts.steps[5].kind,
        StepKind::InstallUpdates {
            mode: UpdatesMode::All
        }
    );
    assert_eq!(
        ts.steps[6].kind,
        StepKind::Restart {
            duration: Some(Dist::Fixed(90e6))
        }
    );
    assert!(
        matches!(&ts.steps[7].kind, StepKind::SubTaskSequence { steps, .. } if steps.len() == 2)
    );
    assert!(
        matches!(&ts.steps[8].kind, StepKind::Timed { properties, .. } if properties[1].0 == "Odd key")
    );
    assert!(
        matches!(&ts.steps[9].kind, StepKind::Run { powershell: true, output_variable: Some(o), .. } if o == "Out")
    );
}

#[test]
fn full_example_round_trips() {
    let ts = full();
    let text = inline::to_toml(&ts);
    assert_eq!(
        parse_inline(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}")),
        ts
    );
}

#[test]
fn awkward_values_round_trip() {
    let mut run = Node::new(
        "quotes \" back\\slash\nnew line\ttab \u{1} ünïcödé \u{7f}",
        StepKind::Run {
            command: Some(String::new()),
            powershell: true,
            package: Some("%PKG%".into()),
            duration: Some(Dist::Normal {
                mean: 1.5,
                sd: 0.1,
                min: Some(-3.0),
                max: Some(1e300),
            }),
            exit_codes: vec![(-1, 0.0), (i64::MAX, 1e-9), (3_247_440_392, 1.0)],
            output_variable: Some(String::new()),
        },
    );
    run.success_codes = vec![];
    run.retry_count = crate::tasksequence::tree::MAX_RETRY_COUNT;
    run.description = "'single' and \"double\"".into();
    let timed = Node::new(
        "",
        StepKind::Timed {
            step_type: "BDD_Gather".into(),
            duration: Some(Dist::Empirical {
                values: vec![0.0, 0.5, 59e6, 61e6, 3600e6, 86_400e6 * 7.0, 123_456.789],
            }),
            properties: vec![
                ("".into(), "empty key".into()),
                ("a.b".into(), "dotted".into()),
                ("with space".into(), "x".into()),
            ],
        },
    );
    let mut ts = TaskSequence {
        name: "[task_sequence]".into(),
        variables: vec![("has space".into(), "=".into())],
        steps: vec![
            run,
            timed,
            Node::new(
                "g",
                StepKind::Group {
                    steps: vec![Node::new(
                        "r",
                        StepKind::Restart {
                            duration: Some(Dist::Exponential { mean: 1.0 }),
                        },
                    )],
                },
            ),
            Node::new(
                "l",
                StepKind::Restart {
                    duration: Some(Dist::LogNormal {
                        median: 2.5e6,
                        sigma: f64::INFINITY,
                    }),
                },
            ),
        ],
    };
    ts.steps[2].condition = Some(Condition::None(vec![]));
    let text = inline::to_toml(&ts);
    assert!(text.contains("max = \"1e300us\""), "{text}");
    assert_eq!(
        parse_inline(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}")),
        ts
    );
}

fn first_error(text: &str) -> Diagnostic {
    parse_inline(text)
        .expect_err("should fail")
        .into_iter()
        .next()
        .expect("one diagnostic")
}

#[test]
fn errors_name_the_key_with_line_and_column() {
    let text = "[task_sequence]\n\n[[task_sequence.steps]]\ntype = \"run\"\ncomand = \"x\"\n";
    let d = first_error(text);
    assert_eq!((d.line, d.column), (5, 1));
    assert_eq!(d.key, "task_sequence.steps.0.comand");
    assert!(d.message.contains("unknown key"), "{d}");

    let text = "[task_sequence]\n[[task_sequence.steps]]\ntype = \"reboot\"\n";
    let d = first_error(text);
    assert_eq!(
        (d.line, d.column, d.key.as_str()),
        (3, 8, "task_sequence.steps.0.type")
    );
    assert!(d.message.contains("unknown step type \"reboot\""), "{d}");

    let text = "[task_sequence]\n[[task_sequence.steps]]\nname = \"no type\"\n";
    assert!(first_error(text).message.contains("missing key `type`"));

    let text = "[task_sequence]\n[[task_sequence.steps]]\ntype = \"group\"\ncondition = { variable = \"X\", op = \"approx\" }\n";
    let d = first_error(text);
    assert_eq!(d.key, "task_sequence.steps.0.condition.op");
    assert_eq!((d.line, d.column), (4, 36));
    assert!(d.message.contains("unknown operator \"approx\""), "{d}");
}

#[test]
fn every_error_is_collected() {
    let text = r#"
[task_sequence]
bogus = 1
[[task_sequence.steps]]
type = "run"
duration = "5 parsecs"
exit_codes = { "0" = -1, "x" = 1 }
retry_count = -1
[[task_sequence.steps]]
type = "check_readiness"
free_disk = 20480
memory = "fast"
[[task_sequence.steps]]
type = "install_updates"
mode = "some"
[[task_sequence.steps]]
type = "group"
disabled = "yes"
condition = { file = "x", folder = "y" }
[[task_sequence.steps]]
type = "set_variable"
[[task_sequence.steps]]
type = "group"
condition = { all = [{ }] }
"#;
    let errors = parse_inline(text).expect_err("many errors");
    let keys: Vec<&str> = errors.iter().map(|d| d.key.as_str()).collect();
    for k in [
        "task_sequence.bogus",
        "task_sequence.steps.0.duration",
        "task_sequence.steps.0.exit_codes.0",
        "task_sequence.steps.0.exit_codes.x",
        "task_sequence.steps.0.retry_count",
        "task_sequence.steps.1.free_disk",
        "task_sequence.steps.1.memory",
        "task_sequence.steps.2.mode",
        "task_sequence.steps.3.disabled",
        "task_sequence.steps.3.condition",
        "task_sequence.steps.4.variable",
        "task_sequence.steps.5.condition.all.0",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    assert!(errors.iter().all(|d| d.line >= 1), "{errors:?}");
}

#[test]
fn groups_nest_up_to_the_cap() {
    let depth = inline::MAX_DEPTH;
    let mut ts = TaskSequence::default();
    let mut node = Node::new("leaf", StepKind::Restart { duration: None });
    for i in 0..depth - 1 {
        node = Node::new(format!("g{i}"), StepKind::Group { steps: vec![node] });
    }
    ts.steps.push(node);
    let text = inline::to_toml(&ts);
    assert_eq!(parse_inline(&text).expect("at the cap"), ts);
}

#[test]
fn the_contract_minimum_one_download_step() {
    let ts = parse_inline(
        "[task_sequence]\n[[task_sequence.steps]]\ntype = \"download\"\ncontent = [\"OSUPG\"]\n",
    )
    .expect("one download step");
    assert_eq!(
        ts.steps[0].kind,
        StepKind::Download {
            content: vec!["OSUPG".into()],
            variable: None
        }
    );
}
