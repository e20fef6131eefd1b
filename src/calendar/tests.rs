//! The calendar against a brute-force reference that looks at every minute, and the
//! grammar's exact cases.

use proptest::prelude::*;

use super::*;
use crate::engine::time::{DAY, HOUR, MINUTE};

/// Minutes in a week.
const WM: u64 = WEEK / MINUTE;

/// The reference: which minutes of the week are on, from the raw intervals.
fn minutes(raw: &[(u64, u64)]) -> Vec<bool> {
    let mut on = vec![false; WM as usize];
    for &(s, e) in raw {
        for m in s / MINUTE..e / MINUTE {
            on[(m % WM) as usize] = true;
        }
    }
    on
}

fn on_min(on: &[bool], m: u64) -> bool {
    on[(m % WM) as usize]
}

fn schedule() -> impl Strategy<Value = Vec<(u64, u64)>> {
    proptest::collection::vec((0..WM, 1..3 * 24 * 60u64), 0..8).prop_map(|v| {
        v.into_iter()
            .map(|(s, len)| (s * MINUTE, (s + len) * MINUTE))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn queries_match_a_minute_by_minute_reference(
        raw in schedule(),
        pos0 in -(WM as i64)..2 * WM as i64,
        ts in proptest::collection::vec(0..3 * WM, 6),
        ds in proptest::collection::vec(0..2 * 24 * 60u64, 6),
    ) {
        let sched = WeekSchedule::from_intervals(&raw);
        let on = minutes(&raw);
        let clock = Clock::new(&sched, pos0 * MINUTE as i64);
        let at = |t: u64| (t as i64 + pos0).rem_euclid(WM as i64) as u64;
        let any_on = on.iter().any(|&x| x);
        prop_assert_eq!(sched.on_per_week(), on.iter().filter(|&&x| x).count() as u64 * MINUTE);
        for (&t, &d) in ts.iter().zip(&ds) {
            let tm = t * MINUTE;
            prop_assert_eq!(clock.is_on(tm), on_min(&on, at(t)), "on at minute {}", t);
            // Next switch.
            let want = (t + 1..t + 2 * WM).find(|&m| on_min(&on, at(m)) != on_min(&on, at(t)));
            prop_assert_eq!(clock.next_switch(tm), want.map(|m| m * MINUTE), "switch after {}", t);
            // On-time over [t, t + d).
            let count = (t..t + d).filter(|&m| on_min(&on, at(m))).count() as u64;
            prop_assert_eq!(clock.on_time(tm, (t + d) * MINUTE), count * MINUTE);
            // The instant d minutes of on-time have elapsed.
            let want = if d == 0 {
                Some(t)
            } else if !any_on {
                None
            } else {
                let mut acc = 0;
                (t..).find(|&m| {
                    acc += u64::from(on_min(&on, at(m)));
                    acc == d
                }).map(|m| m + 1)
            };
            prop_assert_eq!(clock.after_on_time(tm, d * MINUTE), want.map(|m| m * MINUTE));
            // First on, and first on with at least d minutes left.
            let first = (t..t + 2 * WM).find(|&m| on_min(&on, at(m)));
            let first = if sched.is_always() { Some(t) } else { first };
            prop_assert_eq!(clock.first_on(tm), first.map(|m| m * MINUTE));
            let run = |m: u64| (m..m + WM + 1).take_while(|&x| on_min(&on, at(x))).count() as u64;
            let fit = (t..t + 2 * WM).find(|&m| on_min(&on, at(m)) && run(m) >= d.max(1));
            let fit = if sched.is_always() { Some(t) } else { fit };
            prop_assert_eq!(clock.next_fit(tm, d * MINUTE), fit.map(|m| m * MINUTE), "fit {} from {}", d, t);
        }
    }

    #[test]
    fn first_common_is_the_first_instant_both_allow(
        a in schedule(),
        b in schedule(),
        pa in 0..WM as i64,
        pb in 0..WM as i64,
        t in 0..2 * WM,
        d in 0..6 * 60u64,
    ) {
        let (sa, sb) = (WeekSchedule::from_intervals(&a), WeekSchedule::from_intervals(&b));
        let (ca, cb) = (Clock::new(&sa, pa * MINUTE as i64), Clock::new(&sb, pb * MINUTE as i64));
        let (oa, ob) = (minutes(&a), minutes(&b));
        let ona = |m: u64| on_min(&oa, (m as i64 + pa).rem_euclid(WM as i64) as u64);
        let onb = |m: u64| on_min(&ob, (m as i64 + pb).rem_euclid(WM as i64) as u64);
        let run_b = |m: u64| (m..m + WM + 1).take_while(|&x| onb(x)).count() as u64;
        let want = (t..t + 2 * WM).find(|&m| ona(m) && onb(m) && run_b(m) >= d.max(1));
        prop_assert_eq!(first_common(&ca, &cb, t * MINUTE, d * MINUTE), want.map(|m| m * MINUTE));
    }
}

#[test]
fn ten_hours_of_office_time_from_monday_nine_end_tuesday_eleven() {
    let s = parse::schedule("Mon-Fri 09:00-17:00").unwrap();
    let c = Clock::new(&s, 0);
    assert_eq!(c.after_on_time(9 * HOUR, 10 * HOUR), Some(DAY + 11 * HOUR));
    // Friday 15:00 plus 10 hours of work: 2 on Friday, 8 on Monday, so Monday 17:00.
    let fri15 = 4 * DAY + 15 * HOUR;
    assert_eq!(c.after_on_time(fri15, 10 * HOUR), Some(7 * DAY + 17 * HOUR));
    assert_eq!(c.next_switch(fri15), Some(4 * DAY + 17 * HOUR));
    assert_eq!(c.on_time(0, WEEK), 40 * HOUR);
}

#[test]
fn past_midnight_and_wrapping_ranges() {
    let s = parse::schedule("Sun 22:00-06:00").unwrap();
    let c = Clock::new(&s, 0);
    assert!(c.is_on(3 * HOUR), "Monday 03:00 is inside Sunday's night");
    assert!(!c.is_on(6 * HOUR));
    assert_eq!(c.next_switch(6 * HOUR), Some(6 * DAY + 22 * HOUR));
    let s = parse::schedule("Fri-Mon 08:00-09:00").unwrap();
    let days: Vec<u64> = s.intervals().map(|(a, _)| a / DAY).collect();
    assert_eq!(days, vec![0, 4, 5, 6]);
    assert!(parse::schedule("daily 00:00-24:00").unwrap().is_always());
    assert!(parse::schedule("never").unwrap().is_never());
    let wk = parse::schedule("weekdays 08:00-12:00; Mon,Wed 13:00-17:00").unwrap();
    assert_eq!(wk.on_per_week(), 5 * 4 * HOUR + 2 * 4 * HOUR);
}

#[test]
fn grammar_errors_are_located_in_the_text() {
    let e = parse::schedule("Mon-Fry 09:00-17:00").unwrap_err();
    assert_eq!(e.at, 4);
    assert!(e.message.contains("unknown day \"Fry\""), "{e}");
    let e = parse::schedule("Mon 09:00-25:00").unwrap_err();
    assert_eq!(e.at, 10);
    assert!(e.message.contains("\"25:00\""), "{e}");
    let e = parse::schedule("25:00").unwrap_err();
    assert_eq!(e.at, 0);
    let e = parse::schedule("Mon 09:00-09:00").unwrap_err();
    assert!(e.message.contains("empty interval"), "{e}");
    let e = parse::schedule("Mon 09:00-17:00;").unwrap_err();
    assert_eq!(e.at, 16);
    assert!(e.message.contains("empty interval"), "{e}");
    assert!(parse::schedule("Mon 24:00-02:00").is_err());
}

#[test]
fn offsets_and_start_dates() {
    assert_eq!(parse::utc_offset("+01:00"), Ok(HOUR as i64));
    assert_eq!(
        parse::utc_offset("-05:30"),
        Ok(-((5 * HOUR + 30 * MINUTE) as i64))
    );
    assert_eq!(parse::utc_offset("+14:00"), Ok(14 * HOUR as i64));
    assert!(
        parse::utc_offset("+14:30")
            .unwrap_err()
            .message
            .contains("beyond")
    );
    assert!(parse::utc_offset("01:00").is_err());
    assert_eq!(
        parse::fmt_offset(-((5 * HOUR + 30 * MINUTE) as i64)),
        "-05:30"
    );
    // 2026-03-02 is a Monday, 2024-02-29 a Thursday.
    let s = parse::start("2026-03-02T08:30").unwrap();
    assert_eq!(s.week_pos, 8 * HOUR + 30 * MINUTE);
    assert_eq!(s.to_string(), "Mon 2026-03-02 08:30");
    assert_eq!(parse::start("2024-02-29 00:00").unwrap().week_pos, 3 * DAY);
    assert!(parse::start("2026-02-29T00:00").is_err());
    assert!(parse::start("2026-03-02T24:00").is_err());
}

#[test]
fn a_clients_power_is_fixed_and_follows_the_weights() {
    let office = parse::schedule("Mon-Fri 08:00-18:00").unwrap();
    let mut cal = Calendar::new(
        2,
        Bits {
            window: None,
            inside: u64::MAX,
            outside: u64::MAX,
            retry_delay: 600 * crate::engine::time::SECOND,
            no_progress_timeout: 14 * DAY,
        },
    );
    cal.site_offsets = vec![0, 2 * HOUR as i64];
    cal.power = vec![PowerSchedule {
        name: "desk".into(),
        on: office,
        jitter: 30 * MINUTE,
        left_on: 0.25,
    }];
    cal.mix = vec![(0, 1.0)];
    let n = 20_000;
    let mut left_on = 0;
    for c in 0..n {
        let p = cal.power_of(7, c, 1);
        assert_eq!(p, cal.power_of(7, c, 1), "fixed per client");
        assert_eq!(p.schedule, Some(0));
        left_on += u64::from(p.always_on);
        if !p.always_on {
            let jitter = 2 * HOUR as i64 - p.pos0;
            assert!(jitter.unsigned_abs() <= 30 * MINUTE, "{jitter}");
        }
    }
    let share = left_on as f64 / n as f64;
    assert!((share - 0.25).abs() < 0.015, "{share}");
}

#[test]
fn axis_marks_split_nights_from_weekends_and_list_windows() {
    let bits = Bits {
        window: None,
        inside: u64::MAX,
        outside: u64::MAX,
        retry_delay: 0,
        no_progress_timeout: 0,
    };
    let mut cal = Calendar::new(1, bits);
    cal.power.push(PowerSchedule {
        name: "office".into(),
        on: parse::schedule("Mon-Fri 09:00-17:00").unwrap(),
        jitter: 0,
        left_on: 0.0,
    });
    cal.mix.push((0, 1.0));
    cal.site_windows[0] = Some(parse::schedule("daily 01:00-04:00").unwrap());
    let m = cal.axis_marks(WEEK);
    let of = |k: &str| -> Vec<(SimTime, SimTime)> {
        m.iter().filter(|x| x.0 == k).map(|x| (x.1, x.2)).collect()
    };
    assert_eq!(of("weekend"), vec![(5 * DAY, 7 * DAY)]);
    let mut nights = vec![(0, 9 * HOUR)];
    for d in 0..4 {
        nights.push((d * DAY + 17 * HOUR, (d + 1) * DAY + 9 * HOUR));
    }
    nights.push((4 * DAY + 17 * HOUR, 5 * DAY));
    assert_eq!(of("night"), nights);
    let windows: Vec<_> = (0..7)
        .map(|d| (d * DAY + HOUR, d * DAY + 4 * HOUR))
        .collect();
    assert_eq!(of("window"), windows);
}
