//! Issue 13, severe item 2: counters fed by input used to be 16 bits wide, so a
//! step listing 65,536 content items, 70,000 applications or a retry count of 65,536
//! wrapped them and the run looped forever. Each test runs the binary under a time
//! limit: a list is now walked to its end, a retry count past the bound is refused
//! with a located error (exit 2), and no input holds the clock still forever. The
//! epoch that drops stale timers is wide enough for every try a task sequence can
//! make, and the indices a client stores in 8 or 16 bits (language, model) are
//! bounded where the scenario is read.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Longer than any of these runs takes (under a second each in release), far
/// shorter than a hang.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `fleetsim run` on `text` under [`LIMIT`]; returns its output and the result
/// folder (inside the returned temporary folder, which must be kept alive).
fn run_limited(text: &str) -> (Output, tempfile::TempDir, std::path::PathBuf) {
    let (dir, sc) = scenario(text);
    let out = dir.path().join("out");
    let mut child = Command::new(bin())
        .args(["run", sc.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fleetsim did not finish within {LIMIT:?}: a counter wrapped?");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().expect("output");
    (o, dir, out)
}

/// One client, one fast DP, `n` content items `C0..` of `kind` (1 KB each), no
/// transient failures unless `failure` says otherwise; `ts` is the task sequence.
fn scenario_with(n: usize, kind: &str, deployment: &str, client: &str, ts: &str) -> String {
    let mut text = format!(
        "name = \"wrap\"\n[simulation]\nhorizon = \"3650d\"\nbandwidth_interval = \"1d\"\n[fleet]\nclients = 1\n\
         [[distribution_points]]\nname = \"DP\"\nbandwidth = \"10Gbps\"\nmax_connections = 10\n\
         [deployment]\n{deployment}\n[client]\npolicy_poll = \"0s\"\n{client}\n"
    );
    for i in 0..n {
        text.push_str(&format!(
            "[[content]]\nid = \"C{i}\"\nkind = \"{kind}\"\nsize = \"1KB\"\n"
        ));
    }
    text.push_str("[task_sequence]\n");
    text.push_str(ts);
    text
}

fn ids(n: usize) -> String {
    (0..n)
        .map(|i| format!("\"C{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

const NO_FAILURES: &str = "transient_failure = { wired = 0.0, wireless = 0.0, vpn = 0.0 }";

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn outcomes(out: &std::path::Path) -> serde_json::Value {
    summary(out)["outcomes"].clone()
}

#[test]
fn u16_content_list_wrap() {
    let n = 65_536;
    let ts = format!(
        "[[task_sequence.steps]]\ntype = \"download\"\nname = \"D\"\ncontent = [{}]\n",
        ids(n)
    );
    let text = scenario_with(n, "package", "user_start = \"0s\"", NO_FAILURES, &ts);
    let (o, _dir, out) = run_limited(&text);
    assert_ok(&o);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["succeeded"], 1, "{}", s["outcomes"]);
    assert_eq!(s["bytes"]["total"], n as u64 * 1000, "every item once");
}

#[test]
fn u16_application_list_wrap() {
    let n = 70_000;
    let ts = format!(
        "[[task_sequence.steps]]\ntype = \"install_applications\"\nname = \"A\"\n\
         applications = [{}]\n",
        ids(n)
    );
    let text = scenario_with(n, "application", "user_start = \"0s\"", NO_FAILURES, &ts);
    let (o, _dir, out) = run_limited(&text);
    assert_ok(&o);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["succeeded"], 1, "{}", s["outcomes"]);
    assert_eq!(s["bytes"]["total"], n as u64 * 1000, "every item once");
}

#[test]
fn u16_precache_list_wrap() {
    // Pre-cache walks every referenced item a day before Install.
    let n = 65_537;
    let ts = format!(
        "[[task_sequence.steps]]\ntype = \"download\"\nname = \"D\"\ncontent = [{}]\n",
        ids(n)
    );
    let text = scenario_with(
        n,
        "package",
        "precache = true\nuser_start = \"1d\"",
        NO_FAILURES,
        &ts,
    );
    let (o, _dir, out) = run_limited(&text);
    assert_ok(&o);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["succeeded"], 1, "{}", s["outcomes"]);
    assert_eq!(s["bytes"]["precache"], n as u64 * 1000);
    assert_eq!(s["bytes"]["on_demand"], 0);
}

/// A step that always fails at once, retried `retries` times.
fn failing_step(retries: &str) -> String {
    format!(
        "[[task_sequence.steps]]\ntype = \"run\"\nname = \"R\"\nduration = \"0s\"\n\
         command = \"cmd /c exit 5\"\nretry_count = {retries}\n"
    )
}

#[test]
fn u16_retry_count_wrap() {
    // Past the bound: refused, located at the value.
    let text = scenario_with(
        0,
        "package",
        "user_start = \"0s\"",
        "",
        &failing_step("65536"),
    );
    let (o, _dir, out) = run_limited(&text);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("scenario.toml:") && err.contains("retry_count") && err.contains("65535"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written for a refused scenario");
    // At the bound: every try runs, then the step fails once.
    let text = scenario_with(
        0,
        "package",
        "user_start = \"0s\"",
        "",
        &failing_step("65535"),
    );
    let (o, _dir, out) = run_limited(&text);
    assert_ok(&o);
    assert_eq!(outcomes(&out)["failed"], 1);
    let steps = csv_rows(&out.join("steps.csv"));
    assert_eq!(steps[0]["ran"], "65536", "first try and 65,535 retries");
    assert_eq!(steps[0]["failed"], "1");
}

#[test]
fn u16_retry_count_wrap_in_an_xml_export() {
    let xml = "<sequence version=\"3.00\"><step type=\"SMS_TaskSequence_RunCommandLineAction\" \
               name=\"R\" retryCount=\"65536\"><action>cmd /c exit 5</action></step></sequence>";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ts.xml"), xml).unwrap();
    let text = "name = \"wrap\"\n[fleet]\nclients = 1\n[[distribution_points]]\nname = \"DP\"\n\
                bandwidth = \"1Gbps\"\n[task_sequence]\nxml = \"ts.xml\"\n";
    let sc = dir.path().join("scenario.toml");
    std::fs::write(&sc, text).unwrap();
    let o = fleetsim(&["validate", sc.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("ts.xml:1:") && err.contains("retryCount") && err.contains("65535"),
        "{err}"
    );
}

#[test]
fn u16_download_retry_count_wrap() {
    let client = format!("download_retry_count = 65536\n{NO_FAILURES}");
    let ts = "[[task_sequence.steps]]\ntype = \"download\"\nname = \"D\"\ncontent = [\"C0\"]\n";
    let text = scenario_with(1, "package", "user_start = \"0s\"", &client, ts);
    let (o, _dir, _out) = run_limited(&text);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("scenario.toml:") && err.contains("client.download_retry_count"),
        "{err}"
    );
}

#[test]
fn u16_download_retry_variable_wrap() {
    // SMSTSDownloadRetryCount set by the task sequence is held to the same bound:
    // every attempt fails, with no delay, so the download gives up after 65,536
    // attempts instead of retrying forever.
    let client = "download_retry_delay = \"0s\"\n\
                  transient_failure = { wired = 1.0, wireless = 1.0, vpn = 1.0 }";
    let ts = "[[task_sequence.steps]]\ntype = \"set_variable\"\nname = \"V\"\n\
              variable = \"SMSTSDownloadRetryCount\"\nvalue = \"70000\"\n\
              [[task_sequence.steps]]\ntype = \"download\"\nname = \"D\"\ncontent = [\"C0\"]\n";
    let text = scenario_with(1, "package", "user_start = \"0s\"", client, ts);
    let (o, _dir, out) = run_limited(&text);
    assert_ok(&o);
    assert_eq!(outcomes(&out)["failed"], 1, "gave up, not in progress");
    let failures = csv_rows(&out.join("failures.csv"));
    assert_eq!(failures[0]["phase"], "download", "{failures:?}");
}

#[test]
fn u16_epoch_wrap() {
    // A streamed step (access content directly from a DP) whose stream fails every
    // time is retried 65,535 times; each failed try moves the client's epoch on and
    // leaves that try's one-day timer behind, stale. With a 16-bit epoch the 65,536th
    // move wrapped it back to the first try's value, and that stale timer ended the
    // next, two-day step after one day.
    let client = "download_retry_count = 0\n\
                  transient_failure = { wired = 1.0, wireless = 1.0, vpn = 1.0 }";
    let ts = "[[task_sequence.steps]]\ntype = \"run\"\nname = \"Streamed\"\n\
              package = \"C0\"\nduration = \"1d\"\nretry_count = 65535\n\
              continue_on_error = true\n\
              [[task_sequence.steps]]\ntype = \"run\"\nname = \"Long\"\nduration = \"2d\"\n";
    let deployment = "user_start = \"0s\"\ndp_option = \"access_from_dp\"";
    let text = scenario_with(1, "package", deployment, client, ts);
    let (o, _dir, out) = run_limited(&text);
    assert_ok(&o);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["succeeded"], 1, "{}", s["outcomes"]);
    let steps = csv_rows(&out.join("steps.csv"));
    assert_eq!(steps[0]["ran"], "65536");
    assert_eq!(steps[0]["failed"], "1");
    let ts_max = s["latency"]["task_sequence"]["max"].as_f64().unwrap();
    assert!(
        ts_max >= 2.0 * 86_400.0,
        "the two-day step ended early: the task sequence took {ts_max} s"
    );
}

/// Runs `validate` on a one-DP scenario with `fleet` lines; returns exit code and
/// stderr.
fn validate_fleet(fleet: &str) -> (Option<i32>, String) {
    let text = format!(
        "name = \"n\"\n[fleet]\nclients = 1\n{fleet}\n[[distribution_points]]\nname = \"DP\"\n\
         bandwidth = \"1Gbps\"\n[task_sequence]\ntemplate = \"win10-inplace-upgrade\"\n"
    );
    let (_dir, sc) = scenario(&text);
    let o = fleetsim(&["validate", sc.to_str().unwrap()]);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn u8_language_index_bound() {
    // A client keeps its language as an 8-bit index: 256 languages fit, 257 are
    // refused at the table instead of at run time under `fleet.clients`.
    let table = |n: u32| {
        let items: Vec<String> = (1..=n).map(|i| format!("{i} = 1")).collect();
        format!("language = {{ {} }}", items.join(", "))
    };
    let (code, err) = validate_fleet(&table(256));
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = validate_fleet(&table(257));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("scenario.toml:4:")
            && err.contains("fleet.language: 257 labels, expected at most 256"),
        "{err}"
    );
}

#[test]
fn u16_model_index_bound() {
    let table = |n: u32| {
        let items: Vec<String> = (0..n).map(|i| format!("m{i} = 1")).collect();
        format!("model = {{ {} }}", items.join(", "))
    };
    let (code, err) = validate_fleet(&table(65_536));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("scenario.toml:4:")
            && err.contains("fleet.model: 65536 labels, expected at most 65535"),
        "{err}"
    );
}
