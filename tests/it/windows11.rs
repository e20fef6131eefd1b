//! Windows 11 (issue 16): Setup's hardware block, the Windows 11 template, the real
//! fleet from an inventory, model-filtered pre-cache and the pre-cache shortfall,
//! and Setup's phases in `--trace`.

use std::collections::HashMap;
use std::path::Path;

use crate::common::*;

/// 0xC1900200: "does not meet the minimum requirements".
const BELOW_MINIMUM: &str = "3247440384";
/// Check Readiness failed (task sequence steps page).
const READINESS_FAILED: &str = "4316";

/// A scenario around `inventory` (written beside it) with one x64/1033 OS package of
/// release `os`, the given template and pre-cache setting.
fn with_inventory(
    inventory: &str,
    os: &str,
    template: &str,
    extra: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("devices.csv"), inventory).unwrap();
    let text = format!(
        r#"
name = "w11"
[simulation]
seed = 3
horizon = "3d"
[fleet]
inventory = "devices.csv"
[[distribution_points]]
name = "DP1"
bandwidth = "10Gbps"
[[content]]
id = "OS"
kind = "os_upgrade"
os = "{os}"
size = "4GB"
architecture = "x64"
language = 1033
{extra}
[deployment]
user_start = "1h"
[client]
policy_poll = "0s"
transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}
[task_sequence]
template = "{template}"
"#
    );
    let p = dir.path().join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    (dir, p)
}

fn run_per_client(p: &Path) -> (std::path::PathBuf, Vec<HashMap<String, String>>) {
    let out = p.parent().unwrap().join("out");
    run_file(p, &out, &["--per-client"]);
    let rows = csv_rows(&out.join("clients.csv"));
    (out, rows)
}

/// One device per requirement alone, some together, and eligible ones.
const DEVICES: &str = "name,architecture,tpm,firmware,cpu_supported,memory,system_drive\n\
OK-1,x64,2.0,uefi_secure_boot,true,8GiB,256GB\n\
TPM12,x64,1.2,uefi_secure_boot,true,8GiB,256GB\n\
NOTPM,x64,none,uefi_secure_boot,true,8GiB,256GB\n\
UEFI-NOSB,x64,2.0,uefi,true,8GiB,256GB\n\
BIOS,x64,2.0,bios,true,8GiB,256GB\n\
OLDCPU,x64,2.0,uefi_secure_boot,false,8GiB,256GB\n\
SMALLMEM,x64,2.0,uefi_secure_boot,true,2GiB,256GB\n\
SMALLDISK,x64,2.0,uefi_secure_boot,true,8GiB,50GB\n\
ALL,x64,none,bios,false,2GiB,50GB\n\
TPM-CPU,x64,1.2,uefi_secure_boot,false,8GiB,256GB\n\
OK-2,x64,2.0,uefi_secure_boot,true,16GiB,512GB\n";

fn eligible(name: &str) -> bool {
    name.starts_with("OK")
}

