//! `scripts/slurm-array.sh` on a real single-node Slurm started by
//! `scripts/slurm-local.sh` (Debian's `slurm-wlm` and `munge`): the sharded sweep
//! submitted as an array job and merged by the dependent job equals the unsharded
//! sweep, and `scancel` of a running shard (SIGTERM) leaves a partial shard that the
//! merge accepts with `--allow-partial`.
//!
//! The two tests share one cluster folder per checkout and take turns (a lock), each
//! starting the daemons and stopping them on drop, also when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::merge::assert_same_tree;

/// One cluster at a time in this process: the tests share its folder and ports.
static CLUSTER: Mutex<()> = Mutex::new(());

/// How long a job may take to start, run and end before the test gives up.
const JOB_LIMIT: Duration = Duration::from_secs(180);

/// The daemons of `scripts/slurm-local.sh`, stopped (jobs cancelled, folder removed)
/// on drop. Holds the lock so the other test waits for its turn.
struct Cluster {
    dir: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

fn script(name: &str) -> PathBuf {
    repo().join("scripts").join(name)
}

/// Whether `name` is an executable on PATH or in the sbin folders (where Debian puts
/// the daemons, often not on a user's PATH).
fn installed(name: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"])
        .any(|d| Path::new(d).join(name).is_file())
}

/// A folder of its own per checkout (short, for munge's and slurmd's socket paths):
/// a run killed before its drop leaves daemons the next run of the same checkout
/// stops, and two checkouts on one machine do not stop each other's.
fn cluster_dir() -> PathBuf {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in env!("CARGO_MANIFEST_DIR").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    std::env::temp_dir().join(format!("fleetsim-slurm-{:08x}", h as u32))
}

impl Cluster {
    /// Starts the cluster, or calls `missing_tool` (a loud skip locally, a failure
    /// with CI=true) when Slurm is not installed or cannot start here.
    fn start(test: &str) -> Option<Cluster> {
        let turn = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
        let missing: Vec<&str> = ["munged", "slurmctld", "slurmd", "sbatch", "scancel"]
            .into_iter()
            .filter(|t| !installed(t))
            .collect();
        if !missing.is_empty() {
            missing_tool(
                test,
                &format!(
                    "{} not found (.ci/run installs them; apt-get install slurm-wlm munge)",
                    missing.join(", ")
                ),
            );
            return None;
        }
        let cluster = Cluster {
            dir: cluster_dir(),
            _turn: turn,
        };
        // Whatever a killed earlier run left goes first: a fresh cluster, no old jobs.
        cluster.local("stop");
        let o = cluster.local("start");
        if !o.status.success() {
            missing_tool(
                test,
                &format!(
                    "scripts/slurm-local.sh could not start Slurm here:\n{}",
                    String::from_utf8_lossy(&o.stderr)
                ),
            );
            return None;
        }
        let export = format!("export SLURM_CONF={}\n", cluster.conf().display());
        assert_eq!(String::from_utf8_lossy(&o.stdout), export);
        // Idempotent: a second start finds the daemons answering and only says so.
        let again = cluster.local("start");
        assert!(again.status.success());
        assert_eq!(String::from_utf8_lossy(&again.stdout), export);
        assert!(String::from_utf8_lossy(&again.stderr).contains("already running"));
        Some(cluster)
    }

    fn conf(&self) -> PathBuf {
        self.dir.join("slurm.conf")
    }

    /// Runs `scripts/slurm-local.sh action` for this cluster's folder.
    fn local(&self, action: &str) -> Output {
        Command::new(script("slurm-local.sh"))
            .arg(action)
            .env("FLEETSIM_SLURM_DIR", &self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("slurm-local.sh runs")
    }

    /// A Slurm client command (sbatch, scontrol...) talking to this cluster.
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", self.conf()).stdin(Stdio::null());
        c
    }

    /// The `field` of `job` in `scontrol show job`, "UNKNOWN" when Slurm does not say.
    fn field(&self, job: &str, field: &str) -> String {
        let o = self
            .cmd("scontrol")
            .args(["show", "job", job])
            .output()
            .expect("scontrol runs");
        let text = String::from_utf8_lossy(&o.stdout);
        let key = format!("{field}=");
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(key.as_str()))
            .unwrap_or("UNKNOWN")
            .to_string()
    }

    /// `JobState` of `job` ("PENDING", "RUNNING", "COMPLETED", "CANCELLED"...).
    fn state(&self, job: &str) -> String {
        self.field(job, "JobState")
    }

