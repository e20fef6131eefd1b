//! The progress bar of a long run: simulated time reached against the horizon,
//! clients whose task sequence ended, events per second.
//!
//! It is drawn on stderr only when stderr is a terminal and `--quiet` is off, and only
//! once the run has lasted [`DEFAULT_DELAY`] (short runs would just flicker), so pipes,
//! logs and CI output never see it. The simulation feeds it through the
//! [`Progress`] counters (updated every 4096 events); a thread samples them.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::table::human_secs;
use crate::engine::time::SimTime;
use crate::sim::Progress;

/// How long a run goes before the bar appears.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(1);

/// Environment variable overriding [`DEFAULT_DELAY`] in milliseconds (for demos and the
/// tests that check the bar, which cannot wait for a slow run).
pub const DELAY_ENV: &str = "FLEETSIM_PROGRESS_DELAY_MS";

const TICK: Duration = Duration::from_millis(100);

/// Whether a bar may be drawn: stderr is a terminal and the user did not ask for quiet.
pub fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

fn delay() -> Duration {
    std::env::var(DELAY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_DELAY)
}

/// The text beside the bar.
pub fn message(sim_us: SimTime, horizon_us: SimTime, done: u64, clients: u64, eps: f64) -> String {
    format!(
        "sim {}/{}  clients done {}/{}  {:.2}M events/s",
        human_secs(sim_us as f64 / 1e6),
        human_secs(horizon_us as f64 / 1e6),
        done,
        clients,
        eps / 1e6
    )
}

/// A running progress display; dropping it removes the bar.
pub struct Bar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the display thread when `show` is true (see [`wanted`]).
pub fn start(p: Arc<Progress>, horizon: SimTime, clients: u64, show: bool) -> Option<Bar> {
    if !show {
        return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let wait = delay();
    let thread = std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < wait {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(TICK.min(wait.saturating_sub(started.elapsed())));
        }
        let len = (horizon / 1_000_000).max(1);
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed:>3} {wide_bar} {msg}") {
            bar.set_style(style);
        }
        let (mut last_events, mut last_at) = (p.events.load(Ordering::Relaxed), Instant::now());
        let mut eps = 0.0;
        while !flag.load(Ordering::SeqCst) {
            let sim = p.sim_time.load(Ordering::Relaxed);
            let events = p.events.load(Ordering::Relaxed);
            let dt = last_at.elapsed().as_secs_f64();
            if dt >= 0.5 {
                eps = events.saturating_sub(last_events) as f64 / dt;
                (last_events, last_at) = (events, Instant::now());
            }
            let done = p.done.load(Ordering::Relaxed);
            bar.set_position((sim / 1_000_000).min(len));
            bar.set_message(message(sim, horizon, done, clients, eps));
            std::thread::sleep(TICK);
        }
        bar.finish_and_clear();
    });
    Some(Bar {
        stop,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_says_where_the_run_is() {
        let m = message(36 * 3_600_000_000, 21 * 86_400_000_000, 1234, 20000, 2.5e6);
        assert_eq!(
            m,
            "sim 36.0h/21.0d  clients done 1234/20000  2.50M events/s"
        );
    }

    #[test]
    fn no_bar_when_not_wanted() {
        assert!(start(Arc::new(Progress::default()), 1, 1, false).is_none());
    }
}
