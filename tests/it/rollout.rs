//! Rollout semantics (issue "rollout semantics"): pre-cache, DP options, deadlines,
//! Check Readiness thresholds, the recommended template's assessment, retries.

use std::collections::HashMap;

use crate::common::*;

/// 2 architectures x 3 languages, every OS package a distinct size, two driver packages.
const SIX_PACKAGES: &str = r#"
[[content]]
id = "OS-X64-1033"
kind = "os_upgrade"
size = 3_000_000_001
architecture = "x64"
language = 1033
[[content]]
id = "OS-X64-1031"
kind = "os_upgrade"
size = 3_000_000_002
architecture = "x64"
language = 1031
[[content]]
id = "OS-X64-1036"
kind = "os_upgrade"
size = 3_000_000_003
architecture = "x64"
language = 1036
[[content]]
id = "OS-X86-1033"
kind = "os_upgrade"
size = 2_000_000_004
architecture = "x86"
language = 1033
[[content]]
id = "OS-X86-1031"
kind = "os_upgrade"
size = 2_000_000_005
architecture = "x86"
language = 1031
[[content]]
id = "OS-X86-1036"
kind = "os_upgrade"
size = 2_000_000_006
architecture = "x86"
language = 1036
[[content]]
id = "DRV-A"
kind = "driver"
size = 100_000_000
[[content]]
id = "DRV-B"
kind = "driver"
size = 200_000_000
"#;

fn os_size(arch: &str, lang: &str) -> u64 {
    let base = if arch == "x64" {
        3_000_000_000
    } else {
        2_000_000_003
    };
    base + match lang {
        "1033" => 1,
        "1031" => 2,
        _ => 3,
    }
}

fn fleet_6(clients: u64, deployment: &str, ts: &str) -> String {
    format!(
        r#"
name = "six"
[simulation]
seed = 5
horizon = "10d"
bandwidth_interval = "1h"
[fleet]
clients = {clients}
architecture = {{ x64 = 0.5, x86 = 0.5 }}
language = {{ 1033 = 0.4, 1031 = 0.3, 1036 = 0.3 }}
free_disk = "100GB"
[[distribution_points]]
name = "DP1"
bandwidth = "40Gbps"
{SIX_PACKAGES}
[deployment]
{deployment}
[client]
transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}
cache_size = "20GB"
[task_sequence]
{ts}
"#
    )
}

#[test]
fn precache_downloads_exactly_the_matching_os_package_and_every_driver() {
    // Install comes after the horizon: only pre-cache moves bytes.
    let text = fleet_6(
        600,
        "precache = true\nuser_start = \"30d\"",
        "template = \"win10-inplace-upgrade-recommended\"",
    );
    let (_d, out) = run_scenario(&text, &[]);
    let rows = csv_rows(&out.join("clients.csv"));
    assert_eq!(rows.len(), 600);
    let mut combos = HashMap::new();
    for r in &rows {
        let expect = os_size(&r["architecture"], &r["language"]) + 100_000_000 + 200_000_000;
        assert_eq!(
            r["bytes_downloaded"].parse::<u64>().unwrap(),
            expect,
            "{r:?}"
        );
        *combos
            .entry((r["architecture"].clone(), r["language"].clone()))
            .or_insert(0) += 1;
    }
    assert_eq!(
        combos.len(),
        6,
        "the fleet covers 2 architectures x 3 languages"
    );
    let s = summary(&out);
    assert_eq!(s["bytes"]["on_demand"], 0);
    assert_eq!(s["latency"]["precache"]["count"], 600);
    assert_eq!(s["outcomes"]["not_started"], 600);
}

