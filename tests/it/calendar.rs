//! The calendar (issue 17), checked end to end against hand-computed instants:
//! machines that sleep, clicks in office hours, maintenance windows, time zones,
//! wake-up packets, BITS throttling, and a running task sequence that keeps its
//! machine on. `2026-03-02` is a Monday.

use crate::common::*;

/// One site per entry of `sites` (name, UTC offset, share), one 1 Tbps DP, wired
/// clients capped at `wired`, content `PKG` of `size` bytes downloaded by the task
/// sequence, then a run step of `run` (so the task sequence has a known length).
/// `extra` holds the calendar keys and the deployment.
fn calendar_scenario(
    clients: u64,
    start: &str,
    sites: &[(&str, &str, f64)],
    wired: &str,
    size: u64,
    run: &str,
    extra: &str,
) -> String {
    let mut site_text = String::new();
    for (name, off, share) in sites {
        site_text.push_str(&format!(
            "[[sites]]\nname = \"{name}\"\nutc_offset = \"{off}\"\nshare = {share}\ndistribution_points = [\"DP-{name}\"]\n\
             [[distribution_points]]\nname = \"DP-{name}\"\nsite = \"{name}\"\nbandwidth = \"1Tbps\"\nmax_connections = 100000\n"
        ));
    }
    format!(
        r#"
name = "calendar"
[simulation]
seed = 3
horizon = "7d"
bandwidth_interval = "1h"
start = "{start}"
[fleet]
clients = {clients}
network = {{ wired = 1.0 }}
exact_shares = true
free_disk = "500GB"
[network]
wired = "{wired}"
{site_text}
[[content]]
id = "PKG"
kind = "package"
size = {size}
{extra}
[task_sequence]
[[task_sequence.steps]]
type = "download"
name = "Download"
content = ["PKG"]
[[task_sequence.steps]]
type = "run"
name = "Work"
command = "work.cmd"
duration = "{run}"
"#
    )
}

/// The client's `clients.csv` column as seconds.
fn secs(r: &std::collections::HashMap<String, String>, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} in {r:?}", r[col]))
}

const OFFICE: &str = r#"
[[power_schedules]]
name = "office"
on = "Mon-Fri 09:00-17:00"
jitter = "0s"
left_on = 0.0
"#;

#[test]
fn ten_hours_of_precache_from_monday_nine_end_tuesday_eleven() {
    // 36 GB at 8 Mbps is 36,000 s = 10 h of transfer; the machine is on 09-17, so
    // 8 h on Monday, paused overnight with its bytes, 2 h on Tuesday: 26 h after
    // Monday 09:00.
    let extra = format!(
        "{OFFICE}\n[fleet.power_schedule]\noffice = 1.0\n\
         [deployment]\npurpose = \"available\"\nprecache = true\nuser_start = \"30d\"\n\
         [client]\npolicy_poll = \"0s\"\ncache_size = \"100GB\"\n\
         transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}\n"
    );
    let text = calendar_scenario(
        3,
        "2026-03-02T09:00",
        &[("HQ", "+00:00", 1.0)],
        "8Mbps",
        36_000_000_000,
        "1m",
        &extra,
    );
    let (_d, out) = run_scenario(&text, &[]);
    let rows = csv_rows(&out.join("clients.csv"));
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert_eq!(secs(r, "precache_end_s"), 26.0 * 3600.0, "{r:?}");
        assert_eq!(r["power_schedule"], "office");
        assert_eq!(
            r["bytes_downloaded"], "36000000000",
            "no byte fetched twice"
        );
        assert_eq!(r["install_s"], "", "nobody clicked");
    }
}

#[test]
fn install_is_clicked_after_four_hours_of_on_time() {
    // From Monday 15:00: 2 h of on-time on Monday, 2 h on Tuesday from 09:00, so the
    // click comes on Tuesday at 11:00, 20 h later. The task sequence then downloads
    // 1 MB at 8 Mbps (1 s) and runs 1 min.
    let extra = format!(
        "{OFFICE}\n[fleet.power_schedule]\noffice = 1.0\n\
         [deployment]\npurpose = \"available\"\nuser_start = \"4h\"\n\
         [client]\npolicy_poll = \"0s\"\n\
         transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}\n"
    );
    let text = calendar_scenario(
        4,
        "2026-03-02T15:00",
        &[("HQ", "+00:00", 1.0)],
        "8Mbps",
        1_000_000,
        "1m",
        &extra,
    );
    let (_d, out) = run_scenario(&text, &[]);
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(secs(&r, "policy_s"), 0.0);
        assert_eq!(secs(&r, "install_s"), 20.0 * 3600.0, "{r:?}");
        assert_eq!(secs(&r, "ts_start_s"), 20.0 * 3600.0);
        assert_eq!(secs(&r, "end_s"), 20.0 * 3600.0 + 1.0 + 60.0);
        assert_eq!(r["outcome"], "succeeded");
    }
}

