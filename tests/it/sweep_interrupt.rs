//! Ctrl-C during `sweep` and `run --replications`: the finished runs are kept and
//! written as a partial study (manifest, merged points, marked table), a run stopped
//! mid-way is dropped, nothing is written when nothing finished, and `merge` joins
//! partial shards only when asked.
//!
//! The content checks drive the library with `Control::stop` set from the progress
//! callback on one thread, so exactly the first N units finish; one test sends a real
//! SIGINT to the binary for the signal path.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fleetsim::study::StudyError;
use fleetsim::study::grid::Grid;
use fleetsim::study::layout::{Shard, StudyKind};
use fleetsim::study::runner::{self, Control, Outcome, Study, Tick};

use crate::common::*;
use crate::merge::assert_same_tree;

const CLIENTS: &str = "fleet.clients=300";
const VARY: &str = "client.download_retry_count=0,1,2";

fn quickstart() -> PathBuf {
    repo().join("scenarios/quickstart.toml")
}

fn study(kind: StudyKind, vary: &[&str], reps: u32, shard: Option<&str>) -> Study {
    let vary: Vec<String> = vary.iter().map(|s| s.to_string()).collect();
    Study::new(
        kind,
        &quickstart(),
        vec![CLIENTS.to_string()],
        Grid::from_args(&vary).unwrap(),
        reps,
        shard.map(|s| Shard::parse(s).unwrap()),
        false,
    )
    .unwrap()
}

/// Runs `study` on one thread (units in order) and presses "Ctrl-C" once `n` units
/// have finished: the next unit does not start. `n = 0` stops before the first.
fn run_stopping_after(study: &Study, out: &Path, n: usize) -> Result<Outcome, StudyError> {
    let stop = Arc::new(AtomicBool::new(n == 0));
    let flag = stop.clone();
    let tick = move |t: Tick| {
        if t.units_done >= n {
            flag.store(true, Ordering::SeqCst);
        }
    };
    let ctl = Control {
        threads: Some(1),
        stop: Some(&stop),
        progress: Some(&tick),
    };
    runner::execute(study, out, &ctl)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Nothing but `keep` in `dir`: no temporary folder was left behind.
fn only(dir: &Path, keep: &[&str]) {
    assert_eq!(names(dir), keep, "in {}", dir.display());
}

#[test]
fn ctrl_c_keeps_the_finished_runs_as_a_partial_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let s = study(StudyKind::Sweep, &[VARY], 2, None);
    let out = dir.path().join("partial");
    // 3 points x 2 replications; units 0, 1, 2 finish: point 0 whole, point 1 half.
    let o = run_stopping_after(&s, &out, 3).unwrap();
    assert!(o.manifest.partial);
    assert_eq!(o.units_run, 3);
    let points = o.points.unwrap();
    let seen: Vec<(usize, u32, bool)> = points
        .iter()
        .map(|p| (p.index, p.replications, p.complete))
        .collect();
    assert_eq!(seen, [(0, 2, true), (1, 1, false)]);

    let m = json(&out.join("study.json"));
    assert_eq!(m["partial"], true);
    let c = &m["completion"];
    assert_eq!(c["units_total"], 6);
    assert_eq!(strings(&c["units_present"]).len(), 3);
    assert_eq!(
        strings(&c["units_missing"]),
        [
            "points/1/replications/rep-1",
            "points/2/replications/rep-0",
            "points/2/replications/rep-1"
        ]
    );
    assert_eq!(c["points_partial"], serde_json::json!([1]));
    assert_eq!(c["points_missing"], serde_json::json!([2]));
    assert!(c["policy"].as_str().unwrap().contains("dropped"));
    assert!(!out.join("points/2").exists());
    assert_eq!(summary(&out.join("points/1"))["partial"], true);
    assert_eq!(summary(&out.join("points/1"))["clients"], 300);
    assert_eq!(summary(&out.join("points/0"))["partial"], false);
    let rows = csv_rows(&out.join("sweep.csv"));
    let marks: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["point"].as_str(),
                r["replications_done"].as_str(),
                r["complete"].as_str(),
            )
        })
        .collect();
    assert_eq!(marks, [("0", "2", "true"), ("1", "1", "false")]);
    only(dir.path(), &["partial"]);

    // What was kept is exactly what the complete sweep has for those runs, and the
    // complete sweep's files carry no partial marker.
    let full = dir.path().join("full");
    let o = runner::execute(&s, &full, &Control::default()).unwrap();
    assert!(!o.manifest.partial);
    assert_same_tree(&out.join("points/0"), &full.join("points/0"));
    assert_same_tree(
        &out.join("points/1/replications/rep-0"),
        &full.join("points/1/replications/rep-0"),
    );
    let text = std::fs::read_to_string(full.join("study.json")).unwrap();
    assert!(!text.contains("partial") && !text.contains("completion"));
    let full_rows = csv_rows(&full.join("sweep.csv"));
    assert!(!full_rows[0].contains_key("complete"));
    for (k, v) in &full_rows[0] {
        if let Some(got) = rows[0].get(k) {
            assert_eq!(got, v, "{k}");
        }
    }

    let page = fleetsim::report::render(&out).unwrap();
    assert!(page.contains("<span class=\"badge\">partial</span> The sweep was interrupted"));
    assert!(page.contains("1 point(s) without any finished run"));
}

