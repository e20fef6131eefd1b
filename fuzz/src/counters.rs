//! The `counters` target: the simulator's counters fed by input, at their boundaries.
//!
//! Issue 13 found three inputs that looped forever because a 16-bit counter wrapped:
//! a step listing 65,536 content items, one listing 70,000 applications, and
//! `retry_count = 65536`. Text-mutating fuzzers cannot reach such inputs within their
//! `-max_len`, so this target builds them: the input's bytes pick a counter and a
//! count near one of its boundaries (2^8, 2^16), and a one-client scenario with that
//! count is read and simulated. Either the reader refuses it with an error located
//! at the key, or the run ends with every item or try accounted for. A wrap shows as
//! a hang (libFuzzer's `-timeout`) or as a wrong count.

use std::path::Path;

use fleetsim::scenario::load_str;
use fleetsim::sim::{RunOptions, run};

/// The boundaries probed; the count is one of these plus an offset in -2..=2.
const BOUNDARIES: [u32; 4] = [1, 256, 65_536, 70_000];

/// The largest retry count the readers accept (`tasksequence::tree::MAX_RETRY_COUNT`
/// and `scenario::defaults::MAX_DOWNLOAD_RETRIES`).
const MAX_RETRIES: u32 = 65_535;

/// One client, one fast DP, `items` content items `C0..` of `kind`, 1 KB each.
fn scenario(items: u32, kind: &str, client: &str, steps: &str) -> String {
    let mut text = String::from(
        "name = \"counters\"\n[simulation]\nhorizon = \"3650d\"\nbandwidth_interval = \"1d\"\n\
         [fleet]\nclients = 1\n[[distribution_points]]\nname = \"DP\"\nbandwidth = \"10Gbps\"\n\
         [deployment]\nuser_start = \"0s\"\n[client]\npolicy_poll = \"0s\"\n",
    );
    text.push_str(client);
    text.push('\n');
    for i in 0..items {
        text.push_str(&format!(
            "[[content]]\nid = \"C{i}\"\nkind = \"{kind}\"\nsize = \"1KB\"\n"
        ));
    }
    text.push_str("[task_sequence]\n");
    text.push_str(steps);
    text
}

fn ids(n: u32) -> String {
    (0..n)
        .map(|i| format!("\"C{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

const NO_FAILURES: &str = "transient_failure = { wired = 0.0, wireless = 0.0, vpn = 0.0 }";
const ALL_FAIL: &str = "download_retry_delay = \"0s\"\n\
                        transient_failure = { wired = 1.0, wireless = 1.0, vpn = 1.0 }";

/// The check: byte 0 picks the counter, byte 1 the boundary, byte 2 the offset.
pub fn counters(data: &[u8]) {
    let [pick, b, off, ..] = *data else {
        return;
    };
    let n = BOUNDARIES[usize::from(b) % BOUNDARIES.len()]
        .saturating_add(u32::from(off % 5))
        .saturating_sub(2);
    let file = Path::new("counters.toml");
    let load = |text: &str| load_str(text, file, Path::new("/nonexistent/fleetsim-fuzz"), &[]);
    match pick % 6 {
        // A Download Package Content step, an Install Application step and pre-cache
        // each walk a list of `n` items: every item is downloaded exactly once.
        p @ 0..=2 => {
            let (kind, step, deployment) = match p {
                0 => ("package", "type = \"download\"\ncontent", ""),
                1 => (
                    "application",
                    "type = \"install_applications\"\napplications",
                    "",
                ),
                _ => ("package", "type = \"download\"\ncontent", "precache"),
            };
            let steps = format!(
                "[[task_sequence.steps]]\nname = \"S\"\n{step} = [{}]\n",
                ids(n)
            );
            let mut text = scenario(n, kind, NO_FAILURES, &steps);
            if deployment == "precache" {
                text = text.replace(
                    "user_start = \"0s\"",
                    "precache = true\nuser_start = \"1d\"",
                );
            }
            let s = load(&text).expect("a list of any length is valid");
            let r = run(&s, &RunOptions::default()).expect("runs");
            assert_eq!(r.outcomes.succeeded, 1, "{n} items: {:?}", r.outcomes);
            assert_eq!(r.bytes.total, u64::from(n) * 1000, "{n} items, each once");
            if deployment == "precache" {
                assert_eq!(
                    r.bytes.precache,
                    u64::from(n) * 1000,
                    "{n} items pre-cached"
                );
            }
        }
        // A step that fails at once, retried `n` times: `n + 1` tries, then one failure;
        // past the bound, a located refusal.
        3 => {
            let steps = format!(
                "[[task_sequence.steps]]\ntype = \"run\"\nname = \"R\"\nduration = \"0s\"\n\
                 command = \"cmd /c exit 5\"\nretry_count = {n}\n"
            );
            let text = scenario(0, "package", "", &steps);
            match load(&text) {
                Ok(s) => {
                    assert!(n <= MAX_RETRIES, "retry_count = {n} accepted");
                    let r = run(&s, &RunOptions::default()).expect("runs");
                    let step = &r.steps[0];
                    assert_eq!(
                        (step.ran, step.failed),
                        (u64::from(n) + 1, 1),
                        "{n} retries"
                    );
                }
                Err(e) => refused(&e, n, "retry_count"),
            }
        }
        // Downloads that always fail, retried `n` times (the setting, or the task
        // sequence variable, which is held to the same bound): the download gives up.
        p => {
            let (client, steps) = if p == 4 {
                (
                    format!("download_retry_count = {n}\n{ALL_FAIL}"),
                    String::new(),
                )
            } else {
                (
                    ALL_FAIL.to_string(),
                    format!(
                        "[[task_sequence.steps]]\ntype = \"set_variable\"\nname = \"V\"\n\
                         variable = \"SMSTSDownloadRetryCount\"\nvalue = \"{n}\"\n"
                    ),
                )
            };
            let steps = format!(
                "{steps}[[task_sequence.steps]]\ntype = \"download\"\nname = \"D\"\ncontent = [\"C0\"]\n"
            );
            match load(&scenario(1, "package", &client, &steps)) {
                Ok(s) => {
                    assert!(
                        p == 5 || n <= MAX_RETRIES,
                        "download_retry_count = {n} accepted"
                    );
                    let r = run(&s, &RunOptions::default()).expect("runs");
                    assert_eq!(r.outcomes.failed, 1, "{n} retries: {:?}", r.outcomes);
                    assert_eq!(r.failures.len(), 1);
                    assert_eq!(r.failures[0].phase, "download");
                }
                Err(e) => refused(&e, n, "download_retry_count"),
            }
        }
    }
}

/// A count past the bound is refused at its key, with a line and column.
fn refused(e: &fleetsim::diag::InputError, n: u32, key: &str) {
    assert!(n > MAX_RETRIES, "{key} = {n} refused: {e}");
    assert!(
        e.0.iter()
            .any(|d| d.key.ends_with(key) && d.line >= 1 && d.column >= 1),
        "not located at {key}: {e}"
    );
}
