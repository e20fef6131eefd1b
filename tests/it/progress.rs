//! The progress bar: drawn on a terminal, never on a pipe or with `--quiet`.

use std::process::Command;

use crate::common::*;

fn run_args(out: &std::path::Path) -> Vec<String> {
    vec![
        "run".into(),
        repo().join("scenarios/precache.toml").display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ]
}

#[test]
fn nothing_on_stderr_when_it_is_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(bin())
        .args(run_args(&dir.path().join("r")))
        .env("FLEETSIM_PROGRESS_DELAY_MS", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs fleetsim under `script` (a pseudo-terminal); `None` when `script` is missing.
fn on_a_terminal(args: &[String]) -> Option<String> {
    let script = std::path::Path::new("/usr/bin/script");
    if !script.exists() {
        crate::common::missing_tool("progress bar terminal test", "/usr/bin/script not found");
        return None;
    }
    let mut line = format!("'{}'", bin().display());
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let o = Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .env("FLEETSIM_PROGRESS_DELAY_MS", "0")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn a_terminal_shows_the_bar_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let args = run_args(&dir.path().join("r"));
    let Some(text) = on_a_terminal(&args) else {
        return;
    };
    assert!(text.contains("clients done"), "no progress bar in:\n{text}");
    assert!(text.contains("/21.0d"), "no horizon in:\n{text}");
    let mut quiet = args.clone();
    quiet.push("--quiet".into());
    let Some(text) = on_a_terminal(&quiet) else {
        return;
    };
    assert!(
        !text.contains("clients done"),
        "bar shown with --quiet:\n{text}"
    );
}
