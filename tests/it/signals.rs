//! SIGTERM (what `timeout`, Kubernetes and Slurm's `scancel` send) and SIGHUP (the
//! terminal closed) stop `run`, `sweep`, `run --replications` and `plan` exactly as
//! the first Ctrl-C does: finished work written and marked partial, no temporary
//! folder or lock left, exit code 128 + the signal. A signal the parent set to be
//! ignored (`nohup`) stays ignored. (`load` is in `load_nginx.rs`.)

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::hardening::{long_run, wait_for_simulation_to_start};
use crate::sweep_interrupt::stop_a_sweep;

#[test]
fn sigterm_writes_partial() {
    let dir = tempfile::tempdir().unwrap();
    stop_a_sweep(dir.path(), "TERM", 143, None);
}

#[test]
fn sighup_writes_partial() {
    let dir = tempfile::tempdir().unwrap();
    stop_a_sweep(dir.path(), "HUP", 129, None);
}

/// What `scancel` does to a running array task: the shard it leaves is partial and
/// merges with the other shards (`--allow-partial`) into a partial study.
#[test]
fn sigterm_leaves_a_partial_mergeable_shard() {
    let dir = tempfile::tempdir().unwrap();
    let one = stop_a_sweep(dir.path(), "TERM", 143, Some("1/2"));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("study.json")).unwrap()).unwrap();
    let clients = m["set"][0].as_str().unwrap().to_string();
    let two = dir.path().join("two");
    let sc = repo().join("scenarios/quickstart.toml");
    ok(&[
        "sweep",
        sc.to_str().unwrap(),
        "--set",
        &clients,
        "--vary",
        "client.download_retry_count=0,1,2",
        "--replications",
        "4",
        "--shard",
        "2/2",
        "--out",
        two.to_str().unwrap(),
        "--quiet",
    ]);
    let merged = dir.path().join("merged");
    let o = fleetsim(&[
        "merge",
        one.to_str().unwrap(),
        two.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--allow-partial",
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("units missing (--allow-partial)"), "{err}");
    let rows = csv_rows(&merged.join("sweep.csv"));
    assert_eq!(rows.len(), 3, "shard 2/2 ran a unit of every point");
    assert!(rows.iter().any(|r| r["complete"] == "false"));
}

#[test]
fn sigterm_and_sighup_stop_a_run_with_a_partial_result() {
    for (sig, code) in [("TERM", 143), ("HUP", 129)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("res");
        let mut child = long_run(&out);
        wait_for_simulation_to_start(&mut child);
        signal_and_wait(&mut child, sig, Duration::from_secs(60), "run");
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{sig}: {err}");
        let name = if sig == "TERM" { "SIGTERM" } else { "SIGHUP" };
        assert!(err.contains(&format!("interrupted ({name})")), "{err}");
        assert_eq!(summary(&out)["partial"], true);
        assert_eq!(names(dir.path()), ["res"], "{sig}: nothing left beside it");
    }
}

/// `run --replications` of `clients` clients, one replication after the other.
fn long_replications(out: &Path) -> std::process::Child {
    let sc = repo().join("scenarios/quickstart.toml");
    Command::new(bin())
        .args([
            "run",
            sc.to_str().unwrap(),
            "--set",
            "fleet.clients=150000",
            "--replications",
            "30",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigterm_stops_run_replications_keeping_the_finished_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reps");
    let mut child = long_replications(&out);
    // Wait for the first replication to be written inside the temporary folder.
    let start = Instant::now();
    let finished = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".reps.tmp-"))
            .any(|e| e.path().join("replications/rep-00/.complete").exists())
    };
    while !finished() {
        assert!(child.try_wait().unwrap().is_none(), "ended too soon");
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no replication in 2 min"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    signal_and_wait(
        &mut child,
        "TERM",
        Duration::from_secs(60),
        "run --replications",
    );
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(err.contains("interrupted (SIGTERM)"), "{err}");
    let s = summary(&out);
    assert_eq!(s["partial"], true);
    assert_eq!(s["clients"].as_u64().unwrap() % 150_000, 0);
    assert_eq!(names(dir.path()), ["reps"]);
}

#[test]
fn sigterm_stops_a_plan_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan");
    let sc = repo().join("scenarios/quickstart.toml");
    let mut child = Command::new(bin())
        .args([
            "plan",
            sc.to_str().unwrap(),
            "--set",
            "fleet.clients=400000",
            "--vary",
            "distribution_points.0.bandwidth=100Mbps..10Gbps",
            "--target",
            "compliance.p50_s <= 40h",
            "--threads",
            "1",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let started = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".plan.tmp-"))
    };
    while !started() {
        assert!(child.try_wait().unwrap().is_none(), "ended too soon");
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    signal_and_wait(&mut child, "TERM", Duration::from_secs(60), "plan");
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(err.contains("interrupted (SIGTERM)"), "{err}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn an_ignored_sighup_stays_ignored() {
    // `nohup` (or a shell's `trap "" HUP`) asks the command to outlive the terminal.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let sc = repo().join("scenarios/quickstart.toml");
    let mut child = Command::new("sh")
        .args([
            "-c",
            "trap '' HUP; exec \"$0\" run \"$1\" --set fleet.clients=600000 --out \"$2\" --quiet",
            bin().to_str().unwrap(),
            sc.to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    if child.try_wait().unwrap().is_some() {
        panic!("the run ended before SIGHUP could be sent");
    }
    signal_and_wait(
        &mut child,
        "HUP",
        Duration::from_secs(120),
        "run under nohup",
    );
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(summary(&out)["partial"], false);
}