#[test]
fn exactly_the_ineligible_clients_get_0xc1900200_alone_and_together() {
    // The recommended template has no Windows 11 checks: Setup's scan decides, and
    // its code fails the task sequence through "Fail on compatibility issues".
    let (_d, p) = with_inventory(DEVICES, "win11", "win10-inplace-upgrade-recommended", "");
    let (out, rows) = run_per_client(&p);
    assert_eq!(rows.len(), 11);
    for r in &rows {
        let name = &r["name"];
        if eligible(name) {
            assert_eq!(
                (r["outcome"].as_str(), r["exit_code"].as_str()),
                ("succeeded", "0"),
                "{name}"
            );
        } else {
            assert_eq!(r["exit_code"], BELOW_MINIMUM, "{name}: {r:?}");
            assert_eq!(r["outcome"], "failed", "{name}: no rollback");
        }
    }
    let fails = csv_rows(&out.join("failures.csv"));
    let setup = fails
        .iter()
        .find(|f| f["code"] == BELOW_MINIMUM)
        .expect("0xC1900200 row");
    assert_eq!(setup["name"], "below minimum requirements");
    // The readiness table counts each blocked client once, under its first cause.
    let s = summary(&out);
    // summary.json names the code beside its count, not only the hex.
    assert_eq!(s["failures_by_code"]["0xC1900200"].as_u64(), Some(9));
    assert_eq!(
        s["failure_names"]["0xC1900200"].as_str(),
        Some("below minimum requirements")
    );
    let w = &s["windows11_readiness"];
    assert_eq!(
        (
            w["clients"].as_u64(),
            w["eligible"].as_u64(),
            w["blocked"].as_u64()
        ),
        (Some(11), Some(2), Some(9))
    );
    let first = &w["first_cause"];
    let sum: u64 = [
        "architecture",
        "system_drive",
        "memory",
        "tpm",
        "processor",
        "firmware",
    ]
    .iter()
    .map(|k| first[k].as_u64().unwrap())
    .sum();
    assert_eq!(sum, 9);
    // ALL misses everything and counts under system_drive, Setup's first check.
    assert_eq!(first["system_drive"].as_u64(), Some(2));
    assert_eq!(w["any_cause"]["tpm"].as_u64(), Some(4));
    assert_eq!(w["any_cause"]["firmware"].as_u64(), Some(3));
    // The terminal and the report show the same table, the failure by its name.
    let again = p.parent().unwrap().join("again");
    let text = ok(&["run", p.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    assert!(text.contains("2 of 11 clients eligible"), "{text}");
    ok(&["report", again.to_str().unwrap()]);
    let html = std::fs::read_to_string(again.join("report.html")).unwrap();
    assert!(
        html.contains("Windows 11 readiness") && html.contains("blocked, first cause"),
        "no readiness table in the report"
    );
    assert!(html.contains("below minimum requirements"));
}

#[test]
fn an_x86_client_has_no_windows_11_package_and_counts_under_architecture() {
    let devices = "name,architecture\nX64-1,x64\nX86-1,x86\n";
    let (_d, p) = with_inventory(devices, "win11", "win11-inplace-upgrade", "");
    let (out, rows) = run_per_client(&p);
    let by_name = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(by_name("X64-1")["outcome"], "succeeded");
    // 0x80070490: no OS upgrade package matches the client's architecture.
    assert_eq!(by_name("X86-1")["exit_code"], "2147943568");
    let w = &summary(&out)["windows11_readiness"];
    assert_eq!(w["first_cause"]["architecture"].as_u64(), Some(1));
    assert_eq!(w["blocked"].as_u64(), Some(1));
}

#[test]
fn a_windows_10_package_checks_no_windows_11_requirement() {
    let (_d, p) = with_inventory(DEVICES, "win10", "win10-inplace-upgrade-recommended", "");
    let (out, rows) = run_per_client(&p);
    for r in &rows {
        assert_eq!(r["outcome"], "succeeded", "{r:?}");
    }
    assert!(summary(&out).get("windows11_readiness").is_none());
}

#[test]
fn the_template_stops_tpm_and_firmware_failures_before_the_package_download() {
    let (_d, p) = with_inventory(DEVICES, "win11", "win11-inplace-upgrade", "");
    let (_out, rows) = run_per_client(&p);
    let by: HashMap<&str, &HashMap<String, String>> =
        rows.iter().map(|r| (r["name"].as_str(), r)).collect();
    // No TPM 2.0 or BIOS: Check Readiness fails, nothing was downloaded.
    for name in ["TPM12", "NOTPM", "BIOS", "ALL", "TPM-CPU"] {
        let r = by[name];
        assert_eq!(r["exit_code"], READINESS_FAILED, "{name}");
        assert_eq!(
            r["bytes_downloaded"], "0",
            "{name}: downloaded before the check"
        );
    }
    // The template's 4096 MB memory check (an older check, which keeps E_FAIL).
    assert_eq!(by["SMALLMEM"]["exit_code"], "2147500037");
    assert_eq!(by["SMALLMEM"]["bytes_downloaded"], "0");
    // The rest of the ineligible ones reach Setup's scan, which blocks them.
    for name in ["UEFI-NOSB", "OLDCPU", "SMALLDISK"] {
        assert_eq!(by[name]["exit_code"], BELOW_MINIMUM, "{name}");
    }
    for name in ["OK-1", "OK-2"] {
        assert_eq!(by[name]["outcome"], "succeeded", "{name}");
    }
}

#[test]
fn inventory_rows_drive_the_clients_one_by_one() {
    let inv = "name,site,architecture,language,model,memory,system_drive,tpm,firmware,cpu_supported,network\n\
A-1,Branch,64-bit,1031,Latitude 7490,8388608,244140,2.0,uefi,true,vpn\n\
A-2,HQ,x86,1033,EliteBook 840 G8,4GiB,128GB,1.2,bios,false,wired\n\
A-3,hq,x64,1033,Latitude 7490,16GiB,512GB,none,uefi_secure_boot,true,wireless\n";
    let extra = "[[sites]]\nname = \"HQ\"\ndistribution_points = [\"DP1\"]\n\
                 [[sites]]\nname = \"Branch\"\ndistribution_points = [\"DP1\"]\n";
    let (_d, p) = with_inventory(inv, "win10", "win10-inplace-upgrade", extra);
    let (_out, rows) = run_per_client(&p);
    let got: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| {
            [
                "client",
                "name",
                "site",
                "architecture",
                "language",
                "model",
                "memory_bytes",
                "system_drive_bytes",
                "tpm",
                "firmware",
                "cpu_supported",
                "network",
            ]
            .iter()
            .map(|k| r[*k].as_str())
            .collect()
        })
        .collect();
    assert_eq!(
        got,
        vec![
            vec![
                "0",
                "A-1",
                "Branch",
                "x64",
                "1031",
                "Latitude 7490",
                "8589934592",
                "255999344640",
                "2.0",
                "uefi",
                "true",
                "vpn"
            ],
            vec![
                "1",
                "A-2",
                "HQ",
                "x86",
                "1033",
                "EliteBook 840 G8",
                "4294967296",
                "127999672320",
                "1.2",
                "bios",
                "false",
                "wired"
            ],
            vec![
                "2",
                "A-3",
                "HQ",
                "x64",
                "1033",
                "Latitude 7490",
                "17179869184",
                "511999737856",
                "none",
                "uefi_secure_boot",
                "true",
                "wireless"
            ],
        ]
    );
}

#[test]
fn clients_must_match_the_inventory_rows() {
    let (_d, p) = with_inventory("name\nA\nB\n", "win10", "win10-inplace-upgrade", "");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("[fleet]\n", "[fleet]\nclients = 3\n");
    std::fs::write(&p, text).unwrap();
    let o = fleetsim(&["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("fleet.clients") && err.contains("lists 2 devices"),
        "{err}"
    );
}

#[test]
fn model_filtered_precache_moves_the_bytes_it_should() {
    // Two models, a driver package each, one for no model in the fleet.
    let inv = "name,model\nA,HP EliteBook 840 G8\nB,HP EliteBook 840 G8\nC,Dell Latitude 5420\n";
    let extra = r#"
[[content]]
id = "DRV-HP"
kind = "driver"
size = "1GB"
model = "elitebook 840"
[[content]]
id = "DRV-DELL"
kind = "driver"
size = "700MB"
model = "Latitude 5420"
[[content]]
id = "DRV-LENOVO"
kind = "driver"
size = "900MB"
model = "ThinkPad"
"#;
    let (_d, p) = with_inventory(inv, "win10", "win10-inplace-upgrade", extra);
    let text = std::fs::read_to_string(&p).unwrap().replace(
        "user_start = \"1h\"",
        "user_start = \"1h\"\nprecache = true",
    );
    std::fs::write(&p, text).unwrap();
    let (out, _) = run_per_client(&p);
    let s = summary(&out);
    // Pre-cache: each client's OS package and its model's drivers only (LIKE
    // '%model%', ignoring case).
    let os = 4_000_000_000u64;
    let want = 3 * os + 2 * 1_000_000_000 + 700_000_000;
    assert_eq!(
        s["bytes"]["precache"].as_u64(),
        Some(want),
        "{}",
        s["bytes"]
    );
    // The Upgrade OS step stages the same drivers, already cached: nothing on demand.
    assert_eq!(s["bytes"]["on_demand"].as_u64(), Some(0), "{}", s["bytes"]);
    assert_eq!(
        s["bytes"]["by_kind"]["driver"].as_u64(),
        Some(2_700_000_000)
    );
    assert!(s.get("precache_shortfall").is_none());
}

#[test]
fn content_that_does_not_fit_the_cache_is_reported_with_the_cache_that_would() {
    let inv = "name\nA\nB\nC\n";
    let (_d, p) = with_inventory(inv, "win11", "win10-inplace-upgrade", "");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("size = \"4GB\"", "size = \"6.2GB\"")
        .replace(
            "user_start = \"1h\"",
            "user_start = \"1h\"\nprecache = true",
        );
    std::fs::write(&p, text).unwrap();
    let (out, _) = run_per_client(&p);
    let s = summary(&out);
    let sf = &s["precache_shortfall"][0];
    assert_eq!(sf["content"], "OS");
    assert_eq!(sf["clients"].as_u64(), Some(3));
    assert_eq!(sf["cache_needed_bytes"].as_u64(), Some(6_200_000_000));
    assert_eq!(s["bytes"]["precache"].as_u64(), Some(0));
    // validate says it before any run, with the cache size that fits (5,913 MB).
    let v = ok(&["validate", p.to_str().unwrap()]);
    assert!(
        v.contains("3 clients could not pre-cache OS") && v.contains("a cache of 5913 MB"),
        "{v}"
    );
}

#[test]
fn traced_setup_phases_of_a_rolled_back_client_come_in_order_and_sum_to_the_step() {
    let (_d, p) = with_inventory(
        "name,incompatible_driver\nA,1\n",
        "win10",
        "win10-inplace-upgrade",
        "",
    );
    let out = p.parent().unwrap().join("out");
    run_file(&p, &out, &["--trace", "0"]);
    let rows = csv_rows(&out.join("trace.csv"));
    let upgrade = "Upgrade the Operating System / Upgrade Operating System";
    let at = |event: &str| -> f64 {
        rows.iter()
            .find(|r| r["event"] == event && r["path"] == upgrade)
            .unwrap_or_else(|| panic!("no {event} row: {rows:?}"))["time_s"]
            .parse()
            .unwrap()
    };
    let (step_start, end) = (at("start"), at("rollback"));
    let phases: Vec<(&str, f64, f64)> = rows
        .iter()
        .filter(|r| r["event"] == "setup_phase")
        .map(|r| {
            let (name, d) = r["detail"].split_once(' ').unwrap();
            (
                name,
                r["time_s"].parse().unwrap(),
                d.trim_end_matches('s').parse().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = phases.iter().map(|p| p.0).collect();
    assert_eq!(
        names,
        [
            "compat_scan",
            "downlevel",
            "restart",
            "safeos",
            "first_boot",
            "rollback"
        ]
    );
    // Setup starts once the step's content is local (the `start` row is before the
    // download); each phase starts where the previous ended, and together they end
    // with the step.
    let mut t = phases[0].1;
    assert!(t >= step_start);
    for (name, at, d) in &phases {
        assert!((at - t).abs() < 1e-6, "{name} at {at}, expected {t}");
        t += d;
    }
    assert!(
        (t - end).abs() < 1e-6,
        "phases end at {t}, the step at {end}"
    );
    // The rows are in time order.
    let times: Vec<f64> = rows.iter().map(|r| r["time_s"].parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn the_shipped_windows_11_scenario_validates_and_names_its_blockers() {
    let p = repo().join("scenarios/win11.toml");
    let v = ok(&["validate", p.to_str().unwrap()]);
    assert!(
        v.contains("Windows 11 readiness:") && v.contains("TPM 2.0"),
        "{v}"
    );
    assert!(v.contains("could not pre-cache W11-24H2-X64-1033"), "{v}");
}