#[test]
fn a_client_without_a_matching_os_package_fails_with_a_clear_reason() {
    let text = fleet_6(
        50,
        "user_start = \"1h\"",
        "template = \"win10-inplace-upgrade\"",
    )
    .replace(
        "language = { 1033 = 0.4, 1031 = 0.3, 1036 = 0.3 }",
        "language = { 1041 = 1.0 }",
    );
    let (_d, out) = run_scenario(&text, &[]);
    let fails = std::fs::read_to_string(out.join("failures.csv")).unwrap();
    assert!(fails.contains("0x80070490"), "{fails}");
    assert!(
        fails.contains("no OS upgrade package matches architecture and language"),
        "{fails}"
    );
    assert_eq!(summary(&out)["outcomes"]["failed"], 50);
}

fn bytes_before(out: &std::path::Path, t: f64) -> (f64, f64) {
    let mut before = 0.0;
    let mut after = 0.0;
    for r in csv_rows(&out.join("bandwidth.csv")) {
        let bytes = r["bps"].parse::<f64>().unwrap() / 8.0 * 3600.0;
        if r["time_s"].parse::<f64>().unwrap() < t {
            before += bytes
        } else {
            after += bytes
        }
    }
    (before, after)
}

#[test]
fn precache_moves_dp_traffic_before_install_and_shrinks_install_wait() {
    // Everyone gets the policy in the first hour and clicks Install at 24 h.
    let common = "user_start = \"24h\"";
    let ts = "template = \"win10-inplace-upgrade-recommended\"";
    let (_a, pre) = run_scenario(
        &fleet_6(400, &format!("precache = true\n{common}"), ts),
        &[],
    );
    let (_b, dem) = run_scenario(
        &fleet_6(400, &format!("precache = false\n{common}"), ts),
        &[],
    );
    let (pre_before, pre_after) = bytes_before(&pre, 24.0 * 3600.0);
    let (dem_before, dem_after) = bytes_before(&dem, 24.0 * 3600.0);
    assert!(
        pre_before > 0.99 * (pre_before + pre_after),
        "pre-cache: {pre_before} before, {pre_after} after Install"
    );
    assert!(
        dem_before < 1.0 && dem_after > 0.0,
        "on demand: {dem_before} before, {dem_after} after"
    );
    let wait = |d: &std::path::Path| {
        summary(d)["latency"]["install_wait"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(
        wait(&pre) < wait(&dem),
        "install_wait pre-cache {} vs on-demand {}",
        wait(&pre),
        wait(&dem)
    );
    assert!(summary(&pre)["bytes"]["precache"].as_u64().unwrap() > 0);
    assert_eq!(summary(&dem)["bytes"]["precache"], 0);
}

#[test]
fn required_deployment_starts_everyone_left_at_the_deadline() {
    let dep = "purpose = \"required\"\ndeadline = \"2d\"\nuser_start = { dist = \"lognormal\", median = \"5d\", sigma = 1.0 }";
    let (_d, out) = run_scenario(
        &fleet_6(500, dep, "template = \"win10-inplace-upgrade\""),
        &[],
    );
    let rows = csv_rows(&out.join("clients.csv"));
    let mut at_deadline = 0;
    for r in &rows {
        let install: f64 = r["install_s"].parse().unwrap();
        assert!(
            install <= 172_800.0,
            "nobody starts after the deadline: {r:?}"
        );
        if install == 172_800.0 {
            at_deadline += 1;
        }
    }
    assert!(
        at_deadline > 300,
        "most clients were started by the deadline: {at_deadline}"
    );
    // The DP sees the spike in the hour of the deadline.
    let bw = csv_rows(&out.join("bandwidth.csv"));
    let peak = bw
        .iter()
        .max_by(|a, b| {
            a["bps"]
                .parse::<f64>()
                .unwrap()
                .total_cmp(&b["bps"].parse::<f64>().unwrap())
        })
        .unwrap();
    assert_eq!(peak["time_s"], "172800", "peak bucket {peak:?}");
}

#[test]
fn check_readiness_failures_equal_clients_under_their_architectures_threshold() {
    let text = fleet_6(
        2000,
        "user_start = \"1h\"",
        "template = \"win10-inplace-upgrade-recommended\"",
    )
    .replace(
        "free_disk = \"100GB\"",
        "free_disk = { dist = \"uniform\", min = \"10GiB\", max = \"30GiB\" }",
    );
    let (_d, out) = run_scenario(&text, &[]);
    let under = csv_rows(&out.join("clients.csv"))
        .iter()
        .filter(|r| {
            let mb = r["free_disk_bytes"].parse::<u64>().unwrap() / 1_048_576;
            mb < if r["architecture"] == "x64" {
                20_480
            } else {
                16_384
            }
        })
        .count() as u64;
    let failures = csv_rows(&out.join("failures.csv"));
    let cr: u64 = failures
        .iter()
        .filter(|r| r["phase"] == "check_readiness")
        .map(|r| r["count"].parse::<u64>().unwrap())
        .sum();
    assert!(under > 100, "the fleet straddles the thresholds");
    assert_eq!(cr, under);
}

#[test]
fn recommended_assessment_stops_incompatible_apps_before_drivers_or_restart() {
    let text = fleet_6(
        1000,
        "user_start = \"1h\"",
        "template = \"win10-inplace-upgrade-recommended\"",
    )
    .replace(
        "free_disk = \"100GB\"",
        "free_disk = \"100GB\"\nincompatible_app = 0.1\nexact_shares = true",
    );
    let (_d, out) = run_scenario(&text, &[]);
    let rows = csv_rows(&out.join("clients.csv"));
    let blocked: Vec<_> = rows
        .iter()
        .filter(|r| r["exit_code"] == "3247440392")
        .collect();
    assert_eq!(
        blocked.len(),
        100,
        "exactly the 10% with an incompatible app"
    );
    for r in &blocked {
        assert_eq!(r["outcome"], "failed");
        // Only the OS package was downloaded (for the scan): no drivers.
        assert_eq!(
            r["bytes_downloaded"].parse::<u64>().unwrap(),
            os_size(&r["architecture"], &r["language"]),
            "{r:?}"
        );
    }
    let clean = rows
        .iter()
        .filter(|r| r["exit_code"] != "3247440392")
        .count();
    assert_eq!(
        rows.iter().filter(|r| r["outcome"] == "succeeded").count(),
        clean
    );
    let steps = csv_rows(&out.join("steps.csv"));
    let restart = steps
        .iter()
        .find(|s| s["path"] == "Upgrade the Operating System / Restart Computer")
        .unwrap();
    assert_eq!(restart["ran"], "900", "the blocked clients never restart");
}

#[test]
fn retries_are_tried_retry_count_plus_one_times_delay_apart_then_the_step_fails() {
    for (count, delay) in [(2u64, 15u64), (4, 10)] {
        // A 1-byte package fails instantly on every attempt: the task sequence takes
        // exactly retry_count x retry_delay.
        let text = one_download(20, "{ wired = 1.0 }", "wired = \"1Gbps\"", "[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"1Gbps\"", "1B")
            .replace("transient_failure = { wired = 0.0, wireless = 0.0, vpn = 0.0 }", &format!("transient_failure = {{ wired = 1.0 }}\ndownload_retry_count = {count}\ndownload_retry_delay = \"{delay}s\""));
        let (_d, out) = run_scenario(&text, &[]);
        for r in csv_rows(&out.join("clients.csv")) {
            assert_eq!(r["outcome"], "failed");
            assert_eq!(r["exit_code"], "2147954402", "0x80072EE2");
            let took = r["end_s"].parse::<f64>().unwrap() - r["install_s"].parse::<f64>().unwrap();
            assert_eq!(
                took,
                (count * delay) as f64,
                "{count} retries {delay}s apart"
            );
        }
        let f = std::fs::read_to_string(out.join("failures.csv")).unwrap();
        assert!(f.contains("download"), "{f}");
    }
}

#[test]
fn windows_server_without_ignore_dismissable_hangs_until_the_timeout() {
    let text = fleet_6(
        30,
        "user_start = \"1h\"\ntimeout = \"12h\"",
        "template = \"win10-inplace-upgrade\"",
    )
    .replace(
        "free_disk = \"100GB\"",
        "free_disk = \"100GB\"\nos = { server2012r2 = 1.0 }",
    )
    .replace(
        "[[distribution_points]]",
        "[[content]]\nid = \"x\"\nkind = \"package\"\nsize = 1\n[[distribution_points]]",
    );
    // The wizard's Check Readiness asks for OS type CLIENT: servers stop there.
    let (_d, out) = run_scenario(&text, &[]);
    assert_eq!(summary(&out)["outcomes"]["failed"], 30);
    assert!(
        std::fs::read_to_string(out.join("failures.csv"))
            .unwrap()
            .contains("check_readiness")
    );
    // An upgrade step without the Check Readiness: without "ignore dismissable
    // messages" Setup waits for a click that never comes, until the 12 h timeout.
    let text2 = text.replace(
        "template = \"win10-inplace-upgrade\"",
        r#"
[[task_sequence.steps]]
type = "upgrade_os"
name = "Upgrade to Server 2016"
"#,
    );
    let (_d2, out2) = run_scenario(&text2, &[]);
    let f = std::fs::read_to_string(out2.join("failures.csv")).unwrap();
    assert!(f.contains("0x800705B4") && f.contains("timeout"), "{f}");
    let text3 = text2.replace(
        "name = \"Upgrade to Server 2016\"",
        "name = \"Upgrade to Server 2016\"\nignore_dismissable = true",
    );
    let (_d3, out3) = run_scenario(&text3, &[]);
    assert_eq!(summary(&out3)["outcomes"]["succeeded"], 30);
}

#[test]
fn third_party_encryption_needs_reflect_drivers() {
    let base = fleet_6(
        200,
        "user_start = \"1h\"",
        "template = \"win10-inplace-upgrade\"",
    )
    .replace(
        "free_disk = \"100GB\"",
        "free_disk = \"100GB\"\nthird_party_encryption = 0.25\nexact_shares = true",
    );
    let (_d, out) = run_scenario(&base, &[]);
    assert_eq!(summary(&out)["outcomes"]["rolled_back"], 50);
    let with_option = base.replace(
        "template = \"win10-inplace-upgrade\"",
        "template = \"win10-inplace-upgrade\"\nvariables = { OSDSetupAdditionalUpgradeOptions = \"/ReflectDrivers C:\\\\Drivers\" }",
    );
    let (_d2, out2) = run_scenario(&with_option, &[]);
    assert_eq!(summary(&out2)["outcomes"]["rolled_back"], 0);
    assert_eq!(summary(&out2)["outcomes"]["succeeded"], 200);
}

#[test]
fn dp_options_change_when_and_how_content_moves() {
    let ts = "template = \"win10-inplace-upgrade\"";
    let all_first = fleet_6(
        100,
        "user_start = \"1h\"\ndp_option = \"download_all_first\"",
        ts,
    );
    let (_a, out_a) = run_scenario(&all_first, &[]);
    // Download all first fetches every referenced package: all six OS packages and
    // both drivers, for every client.
    let all: u64 = (3_000_000_001 + 3_000_000_002 + 3_000_000_003)
        + (2_000_000_004 + 2_000_000_005 + 2_000_000_006)
        + (100_000_000 + 200_000_000);
    for r in csv_rows(&out_a.join("clients.csv")) {
        assert_eq!(r["bytes_downloaded"].parse::<u64>().unwrap(), all, "{r:?}");
    }
    let access = fleet_6(
        100,
        "user_start = \"1h\"\ndp_option = \"access_from_dp\"",
        ts,
    );
    let (_b, out_b) = run_scenario(&access, &[]);
    let sb = summary(&out_b);
    assert_eq!(sb["outcomes"]["succeeded"], 100);
    // Streaming reads the package during the step: bytes equal the on-demand case.
    let demand = fleet_6(100, "user_start = \"1h\"", ts);
    let (_c, out_c) = run_scenario(&demand, &[]);
    assert_eq!(sb["bytes"]["total"], summary(&out_c)["bytes"]["total"]);
}
