//! Hostile input and crash safety: every malformed file gives exit 2 with a line
//! number and never a panic or a hang; Ctrl-C writes a partial result; SIGKILL never
//! leaves a folder that looks complete; thread count does not change outputs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Runs fleetsim with a deadline; panics if it hangs.
fn run_bounded(args: &[&str], limit: Duration) -> std::process::Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("fleetsim {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn has_line_number(stderr: &str, file: &str) -> bool {
    stderr.lines().any(|l| {
        l.find(file).is_some_and(|i| {
            let rest = &l[i + file.len()..];
            rest.starts_with(':')
                && rest[1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() && c != '0')
        })
    })
}

#[test]
fn every_malformed_scenario_exits_2_with_a_line_number() {
    let dir = repo().join("tests/data/scenarios/bad");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read(&p).unwrap();
        let sets: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|l| l.strip_prefix("# set:").map(|s| s.trim().to_string()))
            .collect();
        let mut args = vec!["validate".to_string(), p.to_string_lossy().into_owned()];
        for s in &sets {
            args.push("--set".into());
            args.push(s.clone());
        }
        let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let o = run_bounded(&argv, Duration::from_secs(20));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", p.display());
        assert!(!err.contains("panicked"), "{}: {err}", p.display());
        if sets.is_empty() {
            assert!(
                has_line_number(&err, &p.to_string_lossy()),
                "{}: no line number in {err}",
                p.display()
            );
        } else {
            assert!(err.contains("<--set"), "{}: {err}", p.display());
        }
        n += 1;
    }
    assert!(n >= 40, "corpus has {n} files");
}

#[test]
fn every_malformed_xml_export_exits_2_with_a_line_number() {
    let dir = repo().join("tests/data/xml/bad");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let ps = p.to_string_lossy().into_owned();
        let o = run_bounded(&["ts", "import", &ps], Duration::from_secs(20));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{ps}: {err}");
        assert!(!err.contains("panicked"), "{ps}: {err}");
        assert!(has_line_number(&err, &ps), "{ps}: no line number in {err}");
        n += 1;
    }
    assert!(n >= 20, "corpus has {n} files");
}

#[test]
fn a_fleet_too_large_for_memory_is_refused_up_front_with_the_estimate() {
    let sc = repo().join("scenarios/quickstart.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = run_bounded(
        &[
            "run",
            sc.to_str().unwrap(),
            "--set",
            "fleet.clients=4000000000",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(20),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("GB of memory") && err.contains("fleet.clients"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn thread_count_does_not_change_any_output() {
    let sc = repo().join("scenarios/precache.toml");
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "4"] {
        let out = dir.path().join(format!("t{threads}"));
        let o = Command::new(bin())
            .args([
                "run",
                sc.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--per-client",
                "--quiet",
                "--set",
                "fleet.clients=5000",
            ])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(o.status.success());
        outs.push(out);
    }
    for f in [
        "bandwidth.csv",
        "clients.csv",
        "failures.csv",
        "steps.csv",
        "histograms/download.hdr",
        "histograms/precache.hdr",
    ] {
        assert!(
            std::fs::read(outs[0].join(f)).unwrap() == std::fs::read(outs[1].join(f)).unwrap(),
            "{f}"
        );
    }
}

/// A run long enough to interrupt: a large fleet over a long horizon.
pub(crate) fn long_run(out: &Path) -> std::process::Child {
    let sc = repo().join("scenarios/precache.toml");
    Command::new(bin())
        .args([
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--set",
            "fleet.clients=3000000",
            "--set",
            "simulation.horizon=60d",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub(crate) fn wait_for_simulation_to_start(child: &mut std::process::Child) {
    // Fleet generation for 3M clients takes a moment; interrupt during the event loop.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended too soon to be interrupted"
    );
}

#[test]
fn sigint_stops_a_run_and_writes_a_partial_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let mut child = long_run(&out);
    wait_for_simulation_to_start(&mut child);
    interrupt_and_wait(&mut child, Duration::from_secs(60), "run");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let s = summary(&out);
    assert_eq!(s["partial"], true);
    assert!(out.join(".complete").exists());
    assert!(out.join("bandwidth.csv").exists());
}

#[test]
fn sigkill_never_leaves_a_folder_that_looks_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    // An earlier complete result must survive a killed re-run untouched.
    let sc = repo().join("scenarios/quickstart.toml");
    run_file(&sc, &out, &["--set", "fleet.clients=100"]);
    let before = std::fs::read(out.join("summary.json")).unwrap();
    let mut child = long_run(&out);
    wait_for_simulation_to_start(&mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read(out.join("summary.json")).unwrap(),
        before,
        "the old result is intact"
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p != out {
            assert!(
                !p.join(".complete").exists(),
                "{} looks complete",
                p.display()
            );
            assert!(
                p.file_name().unwrap().to_string_lossy().starts_with('.'),
                "{} is not hidden",
                p.display()
            );
        }
    }
}
