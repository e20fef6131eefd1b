//! Targets with a verdict (issue 15): `[[targets]]` in a scenario and `--target` on
//! `run` are judged on the run's summary, printed met or missed, and a missed one
//! makes the exit code 3; `plan` takes site metrics; the README's `plan` example
//! answers.

use crate::common::*;

/// `branch-offices` with a fleet small enough to run in a blink.
fn branch_offices(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = std::fs::read_to_string(repo().join("scenarios/branch-offices.toml")).unwrap();
    scenario(&format!("{text}\n{extra}"))
}

#[test]
fn run_prints_each_target_and_exits_3_when_one_is_missed() {
    let (dir, sc) = branch_offices("");
    let out = dir.path().join("out");
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=800",
        "--out",
        out.to_str().unwrap(),
        "--target",
        "sites.HQ.compliance.p95_s <= 20d",
        "--target",
        "sites.Gdansk.compliance.p95_s <= 72h",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("target HQ: 95% of its clients compliant within 20d: met, "),
        "{stdout}"
    );
    assert!(
        stdout.contains("target Gdansk: 95% of its clients compliant within 72h: MISSED, "),
        "{stdout}"
    );
    assert!(
        stdout.contains("its 20.0 Mbps WAN link was full for"),
        "the missed site names its full WAN link: {stdout}"
    );
    let s = summary(&out);
    let t = s["targets"].as_array().expect("targets");
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0]["met"].as_bool(), t[1]["met"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(t[1]["value"], s["sites"]["Gdansk"]["compliance"]["p95_s"]);
    assert_eq!(t[1]["threshold"], 72.0 * 3600.0);
    // All met: exit 0.
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=800",
        "--quiet",
        "--out",
        dir.path().join("out2").to_str().unwrap(),
        "--target",
        "sites.HQ.clients >= 1",
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn scenario_targets_in_both_forms_are_judged() {
    let (dir, sc) = branch_offices(
        r#"
[[targets]]
metric = "sites.Leeds.compliance.final_share"
op = ">="
value = 0.5

[[targets]]
metric = "bytes.total"
op = "<"
value = "1KB"
"#,
    );
    let out = dir.path().join("out");
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=400",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--target",
        "compliance.final_share > 0.5",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let met: Vec<bool> = summary(&out)["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["met"].as_bool().unwrap())
        .collect();
    assert_eq!(met, [true, false, true]);
}

#[test]
fn an_unknown_site_or_metric_is_a_located_error_with_a_hint() {
    let (dir, sc) =
        branch_offices("[[targets]]\nmetric = \"sites.Gdnask.clients\"\nop = \">=\"\nvalue = 1\n");
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("scenario.toml:"), "located: {err}");
    assert!(err.contains("did you mean \"Gdansk\"?"), "{err}");
    assert!(!dir.path().join("out").exists(), "nothing written");
    let (dir, sc) = branch_offices("");
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--target",
        "latency.downlaod.max <= 1h",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("did you mean latency.download.max?"), "{err}");
}

#[test]
fn replicated_runs_are_judged_on_one_rollouts_means() {
    let (dir, sc) = branch_offices("");
    let out = dir.path().join("out");
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=400",
        "--replications",
        "3",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--target",
        "clients <= 400",
    ]);
    // 3 x 400 clients summed would miss; one rollout of 400 meets it.
    assert_eq!(o.status.code(), Some(0));
    let s = summary(&out);
    assert_eq!(s["clients"], 400);
    assert_eq!(s["targets"][0]["met"], true);
}

#[test]
fn a_site_target_drives_plan() {
    let sc = repo().join("scenarios/branch-offices.toml");
    let stdout = ok(&[
        "plan",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=800",
        "--vary",
        "sites.3.wan=10Mbps..1Gbps:10Mbps",
        "--target",
        "sites.Gdansk.wan.busy_s <= 12h",
    ]);
    let answer = stdout
        .lines()
        .find_map(|l| l.strip_prefix("answer: sites.3.wan = "))
        .unwrap_or_else(|| panic!("no answer: {stdout}"));
    assert!(answer.ends_with("Mbps"), "{answer}");
    let mbps: f64 = answer.trim_end_matches("Mbps").parse().unwrap();
    assert!((10.0..1000.0).contains(&mbps), "{answer}");
    // Figures are in the metric's units: hours, not raw seconds.
    assert!(
        stdout.contains("h ± ") || stdout.contains("h  "),
        "{stdout}"
    );
}

/// The `plan` command of the README, run as written, answers.
#[test]
fn the_readme_plan_example_answers() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("### Plans: `fleetsim plan`")
        .nth(1)
        .expect("README has a Plans section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    let command = block.replace("\\\n", " ");
    let words = shell_words(&command);
    assert_eq!(
        words.first().map(String::as_str),
        Some("fleetsim"),
        "{command}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = words[1..].to_vec();
    // Relative scenario paths are the repository's; the output goes to a temp folder.
    for a in &mut args {
        if a.starts_with("scenarios/") {
            *a = repo().join(&*a).to_string_lossy().into_owned();
        }
    }
    if let Some(i) = args.iter().position(|a| a == "--out") {
        args[i + 1] = dir.path().join("plan").to_string_lossy().into_owned();
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let stdout = ok(&refs);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("answer: ") && !l.starts_with("answer: none")),
        "{stdout}"
    );
}

/// Splits a one-line shell command on spaces, honouring single quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}
