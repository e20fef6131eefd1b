//! The transport's invariants, without a server: time never runs back, broken
//! attempts resume, bytes land in their bucket, cut-off attempts hand over their bytes.

use super::*;

fn transport() -> HttpTransport {
    HttpTransport::new(
        TransportOptions {
            time_scale: 1000.0,
            chunk: None,
            max_connections: 4,
            timeout: Duration::from_secs(1),
            insecure: false,
            threads: 1,
            bucket: 1_000_000,
        },
        vec![vec!["http://127.0.0.1:9/x".parse().unwrap()]],
        Arc::new(Live::default()),
        ttfb_histogram(),
    )
    .unwrap()
}

fn done(t: &HttpTransport, tag: u64, error: Option<ErrorClass>, bytes: u64) {
    let base = Finished {
        tag,
        client: tag as u32,
        content: 0,
        start: 0,
        bytes,
        error: None,
        at: 0,
        ttfb: Some(5),
    };
    t.shared.live.active.fetch_add(1, Ordering::Relaxed);
    finish(&t.shared, base, error);
}

#[test]
fn completions_never_go_back_in_time() {
    let mut t = transport();
    t.in_flight = 2;
    // The world handled an event far ahead of the wall clock.
    let ahead = 3_600 * 1_000_000;
    t.wait_until(0);
    t.floor = ahead;
    done(&t, 1, None, 10);
    let at = t.next_completion().expect("one waiting");
    assert!(at >= ahead);
    let mut out = Vec::new();
    t.advance(ahead - 1, &mut out);
    assert!(out.is_empty(), "nothing is handed over before its time");
    t.advance(at, &mut out);
    assert_eq!(
        out,
        vec![FlowDone {
            tag: 1,
            bytes: 10,
            error: None
        }]
    );
    assert_eq!(t.active(), 1);
    assert_eq!(t.ttfb.lock().unwrap().len(), 1);
}

#[test]
fn a_broken_attempt_resumes_where_it_stopped() {
    let mut t = transport();
    t.in_flight = 1;
    done(&t, 7, Some(ErrorClass::Reset), 1234);
    let mut out = Vec::new();
    let now = t.wait_until(0).max(t.next_completion().unwrap());
    t.advance(now, &mut out);
    assert_eq!(out[0].error, Some(ErrorClass::Reset.code()));
    assert_eq!(t.resume.get(&(7, 0)), Some(&1234));
    assert_eq!(t.shared.live.errors.load(Ordering::Relaxed), 1);
}

#[test]
fn bytes_land_in_the_bucket_they_arrived_in() {
    // A steady stream of 10 KB per second for 10 seconds, sampled only at the end
    // (the world had no event in between): ten equal buckets, not one burst.
    let l = LinkBytes {
        total: AtomicU64::new(0),
        buckets: Mutex::new(Vec::new()),
    };
    let sec = 1_000_000;
    for s in 0..10u64 {
        for k in 1..=10u64 {
            l.add(s * sec + k * sec / 10, sec, 1_000);
        }
    }
    let per_bucket: Vec<u64> = (1..=10u64)
        .map(|k| l.until(k * sec, sec) - l.until((k - 1) * sec, sec))
        .collect();
    assert_eq!(per_bucket, vec![10_000; 10]);
    assert_eq!(l.until(10 * sec + 1, sec), 100_000);
    assert_eq!(l.total.load(Ordering::Relaxed), 100_000);
}

#[test]
fn attempts_running_at_the_end_hand_over_their_bytes() {
    let mut t = transport();
    t.flights.insert(7, Arc::new(AtomicU64::new(4096)));
    t.flights.insert(3, Arc::new(AtomicU64::new(0)));
    let mut out = Vec::new();
    t.unfinished(&mut out);
    let got: Vec<(u64, u64)> = out.iter().map(|d| (d.tag, d.bytes)).collect();
    assert_eq!(got, [(3, 0), (7, 4096)]);
    assert_eq!(t.shared.live.unfinished.load(Ordering::Relaxed), 2);
    assert_eq!(t.shared.live.unfinished_bytes.load(Ordering::Relaxed), 4096);
}

#[test]
fn wait_until_returns_at_the_target_time() {
    let mut t = transport();
    // 50 simulated ms at 1000x: 50 µs of wall time.
    let reached = t.wait_until(50_000);
    assert!(reached >= 50_000);
    assert!(t.next_completion().is_none());
}