#[test]
fn ctrl_c_before_any_run_finished_writes_nothing_and_keeps_the_old_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    // An earlier result of fleetsim's own (a folder of anyone else's is refused).
    run_file(&quickstart(), &out, &["--set", "fleet.clients=50"]);
    let before = std::fs::read(out.join("summary.json")).unwrap();
    let s = study(StudyKind::Sweep, &[VARY], 2, None);
    match run_stopping_after(&s, &out, 0) {
        Err(StudyError::Interrupted) => {}
        other => panic!("expected Interrupted, got {other:?}"),
    }
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
    only(dir.path(), &["res"]);
}

#[test]
fn interrupted_replications_merge_the_finished_ones_marked_partial() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reps");
    let s = study(StudyKind::Replications, &[], 4, None);
    let o = run_stopping_after(&s, &out, 2).unwrap();
    assert!(o.manifest.partial);
    let sum = summary(&out);
    assert_eq!(sum["partial"], true);
    assert_eq!(sum["clients"], 300, "one rollout of the 300-client fleet");
    assert_eq!(sum["replications"]["runs"], 2, "two replications merged");
    assert!(out.join("replications/rep-1/.complete").exists());
    assert!(!out.join("replications/rep-2").exists());
    let rows = csv_rows(&out.join("replications.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["replications_done"], "2");
    assert_eq!(rows[0]["complete"], "false");
    assert_eq!(
        strings(&json(&out.join("study.json"))["completion"]["units_missing"]),
        ["replications/rep-2", "replications/rep-3"]
    );
}

#[test]
fn merge_refuses_a_partial_shard_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    // Shard 1/2 owns units 0, 2, 4 and is stopped after unit 0; shard 2/2 (the
    // binary) runs 1, 3, 5 in full. Missing: 2 and 4.
    let one = dir.path().join("one");
    let s = study(StudyKind::Sweep, &[VARY], 2, Some("1/2"));
    let o = run_stopping_after(&s, &one, 1).unwrap();
    assert!(o.manifest.partial && o.points.is_none());
    let m = json(&one.join("study.json"));
    assert_eq!(m["completion"]["units_total"], 3);
    assert!(m["completion"].get("points_missing").is_none(), "{m}");
    let two = dir.path().join("two");
    let sc = quickstart();
    ok(&[
        "sweep",
        sc.to_str().unwrap(),
        "--set",
        CLIENTS,
        "--vary",
        VARY,
        "--replications",
        "2",
        "--shard",
        "2/2",
        "--out",
        two.to_str().unwrap(),
        "--quiet",
    ]);
    let merged = dir.path().join("merged");
    let (a, b, m_out) = (
        one.to_str().unwrap(),
        two.to_str().unwrap(),
        merged.to_str().unwrap(),
    );
    let o = fleetsim(&["merge", a, b, "--out", m_out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for says in [
        "2 unit(s) missing",
        "points/1/replications/rep-0",
        "points/2/replications/rep-0",
        "--allow-partial",
    ] {
        assert!(err.contains(says), "{says}: {err}");
    }
    assert!(!merged.exists());

    let o = fleetsim(&["merge", a, b, "--out", m_out, "--allow-partial"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("partial: 2 of 6 units missing"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("PARTIAL"));
    let m = json(&merged.join("study.json"));
    assert_eq!(m["partial"], true);
    assert_eq!(m["shard"], serde_json::Value::Null);
    assert_eq!(
        strings(&m["completion"]["units_missing"]),
        ["points/1/replications/rep-0", "points/2/replications/rep-0"]
    );
    let complete: Vec<String> = csv_rows(&merged.join("sweep.csv"))
        .iter()
        .map(|r| r["complete"].clone())
        .collect();
    assert_eq!(complete, ["true", "false", "false"]);
    ok(&["report", m_out]);
    let page = std::fs::read_to_string(merged.join("report.html")).unwrap();
    assert!(page.contains("<span class=\"badge\">partial</span>"));
}

/// A sweep of `clients`-client runs on one thread: several seconds in all. `shard`
/// runs only that share (as a Slurm array task does).
fn long_sweep(sc: &Path, out: &Path, clients: u64, shard: Option<&str>) -> std::process::Child {
    let clients = format!("fleet.clients={clients}");
    let mut args = vec![
        "sweep",
        sc.to_str().unwrap(),
        "--set",
        &clients,
        "--vary",
        VARY,
        "--replications",
        "4",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    if let Some(s) = shard {
        args.extend(["--shard", s]);
    }
    Command::new(bin())
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The temporary folder process `pid` fills beside `out` (`.<name>.tmp-<pid>@<host>`).
fn temp_of(out: &Path, pid: u32) -> Option<PathBuf> {
    let prefix = format!(".{}.tmp-{pid}@", out.file_name().unwrap().to_string_lossy());
    std::fs::read_dir(out.parent().unwrap())
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
}

/// Whether any unit folder under the sweep's temporary folder is complete.
fn a_unit_finished(tmp: &Path) -> bool {
    let Ok(points) = std::fs::read_dir(tmp.join("points")) else {
        return false;
    };
    points.flatten().any(|p| {
        std::fs::read_dir(p.path().join("replications"))
            .map(|reps| reps.flatten().any(|r| r.path().join(".complete").exists()))
            .unwrap_or(false)
    })
}

/// Starts a long sweep (or one share of it), sends `sig` once a run has finished, and
/// checks what a stop must leave: exit code `code`, the finished runs written as a
/// partial study, nothing else beside it. Returns the folder (in `dir`).
pub(crate) fn stop_a_sweep(dir: &Path, sig: &str, code: i32, shard: Option<&str>) -> PathBuf {
    let sc = quickstart();
    // 12 units of 150,000 clients take about 5 s on an idle machine; if the sweep
    // still ends before the signal lands (a very fast machine), try a larger fleet.
    for clients in [150_000u64, 400_000, 1_000_000] {
        let out = dir.join(format!("res-{clients}"));
        let mut child = long_sweep(&sc, &out, clients, shard);
        let start = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if temp_of(&out, child.id()).is_some_and(|t| a_unit_finished(&t)) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "no run finished in 2 minutes"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        if child.try_wait().unwrap().is_some() {
            continue;
        }
        signal_and_wait(&mut child, sig, Duration::from_secs(60), "sweep");
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.code() == Some(0) {
            // Every run finished before the signal was handled: too fast, go bigger.
            std::fs::remove_dir_all(&out).unwrap();
            continue;
        }
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert!(err.contains("partial results written"), "{err}");
        let name = out.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            names(dir)
                .into_iter()
                .filter(|n| n.contains(&name))
                .collect::<Vec<_>>(),
            std::slice::from_ref(&name),
            "no temporary folder or lock is left beside the result"
        );
        assert!(out.join(".complete").exists());
        let m = json(&out.join("study.json"));
        assert_eq!(m["partial"], true);
        let c = &m["completion"];
        let present = strings(&c["units_present"]);
        assert!(!present.is_empty());
        assert!(!strings(&c["units_missing"]).is_empty());
        for u in &present {
            assert!(out.join(u).join(".complete").exists(), "{u}");
        }
        for u in strings(&c["units_missing"]) {
            assert!(!out.join(u).exists());
        }
        if shard.is_some() {
            return out;
        }
        // Every point with a run has a row; the incomplete ones say so.
        let rows = csv_rows(&out.join("sweep.csv"));
        let listed = |k: &str| c[k].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(
            rows.len(),
            listed("points_complete") + listed("points_partial")
        );
        assert_eq!(rows.len() + listed("points_missing"), 3);
        for r in &rows {
            let done: u32 = r["replications_done"].parse().unwrap();
            assert_eq!(r["complete"], (done == 4).to_string());
            let dir = out.join(format!("points/{}", r["point"]));
            assert_eq!(summary(&dir)["partial"], done < 4);
        }
        return out;
    }
    panic!("every sweep finished before SIG{sig} could stop it");
}

#[test]
fn sigint_stops_a_sweep_and_writes_the_finished_runs() {
    let dir = tempfile::tempdir().unwrap();
    stop_a_sweep(dir.path(), "INT", 130, None);
}
