//! Running real exported task sequences (issue "task-sequence engine"): the wizard's
//! template and a customised Citrix upgrade, checked step by step with `--trace`.

use std::collections::HashMap;

use crate::common::*;

fn example(name: &str) -> String {
    let p = repo().join("../shared/domain/ts-examples").join(name);
    let p = if p.exists() {
        p
    } else {
        std::path::PathBuf::from("/work/shared/domain/ts-examples").join(name)
    };
    p.to_string_lossy().into_owned()
}

fn steps(out: &std::path::Path) -> HashMap<String, (u64, u64)> {
    csv_rows(&out.join("steps.csv"))
        .into_iter()
        .map(|r| {
            (
                r["path"].clone(),
                (r["ran"].parse().unwrap(), r["skipped"].parse().unwrap()),
            )
        })
        .collect()
}

#[test]
fn default_template_export_rolls_back_the_clients_with_incompatible_drivers() {
    let text = format!(
        r#"
[fleet]
clients = 500
incompatible_driver = 0.1
exact_shares = true
free_disk = "100GB"
os = {{ win7 = 1.0 }}
[[distribution_points]]
name = "DP1"
bandwidth = "10Gbps"
[[content]]
id = "OPC005ED"
kind = "os_upgrade"
size = "3GB"
[deployment]
user_start = "1h"
[client]
transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}
[task_sequence]
xml = "{}"
"#,
        example("upgrade-os-default-template.xml")
    );
    let (_dir, out) = run_scenario(&text, &["--trace", "0-499"]);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["rolled_back"], 50);
    assert_eq!(s["outcomes"]["succeeded"], 450);
    assert_eq!(s["failures_by_code"]["0xC1900101"], 50);
    let st = steps(&out);
    assert_eq!(st["Rollback"], (50, 450));
    assert_eq!(st["Run Actions on Failure"], (50, 450));
    assert_eq!(st["Post-Processing"], (450, 50));
    // Per client: the rolled-back ones enter Rollback and Run Actions on Failure and
    // skip Post-Processing; the others do the opposite.
    let rolled: Vec<String> = csv_rows(&out.join("clients.csv"))
        .into_iter()
        .filter(|r| r["outcome"] == "rolled_back")
        .map(|r| r["client"].clone())
        .collect();
    assert_eq!(rolled.len(), 50);
    for r in csv_rows(&out.join("trace.csv")) {
        let rb = rolled.contains(&r["client"]);
        match (r["event"].as_str(), r["path"].as_str()) {
            ("enter", "Rollback") | ("enter", "Run Actions on Failure") => assert!(rb, "{r:?}"),
            ("skip", "Rollback") | ("skip", "Run Actions on Failure") => assert!(!rb, "{r:?}"),
            ("enter", "Post-Processing") => assert!(!rb, "{r:?}"),
            ("skip", "Post-Processing") => assert!(rb, "{r:?}"),
            ("rollback", _) => {
                assert!(rb);
                assert!(r["detail"].starts_with("3247440129"), "{r:?}");
            }
            _ => {}
        }
    }
}