    /// Waits until `job` has ended and returns its final state.
    fn wait_end(&self, job: &str, logs: &Path) -> String {
        let start = Instant::now();
        loop {
            let s = self.state(job);
            if !matches!(
                s.as_str(),
                "PENDING" | "CONFIGURING" | "RUNNING" | "COMPLETING" | "UNKNOWN"
            ) {
                return s;
            }
            assert!(
                start.elapsed() < JOB_LIMIT,
                "job {job} still {s} after {JOB_LIMIT:?}\n{}",
                self.logs(Some(logs))
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The ends of the jobs' logs in `jobs` and of the daemons' logs, for failure
    /// messages.
    fn logs(&self, jobs: Option<&Path>) -> String {
        let mut files: Vec<PathBuf> = jobs
            .and_then(|d| std::fs::read_dir(d).ok())
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "log"));
        files.sort();
        files.push(self.dir.join("log/slurmctld.log"));
        files.push(self.dir.join("log/slurmd.log"));
        let mut out = String::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            out.push_str(&format!("--- {}\n{tail}\n", f.display()));
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("Slurm daemon logs:\n{}", self.logs(None));
        }
        let o = self.local("stop");
        if !o.status.success() {
            eprintln!(
                "slurm-local.sh stop failed:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

/// `scripts/slurm-array.sh` submitting a sweep of quickstart with `vary` (which also
/// carries `--set`), logs in `work`, results in `work/res`; the other settings from
/// `env`. Returns the array and merge job ids it printed.
fn submit(
    cluster: &Cluster,
    work: &Path,
    vary: &str,
    reps: u32,
    env: &[(&str, &str)],
) -> (String, String) {
    let mut c = cluster.cmd(script("slurm-array.sh").to_str().unwrap());
    c.current_dir(work)
        .env("FLEETSIM", bin())
        .env("SCENARIO", repo().join("scenarios/quickstart.toml"))
        .env("VARY", vary)
        .env("REPLICATIONS", reps.to_string())
        .env("RESULTS", work.join("res"))
        .env("CPUS", "1")
        .env("MEM", "1G")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("slurm-array.sh runs");
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > JOB_LIMIT {
            let _ = child.kill();
            panic!(
                "slurm-array.sh still waiting after {JOB_LIMIT:?}\n{}",
                cluster.logs(Some(work))
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().expect("output");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "slurm-array.sh failed: {out}{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        cluster.logs(Some(work))
    );
    let id = |prefix: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix)?.split(':').next())
            .unwrap_or_else(|| panic!("no '{prefix}' line in: {out}"))
            .to_string()
    };
    (id("array job "), id("merge job "))
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

const SMALL: &str = "--vary client.download_retry_count=0,2 --set fleet.clients=400";

#[test]
fn slurm_array_sweep_merged_by_the_dependent_job_equals_the_unsharded_sweep() {
    let Some(cluster) = Cluster::start("slurm_array_sweep") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // 2 points x 4 replications = 8 runs in 3 shares (3, 3, 2); the script waits for
    // the merge job.
    let (array, merge) = submit(
        &cluster,
        work.path(),
        SMALL,
        4,
        &[("SHARDS", "3"), ("WAIT", "1")],
    );
    for task in 1..=3 {
        assert_eq!(cluster.state(&format!("{array}_{task}")), "COMPLETED");
    }
    assert_eq!(cluster.state(&merge), "COMPLETED");
    let res = work.path().join("res");
    assert_eq!(names(&res), ["shard-1", "shard-2", "shard-3", "sweep"]);
    for task in 1..=3 {
        let m = json(&res.join(format!("shard-{task}/study.json")));
        assert_eq!(m["shard"], serde_json::json!({"index": task, "count": 3}));
    }

    // The same sweep in one piece, here.
    let whole = work.path().join("whole");
    let sc = repo().join("scenarios/quickstart.toml");
    let mut args = vec!["sweep", sc.to_str().unwrap()];
    args.extend(SMALL.split(' '));
    args.extend(["--replications", "4", "--quiet", "--out"]);
    args.push(whole.to_str().unwrap());
    ok(&args);
    assert_same_tree(&whole, &res.join("sweep"));
    assert!(
        std::fs::read(whole.join("sweep.csv")).unwrap()
            == std::fs::read(res.join("sweep/sweep.csv")).unwrap()
    );
}

/// Whether shard 1's temporary folder (a sibling of the `shard-1` it will become)
/// holds a finished run: the shard is running and has something to keep.
fn shard_one_has_a_finished_run(res: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(res) else {
        return false;
    };
    entries
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.contains("shard-1") && n != "shard-1"
        })
        .any(|e| {
            let Ok(points) = std::fs::read_dir(e.path().join("points")) else {
                return false;
            };
            points.flatten().any(|p| {
                std::fs::read_dir(p.path().join("replications"))
                    .map(|reps| reps.flatten().any(|r| r.path().join(".complete").exists()))
                    .unwrap_or(false)
            })
        })
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    let mut s: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    s.sort();
    s
}

/// `scancel` sends SIGTERM (then SIGKILL after KillWait, 30 s here): fleetsim must
/// treat it like Ctrl-C (issue 13) and write the finished runs as a partial shard,
/// which the merge job of `ALLOW_PARTIAL=1` joins with `--allow-partial`.
#[test]
fn scancel_of_a_running_shard_leaves_a_partial_mergeable_shard() {
    let Some(cluster) = Cluster::start("scancel_of_a_running_shard") else {
        return;
    };
    // 3 points x 3 replications = 9 runs, 5 in shard 1: about 1 s a run with 100,000
    // clients on one core, so shard 1 is cancelled with about 4 runs to go. If it
    // still ends before the signal lands (a very fast machine), try a larger fleet.
    for clients in [100_000u64, 400_000] {
        let work = tempfile::tempdir().unwrap();
        let vary =
            format!("--vary client.download_retry_count=0,1,2 --set fleet.clients={clients}");
        let env = [("SHARDS", "2"), ("ALLOW_PARTIAL", "1")];
        let (array, merge) = submit(&cluster, work.path(), &vary, 3, &env);
        let res = work.path().join("res");
        let (one, two) = (format!("{array}_1"), format!("{array}_2"));
        let start = Instant::now();
        while !shard_one_has_a_finished_run(&res)
            && matches!(
                cluster.state(&one).as_str(),
                "PENDING" | "CONFIGURING" | "RUNNING"
            )
        {
            assert!(
                start.elapsed() < JOB_LIMIT,
                "shard 1 finished no run in {JOB_LIMIT:?}\n{}",
                cluster.logs(Some(work.path()))
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The task may have just ended by itself: scancel then fails, which is fine.
        let _ = cluster.cmd("scancel").arg(&one).status();
        let ended = cluster.wait_end(&one, work.path());
        let merged = cluster.wait_end(&merge, work.path());
        if ended == "COMPLETED" {
            eprintln!("shard 1 of {clients} clients ended before scancel; trying a larger fleet");
            continue;
        }
        let logs = cluster.logs(Some(work.path()));
        assert_eq!(ended, "CANCELLED", "{logs}");
        // fleetsim handled the signal and exited 128 + 15 itself (killed by it, Slurm
        // would say 0:15; by SIGKILL after KillWait, 0:9).
        assert_eq!(cluster.field(&one, "ExitCode"), "143:0", "{logs}");
        assert_eq!(cluster.state(&two), "COMPLETED", "{logs}");
        assert_eq!(merged, "COMPLETED", "the merge job failed\n{logs}");
        // Shard 1 is a result folder marked partial; no temporary folder is left.
        assert_eq!(
            names(&res),
            ["shard-1", "shard-2", "sweep"],
            "after SIGTERM, shard 1 must be written as a partial shard and its \
             temporary folder removed (issue 13: SIGTERM behaves like Ctrl-C)\n{logs}"
        );
        let shard = res.join("shard-1");
        assert!(shard.join(".complete").exists());
        let m = json(&shard.join("study.json"));
        assert_eq!(m["partial"], true, "{m}");
        let present = strings(&m["completion"]["units_present"]);
        let missing = strings(&m["completion"]["units_missing"]);
        assert!(!present.is_empty() && !missing.is_empty(), "{m}");
        assert_eq!(present.len() + missing.len(), 5, "{m}");
        for u in &present {
            assert!(shard.join(u).join(".complete").exists(), "{u}");
        }
        for u in &missing {
            assert!(!shard.join(u).exists(), "{u}");
        }
        let m2 = json(&res.join("shard-2/study.json"));
        assert!(m2.get("partial").is_none_or(|p| p == false), "{m2}");

        // The dependent job merged it with --allow-partial: the missing runs are
        // exactly shard 1's, and the table marks the incomplete points.
        let sweep = res.join("sweep");
        let s = json(&sweep.join("study.json"));
        assert_eq!(s["partial"], true, "{s}");
        assert_eq!(s["shard"], serde_json::Value::Null);
        assert_eq!(strings(&s["completion"]["units_missing"]), missing);
        let rows = csv_rows(&sweep.join("sweep.csv"));
        assert!(rows.iter().any(|r| r["complete"] == "false"));
        // Without --allow-partial the same shards are refused.
        let strict = work.path().join("strict");
        let o = fleetsim(&[
            "merge",
            shard.to_str().unwrap(),
            res.join("shard-2").to_str().unwrap(),
            "--out",
            strict.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("--allow-partial"), "{err}");
        assert!(!strict.exists());
        return;
    }
    panic!("shard 1 finished before scancel could stop it, even with 400,000 clients");
}
