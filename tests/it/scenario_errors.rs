//! Bad input: exit code 2, a message with file, line and column, never a panic.

use crate::common::*;

fn bad(text: &str, expect: &str) {
    let (_dir, p) = scenario(text);
    for cmd in ["validate", "run"] {
        let o = fleetsim(
            &[cmd, p.to_str().unwrap(), "--quiet"]
                .iter()
                .copied()
                .filter(|a| cmd == "run" || *a != "--quiet")
                .collect::<Vec<_>>(),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{cmd}: expected exit 2 for {expect:?}, got {:?}: {err}",
            o.status.code()
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains(expect),
            "{cmd}: message should mention {expect:?}: {err}"
        );
        // file:line:col
        let loc = format!("{}:", p.display());
        assert!(err.contains(&loc), "no file:line:col in {err}");
        let after = &err[err.find(&loc).unwrap() + loc.len()..];
        let line: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        assert!(!line.is_empty() && line != "0", "no line number in {err}");
    }
}

const BASE: &str = r#"
[fleet]
clients = 10
[[distribution_points]]
name = "DP1"
bandwidth = "1Gbps"
[[content]]
id = "PKG"
kind = "package"
size = "1GB"
[task_sequence]
[[task_sequence.steps]]
type = "download"
name = "d"
content = ["PKG"]
"#;

#[test]
fn unknown_key() {
    bad(
        &BASE.replace("clients = 10", "clients = 10\nclientz = 3"),
        "clientz",
    );
}

#[test]
fn bad_unit() {
    bad(&BASE.replace("\"1Gbps\"", "\"1Gbpx\""), "bandwidth");
}

#[test]
fn negative_size() {
    bad(&BASE.replace("\"1GB\"", "\"-1GB\""), "size");
}

#[test]
fn weights_summing_to_nothing() {
    bad(
        &BASE.replace(
            "clients = 10",
            "clients = 10\narchitecture = { x64 = 0.0, x86 = 0.0 }",
        ),
        "architecture",
    );
}

#[test]
fn unknown_content_id() {
    bad(
        &BASE.replace("content = [\"PKG\"]", "content = [\"NOPE\"]"),
        "NOPE",
    );
}

#[test]
fn undefined_dp() {
    bad(
        &format!("{BASE}\n[[sites]]\nname = \"S\"\ndistribution_points = [\"DP9\"]\n"),
        "DP9",
    );
}

#[test]
fn valid_scenarios_validate() {
    for s in ["quickstart.toml", "ps-link.toml"] {
        let p = repo().join("scenarios").join(s);
        let out = ok(&["validate", p.to_str().unwrap()]);
        assert!(out.contains("clients"), "{out}");
    }
}

/// The calendar's bad input (issue 17): each a located error naming what is wrong.
#[test]
fn calendar_errors_are_located() {
    let power = |on: &str| {
        BASE.replace(
            "clients = 10",
            "clients = 10\npower_schedule = { desktop = 1.0 }",
        ) + &format!("[[power_schedules]]\nname = \"desktop\"\non = \"{on}\"\n")
    };
    bad(&power("Mon-Fry 09:00-17:00"), "unknown day \"Fry\"");
    bad(
        &power("daily 25:00-17:00"),
        "\"25:00\" is not a time of day",
    );
    bad(&power("daily 09:00-09:00"), "empty interval");
    bad(
        &BASE.replace(
            "clients = 10",
            "clients = 10\npower_schedule = { laptop = 1.0 }",
        ),
        "fleet.power_schedule.laptop",
    );
    bad(
        &(BASE.to_string()
            + "[[sites]]\nname = \"HQ\"\n[[maintenance_windows]]\nname = \"n\"\nschedule = \"daily 01:00-04:00\"\nsites = [\"Lyon\"]\n"),
        "unknown site \"Lyon\"",
    );
    for off in ["+14:30", "-15:00"] {
        bad(
            &(BASE.to_string() + &format!("[[sites]]\nname = \"HQ\"\nutc_offset = \"{off}\"\n")),
            "beyond",
        );
    }
}

/// A schedule in error is reported once: the fleet weight naming it is not a
/// second error.
#[test]
fn a_bad_power_schedule_is_one_error() {
    let text = BASE.replace(
        "clients = 10",
        "clients = 10\npower_schedule = { desktop = 1.0 }",
    ) + "[[power_schedules]]\nname = \"desktop\"\non = \"Mon-Fry 09:00-17:00\"\n";
    let (_dir, p) = scenario(&text);
    let o = fleetsim(&["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}