fn required_in_windows(window: &str, sites: &[(&str, &str, f64)], clients: u64) -> String {
    let extra = format!(
        "[[maintenance_windows]]\nname = \"nights\"\nschedule = \"{window}\"\n\
         [deployment]\npurpose = \"required\"\ndeadline = \"0s\"\nmax_run_time = \"120m\"\nuser_start = \"30d\"\n\
         [client]\npolicy_poll = \"0s\"\n\
         transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}\n"
    );
    calendar_scenario(
        clients,
        "2026-03-02T00:00",
        sites,
        "8Mbps",
        1_000_000,
        "1m",
        &extra,
    )
}

#[test]
fn a_maintenance_window_shorter_than_max_run_time_never_runs_the_deployment() {
    let text = required_in_windows("daily 01:00-02:00", &[("HQ", "+00:00", 1.0)], 5);
    let (_d, out) = run_scenario(&text, &[]);
    let s = summary(&out);
    assert_eq!(s["outcomes"]["not_started"], 5, "{s}");
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(r["ts_start_s"], "", "{r:?}");
        assert_eq!(secs(&r, "install_s"), 0.0, "the deadline passed at 0");
    }
    // validate says so, and still exits 0 (a warning).
    let (_d2, p) = scenario(&text);
    let o = fleetsim(&["validate", p.to_str().unwrap()]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{all}");
    assert!(all.contains("max_run_time"), "{all}");
    assert!(all.contains("never"), "{all}");
}

#[test]
fn a_long_enough_window_starts_the_deployment_at_its_opening() {
    // 01:00-04:00 leaves 3 h >= 120 min: the task sequence starts at 01:00.
    let text = required_in_windows("daily 01:00-04:00", &[("HQ", "+00:00", 1.0)], 5);
    let (_d, out) = run_scenario(&text, &[]);
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(secs(&r, "install_s"), 0.0);
        assert_eq!(secs(&r, "ts_start_s"), 3600.0, "{r:?}");
        assert_eq!(secs(&r, "end_s"), 3600.0 + 1.0 + 60.0);
    }
    // Ignoring maintenance windows starts at the deadline.
    let (_d, out) = run_scenario(
        &text,
        &["--set", "deployment.ignore_maintenance_windows=true"],
    );
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(secs(&r, "ts_start_s"), 0.0, "{r:?}");
    }
}

#[test]
fn two_time_zones_open_their_windows_at_their_own_local_one_oclock() {
    // t = 0 is Monday 00:00 in London (first site); Tokyo is then at 09:00, and its
    // next local 01:00 is 16 h away.
    let text = required_in_windows(
        "daily 01:00-04:00",
        &[("London", "+00:00", 0.5), ("Tokyo", "+09:00", 0.5)],
        10,
    );
    let (_d, out) = run_scenario(&text, &[]);
    let rows = csv_rows(&out.join("clients.csv"));
    let (mut london, mut tokyo) = (0, 0);
    for r in &rows {
        match r["site"].as_str() {
            "London" => {
                london += 1;
                assert_eq!(r["utc_offset"], "+00:00");
                assert_eq!(secs(r, "ts_start_s"), 3600.0, "{r:?}");
            }
            "Tokyo" => {
                tokyo += 1;
                assert_eq!(r["utc_offset"], "+09:00");
                assert_eq!(secs(r, "ts_start_s"), 16.0 * 3600.0, "{r:?}");
            }
            other => panic!("site {other}"),
        }
    }
    assert_eq!((london, tokyo), (5, 5));
}

fn deadline_after_office_hours(wake_up: &str) -> String {
    // Monday 16:00; the deadline at 18:00 finds the machines off.
    let extra = format!(
        "{OFFICE}\n[fleet.power_schedule]\noffice = 1.0\n\
         [deployment]\npurpose = \"required\"\ndeadline = \"2h\"\nuser_start = \"30d\"\nwake_up = {wake_up}\n\
         [client]\npolicy_poll = \"0s\"\n\
         transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}\n"
    );
    calendar_scenario(
        6,
        "2026-03-02T16:00",
        &[("HQ", "+00:00", 1.0)],
        "8Mbps",
        1_000_000,
        "1m",
        &extra,
    )
}

