//! `fleetsim calibrate`: measure a DP at rising concurrency and print the
//! `[[distribution_points]]` values that reproduce it in the simulator.

use super::common::{self, note};
use super::load::{duration_flag, load_error};
use crate::load::calibrate::{self, CalibrateOptions, fmt_rate};

/// Arguments of `fleetsim calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// URL of one content file on the DP.
    #[arg(long)]
    pub target: String,
    /// Highest concurrency tried (1, 2, 4, ... up to this).
    #[arg(long, default_value_t = 64)]
    pub max_connections: usize,
    /// How long each concurrency level runs.
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub step_duration: String,
    /// Give up on a connection, response or body that stalls this long.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: String,
    /// Accept any TLS certificate.
    #[arg(long)]
    pub insecure: bool,
    /// HTTP worker threads (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Runs the command; returns the exit code.
pub fn run(a: &CalibrateArgs) -> anyhow::Result<i32> {
    let o = CalibrateOptions {
        target: a.target.clone(),
        max_connections: a.max_connections,
        step: duration_flag("--step-duration", &a.step_duration)?,
        timeout: duration_flag("--timeout", &a.timeout)?,
        insecure: a.insecure,
        threads: a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
    };
    let stop = common::stop_flag();
    let c = calibrate::calibrate(&o, Some(stop.clone()), |st| {
        note(&format!(
            "{:>5} connections: {} aggregate, {} each",
            st.concurrency,
            fmt_rate(st.aggregate_bps),
            fmt_rate(st.per_connection_bps)
        ));
    })
    .map_err(load_error)?;
    super::out(&calibrate::report(&c));
    Ok(if common::stopped(&stop) {
        common::stop_code()
    } else {
        0
    })
}
