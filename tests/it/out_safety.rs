//! `--out` never costs a user a file: a result replaces only a folder fleetsim wrote
//! (atomically, leaving nothing beside it), anything else is refused with exit code 2
//! and left untouched, an output that overlaps an input is refused, two processes
//! never write one folder at once, and what a killed run leaves is removed by the next.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn quickstart() -> std::path::PathBuf {
    repo().join("scenarios/quickstart.toml")
}

/// Runs a 50-client quickstart into `out` and returns the exit code and stderr.
fn small_run(out: &Path) -> (Option<i32>, String) {
    let sc = quickstart();
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=50",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn out_refuses_foreign_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("notes.txt"), "x").unwrap();
    let (code, err) = small_run(&d);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("is not a fleetsim result folder and not empty (notes.txt)"),
        "{err}"
    );
    assert_eq!(names(&d), ["notes.txt"]);
    assert_eq!(std::fs::read_to_string(d.join("notes.txt")).unwrap(), "x");
    assert_eq!(names(dir.path()), ["d"], "nothing written beside it");
    // A folder with a .complete marker but no manifest is not a result either.
    std::fs::write(d.join(".complete"), "").unwrap();
    assert_eq!(small_run(&d).0, Some(2));
}

#[test]
fn out_refuses_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    std::fs::write(&f, "mine").unwrap();
    let (code, err) = small_run(&f);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is a file"), "{err}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "mine");
    assert_eq!(names(dir.path()), ["f"]);
}

#[test]
fn out_refuses_the_current_folder() {
    // Run one level down in a fresh folder, so that `..` is that folder and never
    // contains the scenario (a clone under /tmp would make `..` = /tmp contain it,
    // a refusal for another reason).
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("work");
    std::fs::create_dir(&cwd).unwrap();
    let sc = quickstart();
    for out in [".", "..", "./", "sub/.."] {
        let o = Command::new(bin())
            .current_dir(&cwd)
            .args(["run", sc.to_str().unwrap(), "--out", out, "--quiet"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{out}: {err}");
        assert!(
            err.contains("is the current folder or contains it"),
            "{err}"
        );
    }
    assert!(names(&cwd).is_empty());
    assert_eq!(names(dir.path()), ["work"]);
}

#[test]
fn out_replaces_its_own_result_at_once_and_leaves_no_old_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    assert_eq!(small_run(&out).0, Some(0));
    std::fs::write(out.join("report.html"), "old page").unwrap();
    let sc = quickstart();
    run_file(&sc, &out, &["--set", "fleet.clients=60"]);
    assert_eq!(summary(&out)["clients"], 60);
    assert!(
        !out.join("report.html").exists(),
        "the old folder went whole"
    );
    assert_eq!(names(dir.path()), ["r"]);
    // An empty folder is replaced too: nothing of anyone's is in it.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(small_run(&empty).0, Some(0));
    assert!(empty.join("summary.json").exists());
}

#[test]
fn out_refuses_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        assert_eq!(small_run(d).0, Some(0));
    }
    let before = std::fs::read(a.join("summary.json")).unwrap();
    let (sa, sb, sd) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    );
    let inside = a.join("merged");
    for (args, says) in [
        (vec!["merge", sa, sb, "--out", sa], "is the input"),
        (vec!["merge", sa, sb, "--out", sd], "contains the input"),
        (
            vec!["merge", sa, sb, "--out", inside.to_str().unwrap()],
            "is inside the input",
        ),
        (vec!["compare", sa, sb, "--out", sa], "is the input"),
    ] {
        let o = fleetsim(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(a.join("summary.json")).unwrap(), before);
    assert_eq!(names(dir.path()), ["a", "b"]);
    // A scenario file is an input too: a folder holding it is not replaced.
    let (sdir, sc) = scenario(&std::fs::read_to_string(quickstart()).unwrap());
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        sdir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(sc.exists());
}