#[test]
fn a_wake_up_packet_runs_the_deployment_at_the_deadline() {
    let (_d, out) = run_scenario(&deadline_after_office_hours("1.0"), &[]);
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(secs(&r, "install_s"), 7200.0);
        assert_eq!(secs(&r, "ts_start_s"), 7200.0, "{r:?}");
        assert_eq!(r["outcome"], "succeeded");
    }
    // Without packets, the sleeping machines run it when switched on, Tuesday 09:00.
    let (_d, out) = run_scenario(&deadline_after_office_hours("0.0"), &[]);
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(secs(&r, "install_s"), 7200.0);
        assert_eq!(secs(&r, "ts_start_s"), 17.0 * 3600.0, "{r:?}");
    }
}

#[test]
fn a_throttled_precache_runs_at_the_bits_rate_inside_the_window() {
    // Always on, from Monday 08:00: BITS allows 2 Mbps until 17:00 (32,400 s carry
    // 8.1 GB), then the link's 8 Mbps carries the last 0.9 GB in 900 s.
    let extra = "[deployment]\npurpose = \"available\"\nprecache = true\nuser_start = \"30d\"\n\
         [client]\npolicy_poll = \"0s\"\ncache_size = \"100GB\"\n\
         transient_failure = { wired = 0.0, wireless = 0.0, vpn = 0.0 }\n\
         bits = { window = \"Mon-Fri 08:00-17:00\", inside = \"2Mbps\", outside = \"unlimited\" }\n";
    let text = calendar_scenario(
        2,
        "2026-03-02T08:00",
        &[("HQ", "+00:00", 1.0)],
        "8Mbps",
        9_000_000_000,
        "1m",
        extra,
    );
    let (_d, out) = run_scenario(&text, &[]);
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(secs(&r, "precache_end_s"), 32_400.0 + 900.0, "{r:?}");
        assert_eq!(r["power_schedule"], "always");
        assert_eq!(r["bytes_downloaded"], "9000000000");
    }
}

#[test]
fn a_running_task_sequence_keeps_its_machine_on() {
    // Deadline at Monday 15:00 on a machine on 09-17: the task sequence downloads
    // 10 h of content at full speed (it is not a background transfer) and runs
    // 1 min, through the night: it ends at 01:01 on Tuesday.
    let extra = format!(
        "{OFFICE}\n[fleet.power_schedule]\noffice = 1.0\n\
         [deployment]\npurpose = \"required\"\ndeadline = \"0s\"\nuser_start = \"30d\"\n\
         [client]\npolicy_poll = \"0s\"\ncache_size = \"100GB\"\n\
         transient_failure = {{ wired = 0.0, wireless = 0.0, vpn = 0.0 }}\n"
    );
    let text = calendar_scenario(
        2,
        "2026-03-02T15:00",
        &[("HQ", "+00:00", 1.0)],
        "8Mbps",
        36_000_000_000,
        "1m",
        &extra,
    );
    let (_d, out) = run_scenario(&text, &[]);
    for r in csv_rows(&out.join("clients.csv")) {
        assert_eq!(secs(&r, "ts_start_s"), 0.0);
        assert_eq!(secs(&r, "end_s"), 36_000.0 + 60.0, "{r:?}");
        assert_eq!(r["outcome"], "succeeded");
        // The run ends with its last event, at 01:01: on 15-17 by its schedule,
        // then kept on by the task sequence from 17:00 to 01:01.
        assert_eq!(
            secs(&r, "on_s"),
            2.0 * 3600.0 + 8.0 * 3600.0 + 60.0,
            "{r:?}"
        );
    }
}

/// Regression: a background download whose request waited for the machine (or
/// was queued at a DP when it went to sleep) was never asked for again once the
/// user clicked Install, and the task sequence stayed in progress for ever; a
/// queued job handed a DP slot while its machine slept transferred all night.
#[test]
fn deferred_background_downloads_resume_when_install_is_clicked() {
    let sc = repo().join("scenarios/office-week.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_file(
        &sc,
        &out,
        &[
            "--set",
            "fleet.clients=3000",
            "--set",
            "distribution_points.0.max_connections=40",
            "--set",
            "distribution_points.1.max_connections=30",
        ],
    );
    let s = summary(&out);
    assert_eq!(s["outcomes"]["in_progress"], 0, "{s}");
    assert_eq!(s["outcomes"]["not_started"], 0, "{s}");
}
