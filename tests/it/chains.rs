//! Runs of fixed steps execute as one event (`sim::chain`). The reference is the same
//! task sequence stepped one event per step: giving every step a condition that is
//! always true breaks every chain without changing what the steps do, so both runs
//! must write the same files (only the event count and the run's timing differ).

use std::path::Path;

use super::common::*;

/// A task sequence with chains around two downloads from a congested DP, a group,
/// a `cmd /c exit 0` step, a retried step that can fail, and a timeout that cuts
/// some clients' chains; `cond` is added to every step.
fn scenario(cond: &str, horizon: &str, deployment: &str) -> String {
    let step = |name: &str, extra: &str| {
        format!(
            "[[task_sequence.steps]]\ntype = \"run\"\nname = \"{name}\"\nduration = \"90s\"\n{extra}{cond}\n"
        )
    };
    let mut steps = String::new();
    steps += &step("a1", "");
    steps += &step("a2", "");
    steps += &format!(
        "[[task_sequence.steps]]\ntype = \"download\"\nname = \"get 1\"\ncontent = [\"P1\"]\n{cond}\n"
    );
    steps += &step("b1", "command = \"cmd /c exit 0\"\n");
    steps += &format!(
        "[[task_sequence.steps]]\ntype = \"group\"\nname = \"g\"\n{cond}\n\
         [[task_sequence.steps.steps]]\ntype = \"restart\"\nname = \"r\"\nduration = \"5m\"\n{cond}\n\
         [[task_sequence.steps.steps]]\ntype = \"timed\"\nstep_type = \"SMS_TaskSequence_ApplyWindowsSettingsAction\"\nname = \"t\"\nduration = \"2m\"\n{cond}\n"
    );
    steps += &step("b2", "");
    steps += &step(
        "flaky",
        "exit_codes = { \"0\" = 0.7, \"5\" = 0.3 }\nretry_count = 1\ncontinue_on_error = true\n",
    );
    steps += &step("c1", "");
    steps += &format!(
        "[[task_sequence.steps]]\ntype = \"download\"\nname = \"get 2\"\ncontent = [\"P2\"]\n{cond}\n"
    );
    for i in 0..6 {
        steps += &step(&format!("d{i}"), "");
    }
    format!(
        r#"
name = "chains"
[simulation]
seed = 5
horizon = "{horizon}"
bandwidth_interval = "10m"
[fleet]
clients = 3000
[[distribution_points]]
name = "DP"
bandwidth = "400Mbps"
max_connections = 200
[[content]]
id = "P1"
kind = "package"
size = "500MB"
[[content]]
id = "P2"
kind = "package"
size = "300MB"
[deployment]
{deployment}
[client]
policy_poll = {{ dist = "uniform", min = "0s", max = "6h" }}
[task_sequence]
{steps}"#
    )
}

const ALWAYS: &str = "condition = { variable = \"NO_SUCH_VARIABLE\", op = \"notExists\" }";

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// summary.json without the `run` object and the event count.
fn comparable_summary(dir: &Path) -> serde_json::Value {
    let mut v = summary(dir);
    let o = v.as_object_mut().unwrap();
    o.remove("run");
    o.remove("events");
    v
}

/// Runs the scenario chained and stepped, asserts identical outputs, and returns
/// both event counts and the chained run's outcomes.
fn same_results(horizon: &str, deployment: &str) -> (u64, u64, serde_json::Value) {
    let (_a, chained) = run_scenario(&scenario("", horizon, deployment), &["--no-plots"]);
    let (_b, stepped) = run_scenario(&scenario(ALWAYS, horizon, deployment), &["--no-plots"]);
    assert_eq!(files(&chained), files(&stepped));
    for f in files(&chained) {
        if f == "summary.json" || f == "scenario.toml" {
            continue;
        }
        let a = std::fs::read(chained.join(&f)).unwrap();
        let b = std::fs::read(stepped.join(&f)).unwrap();
        assert!(a == b, "{f} differs between chained and stepped runs");
    }
    assert_eq!(comparable_summary(&chained), comparable_summary(&stepped));
    let events = |d: &Path| summary(d)["events"].as_u64().unwrap();
    (
        events(&chained),
        events(&stepped),
        summary(&chained)["outcomes"].clone(),
    )
}

#[test]
fn chained_steps_give_the_same_results_as_stepping() {
    // The DP is congested (2.4 TB through 400 Mbps over ten hours of arrivals), so the
    // one-hour timeout ends some task sequences inside a chain.
    let (chained, stepped, outcomes) = same_results(
        "30h",
        "user_start = { dist = \"uniform\", min = \"0s\", max = \"4h\" }\ntimeout = \"1h\"",
    );
    assert!(
        chained < stepped,
        "chains were not taken: {chained} events chained, {stepped} stepped"
    );
    assert!(
        outcomes["failed"].as_u64().unwrap() > 0 && outcomes["succeeded"].as_u64().unwrap() > 0,
        "the timeout should end some task sequences and not others: {outcomes}"
    );
}

#[test]
fn chains_that_would_cross_the_horizon_are_stepped() {
    let (chained, stepped, outcomes) = same_results(
        "3h",
        "user_start = { dist = \"uniform\", min = \"0s\", max = \"4h\" }",
    );
    assert!(chained < stepped);
    assert!(
        outcomes["in_progress"].as_u64().unwrap() > 0,
        "the horizon should leave some clients mid-sequence: {outcomes}"
    );
}

#[test]
fn chains_at_a_deadline_where_every_client_starts_at_once() {
    // Required deployment: everyone left starts at the deadline, so chains of many
    // clients end at the very same microsecond, and the downloads after them queue
    // at the DP in that order.
    let (chained, stepped, _) = same_results(
        "30h",
        "purpose = \"required\"\ndeadline = \"8h\"\nuser_start = { dist = \"uniform\", min = \"0s\", max = \"20h\" }",
    );
    assert!(chained < stepped);
}

#[test]
fn a_traced_client_still_steps_one_event_per_step() {
    let (_d, out) = run_scenario(
        &scenario("", "30h", "user_start = \"0s\""),
        &["--no-plots", "--trace", "7"],
    );
    let rows = csv_rows(&out.join("trace.csv"));
    let ends: Vec<&str> = rows
        .iter()
        .filter(|r| r["event"] == "end")
        .map(|r| r["path"].as_str())
        .collect();
    assert!(ends.len() >= 10, "one end line per step: {ends:?}");
    let times: Vec<f64> = rows.iter().map(|r| r["time_s"].parse().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "trace in time order"
    );
}
