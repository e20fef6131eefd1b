//! Golden outputs: the exact results of representative scenarios, pinned.
//!
//! Each case runs one scenario (a shipped one scaled down with `--set`, or the
//! default-template export read in place) and compares `summary.json` (without its
//! `run` timing object), `steps.csv`, `failures.csv` and `clients.csv` with the
//! files under `tests/data/golden/<case>/`, byte for byte. A refactor never changes
//! them; a commit that does changes behaviour and says why in its message.
//!
//! Regenerate after an intended change of behaviour:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test --release golden
//! ```
//!
//! Between them the cases cover pre-cache, every `dp_option`, a required deadline, a
//! deployment timeout, an XML export, rollback, download retries and boundary-group
//! fallback over a WAN link.

use std::path::{Path, PathBuf};

use crate::common::*;

/// One pinned case: a name, the scenario, and the extra `run` arguments.
struct Case {
    name: &'static str,
    scenario: Scenario,
    args: &'static [&'static str],
}

enum Scenario {
    /// A shipped scenario under `scenarios/`.
    Shipped(&'static str),
    /// A scenario text; `@TS_EXAMPLES@` is replaced by the folder of the real exports.
    Inline(&'static str),
}

/// The wizard's default template as exported, with `access_from_dp` and enough
/// incompatible drivers that some clients roll back and run the export's Rollback
/// and Run Actions on Failure groups.
const XML_ACCESS_FROM_DP: &str = r#"
name = "golden-xml-access-from-dp"
[simulation]
seed = 7
horizon = "7d"
bandwidth_interval = "10m"
[fleet]
clients = 800
incompatible_driver = 0.08
free_disk = { dist = "normal", mean = "60GB", sd = "20GB", min = "5GB" }
os = { win7 = 0.5, win81 = 0.5 }
[[distribution_points]]
name = "DP1"
bandwidth = "2Gbps"
max_connections = 100
[[content]]
id = "OPC005ED"
kind = "os_upgrade"
size = "3GB"
[deployment]
dp_option = "access_from_dp"
user_start = { dist = "exponential", mean = "6h" }
[task_sequence]
xml = "@TS_EXAMPLES@/upgrade-os-default-template.xml"
"#;

const CASES: &[Case] = &[
    // On demand, two sites, fallback to HQ, Check Readiness, the assessment,
    // rollbacks from incompatible drivers, transient failures and retries.
    Case {
        name: "quickstart",
        scenario: Scenario::Shipped("quickstart.toml"),
        args: &["--set", "fleet.clients=1500"],
    },
    // Pre-cache from the available time, then on-demand for what is missing.
    Case {
        name: "precache",
        scenario: Scenario::Shipped("precache.toml"),
        args: &["--set", "fleet.clients=1500"],
    },
    // A required deadline where everyone left starts at once, with a deployment
    // timeout that cuts the slowest task sequences.
    Case {
        name: "required-deadline",
        scenario: Scenario::Shipped("required-deadline.toml"),
        args: &[
            "--set",
            "fleet.clients=1500",
            "--set",
            "distribution_points.0.max_connections=40",
            "--set",
            "distribution_points.0.bandwidth=1Gbps",
            "--set",
            "deployment.timeout=3h",
        ],
    },
    // Download everything before the first step, with frequent transient failures so
    // that retries run out for some clients.
    Case {
        name: "all-first-retries",
        scenario: Scenario::Shipped("quickstart.toml"),
        args: &[
            "--set",
            "fleet.clients=1000",
            "--set",
            "deployment.dp_option=download_all_first",
            "--set",
            "client.transient_failure.wired=0.2",
            "--set",
            "client.transient_failure.wireless=0.4",
            "--set",
            "client.transient_failure.vpn=0.6",
            "--set",
            "client.download_retry_count=1",
        ],
    },
    // Branch offices behind WAN links, falling back to HQ's DPs.
    Case {
        name: "branch-offices",
        scenario: Scenario::Shipped("branch-offices.toml"),
        args: &["--set", "fleet.clients=1200"],
    },
    // The wizard's default template as exported, content read from the DP.
    Case {
        name: "xml-access-from-dp",
        scenario: Scenario::Inline(XML_ACCESS_FROM_DP),
        args: &[],
    },
];

/// The folder of the real exports, read in place.
fn ts_examples() -> PathBuf {
    let p = repo().join("../shared/domain/ts-examples");
    if p.exists() {
        p
    } else {
        PathBuf::from("/work/shared/domain/ts-examples")
    }
}

/// Runs a case and returns the four pinned files' contents by name.
fn outputs(case: &Case) -> Vec<(&'static str, String)> {
    let dir = tempfile::tempdir().unwrap();
    let sc = match case.scenario {
        Scenario::Shipped(f) => repo().join("scenarios").join(f),
        Scenario::Inline(text) => {
            let p = dir.path().join("scenario.toml");
            let text = text.replace("@TS_EXAMPLES@", &ts_examples().to_string_lossy());
            std::fs::write(&p, text).unwrap();
            p
        }
    };
    let out = dir.path().join("out");
    let mut args = vec!["--per-client"];
    args.extend_from_slice(case.args);
    run_file(&sc, &out, &args);
    let mut summary = summary(&out);
    summary
        .as_object_mut()
        .expect("summary.json is an object")
        .remove("run")
        .expect("summary.json has a run object");
    let mut summary = serde_json::to_string_pretty(&summary).unwrap();
    summary.push('\n');
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    vec![
        ("summary.json", summary),
        ("steps.csv", read("steps.csv")),
        ("failures.csv", read("failures.csv")),
        ("clients.csv", read("clients.csv")),
    ]
}

/// The first line where `got` and `want` differ, for the failure message.
fn first_difference(got: &str, want: &str) -> String {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            return format!("line {}:\n  golden: {w}\n  now:    {g}", i + 1);
        }
    }
    format!(
        "one is a prefix of the other ({} lines now, {} golden)",
        got.lines().count(),
        want.lines().count()
    )
}

