//! The malformed-inventory corpus (`tests/data/inventories/bad`, expectations in its
//! `EXPECT`), checked through the binary as a user meets it: exit code 2, the
//! inventory's `file:line:column` in the message, nothing written at `--out`. Plus
//! a huge file of garbage, refused after its first 64 KiB.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn scenario_for(dir: &Path, inventory: &Path) -> std::path::PathBuf {
    let text = format!(
        "name = \"inv\"\n[fleet]\ninventory = {:?}\n[[sites]]\nname = \"HQ\"\n\
         distribution_points = [\"DP1\"]\n[[distribution_points]]\nname = \"DP1\"\n\
         site = \"HQ\"\nbandwidth = \"1Gbps\"\n[task_sequence]\n[[task_sequence.steps]]\n\
         type = \"run\"\nname = \"r\"\n",
        inventory.to_string_lossy()
    );
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `fleetsim run` with a deadline: bad input must never hang.
fn run_bounded(sc: &Path, out: &Path) -> std::process::Output {
    let child = Command::new(bin())
        .args([
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let id = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "pid {id} took too long"
    );
    out
}

#[test]
fn every_malformed_inventory_exits_2_at_its_line_and_column_writing_nothing() {
    let corpus = repo().join("tests/data/inventories/bad");
    let expect = std::fs::read_to_string(corpus.join("EXPECT")).unwrap();
    let mut n = 0;
    for line in expect
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = line.split_whitespace();
        let (file, at) = (parts.next().unwrap(), parts.next().unwrap());
        let needle = parts.collect::<Vec<_>>().join(" ");
        let dir = tempfile::tempdir().unwrap();
        let inv = corpus.join(file);
        let sc = scenario_for(dir.path(), &inv);
        let out = dir.path().join("out");
        let o = run_bounded(&sc, &out);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
        let loc = format!("{}:{at}:", inv.display());
        assert!(err.contains(&loc), "{file}: expected {loc} in {err}");
        assert!(
            err.contains(&needle),
            "{file}: expected {needle:?} in {err}"
        );
        assert!(!out.exists(), "{file}: --out was written");
        n += 1;
    }
    let files = std::fs::read_dir(&corpus).unwrap().count() - 1; // EXPECT itself
    assert_eq!(n, files, "every corpus file has an EXPECT line");
}

#[test]
fn a_huge_garbage_inventory_is_refused_without_being_read_whole() {
    // 64 MiB of bytes without a line break (a disk image, a binary named .csv).
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("devices.csv");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&inv).unwrap());
        let block = vec![0xA5u8; 1 << 20];
        for _ in 0..64 {
            f.write_all(&block).unwrap();
        }
    }
    let sc = scenario_for(dir.path(), &inv);
    let out = dir.path().join("out");
    let o = run_bounded(&sc, &out);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:1:", inv.display())), "{err}");
    assert!(err.contains("line longer than 65536 bytes"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_missing_inventory_is_reported_at_the_key_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario_for(dir.path(), &dir.path().join("nope.csv"));
    let o = fleetsim(&["validate", sc.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("scenario.toml:3:")
            && err.contains("fleet.inventory")
            && err.contains("nope.csv"),
        "{err}"
    );
}

#[test]
fn a_utf8_bom_from_excel_or_powershell_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("devices.csv");
    std::fs::write(&inv, b"\xEF\xBB\xBFName,TPM\r\nPC-1,2.0\r\nPC-2,none\r\n").unwrap();
    let sc = scenario_for(dir.path(), &inv);
    let v = ok(&["validate", sc.to_str().unwrap()]);
    assert!(v.contains("2 clients"), "{v}");
}
