//! Helpers: run the binary, write scenarios, read outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fleetsim"))
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs fleetsim with `args`, no stdin.
pub fn fleetsim(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("fleetsim runs")
}

/// Runs fleetsim and asserts success, returning stdout.
pub fn ok(args: &[&str]) -> String {
    let o = fleetsim(args);
    assert!(
        o.status.success(),
        "fleetsim {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes a scenario into a fresh temporary folder.
pub fn scenario(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("scenario.toml");
    std::fs::write(&p, text).expect("write scenario");
    (dir, p)
}

/// Runs the scenario file `sc` into `out` with `--quiet` plus `extra`.
pub fn run_file(sc: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

/// Writes `text` as a scenario, runs it with `--per-client --quiet` plus `extra`, and
/// returns the temporary folder (keep it alive) and the result folder.
pub fn run_scenario(text: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (dir, p) = scenario(text);
    let out = dir.path().join("out");
    let mut args = vec![
        "run",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--per-client",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    ok(&args);
    (dir, out)
}

pub fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Rows of a CSV as maps from header to cell.
pub fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A one-DP scenario where every client downloads one content item at a fixed time,
/// with the given fleet/network/site/DP blocks.
pub fn one_download(
    clients: u64,
    network: &str,
    caps: &str,
    sites_and_dps: &str,
    size: &str,
) -> String {
    format!(
        r#"
name = "test"
[simulation]
seed = 1
horizon = "2d"
bandwidth_interval = "10s"
[fleet]
clients = {clients}
network = {network}
exact_shares = true
[network]
{caps}
{sites_and_dps}
[[content]]
id = "PKG"
kind = "package"
size = "{size}"
[deployment]
user_start = "0s"
[client]
policy_poll = "0s"
transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}
[task_sequence]
[[task_sequence.steps]]
type = "download"
name = "Download"
content = ["PKG"]
"#
    )
}

/// Sends SIGINT (Ctrl-C) to `child` and waits until it has exited, failing the test
/// if that takes longer than `limit`. The exit status is then `child.wait()`'s.
pub fn interrupt_and_wait(child: &mut std::process::Child, limit: std::time::Duration, what: &str) {
    signal_and_wait(child, "INT", limit, what);
}

/// Sends signal `sig` (`INT`, `TERM`, `HUP`) to `child` and waits until it has exited,
/// failing the test if that takes longer than `limit`.
pub fn signal_and_wait(
    child: &mut std::process::Child,
    sig: &str,
    limit: std::time::Duration,
    what: &str,
) {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{sig} failed");
    let start = std::time::Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        assert!(
            start.elapsed() < limit,
            "{what} did not stop after SIG{sig}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Names in `dir`, sorted (hidden ones included).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Called by a test whose external tool (nginx, Chromium, a terminal, Slurm...) is not
/// on this machine. Locally the test is skipped with a loud message; with `CI=true`
/// it fails, so CI never passes a test it did not run (`.ci/run` installs the tools).
pub fn missing_tool(test: &str, why: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "{test}: {why}, and CI=true: a test never passes without running (.ci/run installs it)"
    );
    eprintln!("\n*** SKIPPED {test}: {why} ***\n");
}