fn check(case: &Case) {
    let folder = repo().join("tests/data/golden").join(case.name);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    for (file, got) in outputs(case) {
        let path: PathBuf = folder.join(file);
        if update {
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; record it with UPDATE_GOLDEN=1 cargo test --release golden",
                path.display()
            )
        });
        assert!(
            got == want,
            "{} changed: {}\nIf the change of behaviour is intended, regenerate with \
             UPDATE_GOLDEN=1 cargo test --release golden and say why in the commit message.",
            show(&path),
            first_difference(&got, &want)
        );
    }
}

fn show(p: &Path) -> String {
    p.strip_prefix(repo()).unwrap_or(p).display().to_string()
}

#[test]
fn golden_quickstart() {
    check(&CASES[0]);
}

#[test]
fn golden_precache() {
    check(&CASES[1]);
}

#[test]
fn golden_required_deadline_with_timeout() {
    check(&CASES[2]);
}

#[test]
fn golden_download_all_first_with_retries() {
    check(&CASES[3]);
}

#[test]
fn golden_branch_offices_wan_and_fallback() {
    check(&CASES[4]);
}

#[test]
fn golden_xml_export_access_from_dp_with_rollback() {
    check(&CASES[5]);
}

/// Every case has its own test above, and the cases keep covering what the module
/// documentation promises.
#[test]
fn golden_cases_cover_every_dp_option_and_precache() {
    assert_eq!(CASES.len(), 6);
    let mut names: Vec<_> = CASES.iter().map(|c| c.name).collect();
    names.dedup();
    assert_eq!(names.len(), CASES.len());
    let text = |c: &Case| match c.scenario {
        Scenario::Shipped(f) => std::fs::read_to_string(repo().join("scenarios").join(f))
            .unwrap()
            .to_string(),
        Scenario::Inline(t) => t.to_string(),
    } + &c.args.join(" ");
    let all: String = CASES.iter().map(text).collect();
    for needle in [
        "download_on_demand",
        "download_all_first",
        "access_from_dp",
        "precache = true",
        "purpose = \"required\"",
        "timeout",
        "xml = ",
        "fallback",
        "incompatible_driver",
        "download_retry_count",
    ] {
        assert!(all.contains(needle), "no golden case uses {needle}");
    }
}