#[test]
fn citrix_exit_3_groups_run_exactly_when_the_last_return_code_is_3() {
    let text = format!(
        r#"
[fleet]
clients = 400
free_disk = "100GB"
[[distribution_points]]
name = "DP1"
bandwidth = "10Gbps"
[[content]]
id = "W10"
kind = "os_upgrade"
size = "3GB"
[deployment]
user_start = "1h"
[client]
transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}
[task_sequence]
xml = "{}"
[[task_sequence.overrides]]
step = "VDI - Update Citrix VDA / Install Application"
exit_codes = {{ "0" = 0.5, "3" = 0.3, "8" = 0.2 }}
success_codes = [0, 3, 8]
[[task_sequence.overrides]]
step = "Continue VDA update"
exit_codes = {{ "0" = 0.4, "3" = 0.3, "4" = 0.2, "8" = 0.1 }}
[[task_sequence.overrides]]
step = "Check if XenDesktopSetup folder exists"
output = "XenSetupTrue"
"#,
        example("ipu-citrix-vda-windows10.xml")
    );
    let (_dir, out) = run_scenario(&text, &["--trace", "0-399"]);
    // Walk each client's trace keeping _SMSTSLastActionRetCode as ConfigMgr does: the
    // exit code of the last step that ran. Every "Exit N" group must be entered exactly
    // when that code is N at the moment the group is reached.
    let mut last: HashMap<String, String> = HashMap::new();
    let (mut entered3, mut skipped3) = (0, 0);
    for r in csv_rows(&out.join("trace.csv")) {
        let client = r["client"].clone();
        let leaf = r["path"].rsplit(" / ").next().unwrap_or("").to_string();
        match r["event"].as_str() {
            "end" => {
                last.insert(client, r["detail"].clone());
            }
            "enter" | "skip" if leaf == "Exit 3" || leaf == "Exit 4" => {
                let code = last.get(&client).cloned().unwrap_or_default();
                let want = if leaf == "Exit 3" { "3" } else { "4" };
                let entered = r["event"] == "enter";
                assert_eq!(
                    entered,
                    code == want,
                    "client {client}: {leaf} {} with last code {code:?}",
                    r["event"]
                );
                if leaf == "Exit 3" {
                    if entered {
                        entered3 += 1
                    } else {
                        skipped3 += 1
                    }
                }
            }
            "enter" | "skip" if leaf == "Exit 0 or 8" => {
                let code = last.get(&client).cloned().unwrap_or_default();
                assert_eq!(
                    r["event"] == "enter",
                    code == "0" || code == "8",
                    "client {client}: {r:?} last {code}"
                );
            }
            _ => {}
        }
    }
    assert!(
        entered3 > 50 && skipped3 > 50,
        "both branches exercised: {entered3} entered, {skipped3} skipped"
    );
}

#[test]
fn all_step_types_export_runs_every_step_and_validate_lists_the_timed_only_ones() {
    let xml = example("all-step-types.xml");
    let base = format!(
        r#"
[fleet]
clients = 20
free_disk = "100GB"
[[distribution_points]]
name = "DP1"
bandwidth = "10Gbps"
[deployment]
user_start = "1h"
[task_sequence]
xml = "{xml}"
"#
    );
    // The export references packages the scenario does not define: validate names them.
    let (dir, p) = scenario(&base);
    let o = fleetsim(&["validate", p.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("\"RSC002A2\"") && stderr.contains("\"RSC0022E\""),
        "{stderr}"
    );
    drop(dir);
    let text = base.replace(
        "[deployment]",
        "[[content]]\nid = \"RSC002A2\"\nkind = \"package\"\nsize = \"200MB\"\n[[content]]\nid = \"RSC0022E\"\nkind = \"os_upgrade\"\nsize = \"3GB\"\n[deployment]",
    );
    let (dir, p) = scenario(&text);
    let v = ok(&["validate", p.to_str().unwrap()]);
    assert!(v.contains("timed only: BDD_Gather"), "{v}");
    assert!(
        v.contains("timed only: SMS_TaskSequence_ApplyDataImageAction"),
        "{v}"
    );
    let out = dir.path().join("out");
    ok(&[
        "run",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(summary(&out)["outcomes"]["succeeded"], 20);
    // One steps.csv row per group and step of the export, none dropped.
    let text_xml = std::fs::read_to_string(&xml).unwrap();
    let nodes = ["<step ", "<group ", "<subtasksequence "]
        .iter()
        .map(|t| text_xml.matches(t).count())
        .sum::<usize>();
    let rows = csv_rows(&out.join("steps.csv"));
    assert_eq!(rows.len(), nodes);
    let runbook = rows
        .iter()
        .find(|r| r["path"] == "MDT / Execute Runbook")
        .unwrap();
    assert_eq!(
        (runbook["ran"].as_str(), runbook["skipped"].as_str()),
        ("0", "20"),
        "disabled step"
    );
    assert!(
        rows.iter()
            .filter(|r| r["path"] != "MDT / Execute Runbook" && r["type"] != "group")
            .all(|r| r["succeeded"] == "20")
    );
}
