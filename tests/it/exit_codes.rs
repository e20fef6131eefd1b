//! `exit_code_hex` beside the decimal exit code in `clients.csv` and `trace.csv`
//! (issue 15): the code an administrator reads in smsts.log (`0x80070070`), written as
//! `failures.csv` and `summary.json` write it, on every row that carries a code.

use crate::common::*;

/// Clients whose first step fails with a negative code (the signed reading of
/// 0x80070070, as a script's `exit /b` gives it), with a positive one, or succeeds;
/// an Upgrade OS step then rolls back the clients with an incompatible driver.
const SCENARIO: &str = r#"
name = "exit-codes"
[simulation]
seed = 11
horizon = "3d"
[fleet]
clients = 60
free_disk = "500GB"
incompatible_driver = 0.3
[[distribution_points]]
name = "DP1"
bandwidth = "10Gbps"
[[content]]
id = "OS"
kind = "os_upgrade"
size = "1GB"
[deployment]
user_start = "1h"
[task_sequence]
[[task_sequence.steps]]
type = "run"
name = "Script"
command = "script.cmd"
duration = "1m"
exit_codes = { "0" = 0.6, "-2147024784" = 0.2, "2147942402" = 0.2 }
[[task_sequence.steps]]
type = "upgrade_os"
name = "Upgrade"
content = ["OS"]
"#;

/// The 32-bit reading of a decimal code, as Windows reports it.
fn hex_of(decimal: &str) -> String {
    let v: i64 = decimal.parse().expect("a decimal code");
    format!("0x{:08X}", v as u32)
}

#[test]
fn clients_csv_has_the_hex_code_beside_the_decimal() {
    let (_dir, out) = run_scenario(SCENARIO, &["--trace", "0-59"]);
    let text = std::fs::read_to_string(out.join("clients.csv")).expect("clients.csv");
    let header: Vec<&str> = text.lines().next().expect("header").split(',').collect();
    let at = header
        .iter()
        .position(|c| *c == "exit_code")
        .expect("exit_code");
    assert_eq!(header[at + 1], "exit_code_hex", "{header:?}");
    let rows = csv_rows(&out.join("clients.csv"));
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        assert_eq!(r["exit_code_hex"], hex_of(&r["exit_code"]), "{r:?}");
        seen.insert(r["exit_code_hex"].clone());
    }
    // Both failing codes and a rollback's Setup code are present, and each is the
    // key `summary.json` counts it under.
    let s = summary(&out);
    for code in ["0x80070070", "0x80070002"] {
        assert!(seen.contains(code), "{code} not in {seen:?}");
        assert!(
            s["failures_by_code"][code].as_u64().unwrap_or(0) > 0,
            "{code}"
        );
    }
    assert!(s["outcomes"]["rolled_back"].as_u64().unwrap_or(0) > 0);
}

#[test]
fn trace_csv_has_the_hex_code_of_every_row_that_carries_one() {
    let (_dir, out) = run_scenario(SCENARIO, &["--trace", "0-59"]);
    let rows = csv_rows(&out.join("trace.csv"));
    let mut counted = std::collections::BTreeMap::new();
    for r in &rows {
        let detail = r["detail"].as_str();
        let decimal = match r["event"].as_str() {
            "end" => Some(detail),
            "rollback" => detail.split(' ').next(),
            "finish" => detail.split(' ').nth(1),
            _ => None,
        };
        match decimal {
            Some(d) => {
                assert_eq!(r["exit_code_hex"], hex_of(d), "{r:?}");
                *counted.entry(r["event"].clone()).or_insert(0) += 1;
            }
            None => assert_eq!(r["exit_code_hex"], "", "{r:?}"),
        }
    }
    // Every kind of row with a code was seen, including the negative one.
    for event in ["end", "rollback", "finish"] {
        assert!(counted.get(event).copied().unwrap_or(0) > 0, "{counted:?}");
    }
    assert!(
        rows.iter()
            .any(|r| r["detail"] == "-2147024784" && r["exit_code_hex"] == "0x80070070")
    );
}