#[test]
fn merge_refuses_the_same_folder_twice() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r");
    assert_eq!(small_run(&r).0, Some(0));
    let m = dir.path().join("m");
    for again in ["r", "./r/", "r/.", "../r"] {
        let arg = if again == "../r" {
            format!("{}/../r", r.display())
        } else {
            again.to_string()
        };
        let o = Command::new(bin())
            .current_dir(dir.path())
            .args(["merge", "r", &arg, "--out", m.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{again}: {err}");
        assert!(
            err.contains("is the same folder as r given before"),
            "{err}"
        );
    }
    assert!(!m.exists());
}

#[test]
fn a_second_writer_of_the_same_out_is_told_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let mut first = crate::hardening::long_run(&out);
    let lock = dir.path().join(".res.lock");
    let start = Instant::now();
    // The lock file exists a moment before its lock is taken; its owner's pid is
    // written only once the lock is held, so wait for that (under load the gap
    // between the two let the second writer win the race).
    let holder = format!("{}@", first.id());
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.starts_with(&holder)) {
        assert!(start.elapsed() < Duration::from_secs(30), "no lock taken");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, err) = small_run(&out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("another fleetsim (pid {} on", first.id()))
            && err.contains("is writing this folder now"),
        "{err}"
    );
    signal_and_wait(&mut first, "TERM", Duration::from_secs(60), "run");
    assert_eq!(first.wait().unwrap().code(), Some(143));
    assert_eq!(summary(&out)["partial"], true, "the first writer's result");
    assert_eq!(names(dir.path()), ["res"]);
    // Once it is done, the folder may be written again.
    assert_eq!(small_run(&out).0, Some(0));
}

#[test]
fn sigkill_leftovers_are_removed_by_the_next_run_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let mut child = crate::hardening::long_run(&out);
    let lock = dir.path().join(".res.lock");
    let start = Instant::now();
    let owner = loop {
        let text = std::fs::read_to_string(&lock).unwrap_or_default();
        if !text.trim().is_empty() {
            break text.trim().to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no lock taken");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(owner.starts_with(&format!("{}@", child.id())), "{owner}");
    child.kill().unwrap();
    child.wait().unwrap();
    // Killed while simulating, it left its lock; killed while writing, it would also
    // have left its temporary folder, named after it.
    let tmp = dir.path().join(format!(".res.tmp-{owner}"));
    std::fs::create_dir_all(tmp.join("histograms")).unwrap();
    std::fs::write(tmp.join(".fleetsim-tmp"), &owner).unwrap();
    std::fs::write(tmp.join("summary.json"), "{").unwrap();
    // A folder of someone else's with a similar name is not touched.
    let lookalike = dir.path().join(".res.tmp-backup");
    std::fs::create_dir(&lookalike).unwrap();
    // Another run in the same folder (another name) removes them: their owner is gone.
    assert_eq!(small_run(&dir.path().join("other")).0, Some(0));
    assert_eq!(names(dir.path()), [".res.tmp-backup", "other"]);
}

#[test]
fn report_and_compare_refuse_a_folder_without_its_complete_marker() {
    let dir = tempfile::tempdir().unwrap();
    let (r, s) = (dir.path().join("r"), dir.path().join("s"));
    for d in [&r, &s] {
        assert_eq!(small_run(d).0, Some(0));
    }
    std::fs::remove_file(r.join(".complete")).unwrap();
    let o = fleetsim(&["report", r.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a complete result folder"), "{err}");
    assert_eq!(err.lines().count(), 1, "said once: {err}");
    assert!(!r.join("report.html").exists());
    let c = dir.path().join("c");
    let o = fleetsim(&[
        "compare",
        r.to_str().unwrap(),
        s.to_str().unwrap(),
        "--out",
        c.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a complete result folder"), "{err}");
    assert!(!c.exists());
}

#[test]
fn report_failure_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r");
    assert_eq!(small_run(&r).0, Some(0));
    // report.html cannot be replaced (a folder is in the way): the write fails.
    std::fs::create_dir(r.join("report.html")).unwrap();
    std::fs::write(r.join("report.html/keep"), "x").unwrap();
    let o = fleetsim(&["report", r.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "said once: {err}");
    assert!(
        !names(&r).iter().any(|n| n.starts_with(".report.html.tmp")),
        "{:?}",
        names(&r)
    );
}

#[test]
fn compare_of_a_run_and_a_sweep_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r");
    assert_eq!(small_run(&r).0, Some(0));
    let sw = dir.path().join("sw");
    let sc = quickstart();
    ok(&[
        "sweep",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=30",
        "--vary",
        "fleet.clients=20,30",
        "--out",
        sw.to_str().unwrap(),
        "--quiet",
    ]);
    let o = fleetsim(&[
        "compare",
        r.to_str().unwrap(),
        sw.to_str().unwrap(),
        "--out",
        dir.path().join("c").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("is a sweep"), "{err}");
    // One point of it is a run and compares.
    ok(&[
        "compare",
        r.to_str().unwrap(),
        sw.join("points/1").to_str().unwrap(),
        "--out",
        dir.path().join("c").to_str().unwrap(),
        "--quiet",
    ]);
}

#[test]
fn memory_estimate_errors_are_located_and_blamed_on_their_source() {
    let sc = quickstart();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = fleetsim(&[
        "run",
        sc.to_str().unwrap(),
        "--set",
        "fleet.clients=4000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.starts_with(
            "error: <--set fleet.clients=4000000000>: fleet.clients: 4000000000 clients need about"
        ),
        "{err}"
    );
    // The same fleet size written in the file is located at its line.
    let text = std::fs::read_to_string(&sc)
        .unwrap()
        .replace("clients = 5000", "clients = 4000000000");
    let (d, p) = scenario(&text);
    let line = text
        .lines()
        .position(|l| l.starts_with("clients = "))
        .unwrap()
        + 1;
    let o = fleetsim(&[
        "run",
        p.to_str().unwrap(),
        "--out",
        d.path().join("o").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains(&format!(
            "scenario.toml:{line}:1: fleet.clients: 4000000000 clients need about"
        )),
        "{err}"
    );
    // In a sweep, a varied value is blamed on --vary.
    let o = fleetsim(&[
        "sweep",
        sc.to_str().unwrap(),
        "--vary",
        "fleet.clients=5,4000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("<--vary"), "{err}");
    assert!(!out.exists());
}

#[test]
fn runs_that_cannot_fit_are_refused_up_front_with_the_estimate() {
    let sc = quickstart();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let s = out.to_str().unwrap();
    for (args, flag) in [
        (
            vec!["run", sc.to_str().unwrap(), "-r", "4294967295", "--out", s],
            "--replications",
        ),
        (
            vec![
                "sweep",
                sc.to_str().unwrap(),
                "--vary",
                "fleet.clients=1000000..1999999",
                "--out",
                s,
            ],
            "--vary",
        ),
        (
            vec![
                "run",
                sc.to_str().unwrap(),
                "--set",
                "fleet.clients=3000000000",
                "--trace",
                "0-2999999999",
                "--out",
                s,
            ],
            "--trace",
        ),
    ] {
        let start = Instant::now();
        let mut child = Command::new(bin())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        while child.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{args:?} was not refused up front"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!(": {flag}: ")), "{err}");
        assert!(err.contains("about") && err.contains("GB"), "{err}");
        assert!(!out.exists());
    }
    // Repeated ranges cost what one costs.
    let repeated = vec!["0-99"; 10_000].join(",");
    run_file(
        &sc,
        &out,
        &["--set", "fleet.clients=100", "--trace", &repeated],
    );
    assert_eq!(
        csv_rows(&out.join("trace.csv"))
            .iter()
            .map(|r| r["client"].clone())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        100
    );
}
