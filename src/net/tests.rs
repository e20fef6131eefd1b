//! Exact results both models must give, and the edge cases of the contract.

use super::*;

const GB: u64 = 1_000_000_000;
const GBPS: u64 = 1_000_000_000;
const MBPS: u64 = 1_000_000;
const S: SimTime = 1_000_000;

/// Runs `check` on a fresh fast model and a fresh reference model.
pub(super) fn each_model(check: impl Fn(&mut dyn FlowNetwork)) {
    check(&mut FairShareNet::new());
    check(&mut ReferenceNet::new());
}

/// Steps through every completion, one `advance` per completion time.
pub(super) fn drain(net: &mut dyn FlowNetwork) -> Vec<Completion> {
    let mut out = Vec::new();
    while let Some(t) = net.next_completion() {
        net.advance(t, &mut out);
    }
    out
}

#[test]
fn completion_rule_snaps_noise_and_rounds_up_the_rest() {
    assert_eq!(completion_time(44_444_444.444, 0), Some(44_444_445));
    assert_eq!(completion_time(100.0004, 0), Some(100));
    assert_eq!(completion_time(99.9996, 0), Some(100));
    assert_eq!(completion_time(100.002, 0), Some(101));
    // Relative tolerance: 1e-9 of 1e8 µs is 0.1 µs.
    assert_eq!(completion_time(100_000_000.05, 0), Some(100_000_000));
    assert_eq!(completion_time(100_000_000.2, 0), Some(100_000_001));
    // Past 500 s: the nearest µs, but an exact (or noisy) .5 always rounds up.
    assert_eq!(completion_time(900_000_000.4, 0), Some(900_000_000));
    assert_eq!(completion_time(900_000_000.6, 0), Some(900_000_001));
    assert_eq!(completion_time(856_446_797.499_999_9, 0), Some(856_446_798));
    assert_eq!(completion_time(856_446_797.5, 0), Some(856_446_798));
    assert_eq!(completion_time(5.0, 7), Some(7));
    assert_eq!(completion_time(-1e-12, 0), Some(0));
    assert_eq!(completion_time(f64::INFINITY, 0), None);
    assert_eq!(completion_time(f64::NAN, 0), None);
    assert_eq!(completion_time(2e19, 0), None);
}

#[test]
fn thousand_gigabytes_through_ten_gbps_end_at_800_s() {
    each_model(|net| {
        let dp = net.add_link(10 * GBPS);
        for i in 0..1000 {
            net.start_flow(0, GB, GBPS, &[dp], i);
        }
        assert_eq!(net.flow_rate_bps(0), 10.0 * MBPS as f64);
        assert_eq!(net.link_rate_bps(dp), 10.0 * GBPS as f64);
        assert_eq!(net.next_completion(), Some(800 * S));
        let done = drain(net);
        assert_eq!(done.len(), 1000);
        assert!(done.iter().all(|c| c.finished == 800_000_000));
        // Same finish time: reported in start order.
        assert!(done.iter().enumerate().all(|(i, c)| c.tag == i as u64));
        assert_eq!(net.link_bytes(dp), 1000 * GB);
        assert_eq!(net.active_flows(), 0);
    });
}

#[test]
fn vpn_flows_keep_20_mbps_while_wired_ones_share_the_rest() {
    each_model(|net| {
        let dp = net.add_link(10 * GBPS);
        let mut wired = Vec::new();
        let mut vpn = Vec::new();
        for i in 0..50 {
            wired.push(net.start_flow(0, GB, GBPS, &[dp], i));
            vpn.push(net.start_flow(0, GB, 20 * MBPS, &[dp], 100 + i));
        }
        assert!(vpn.iter().all(|&f| net.flow_rate_bps(f) == 20e6));
        assert!(wired.iter().all(|&f| net.flow_rate_bps(f) == 180e6));
        let done = drain(net);
        assert_eq!(done.len(), 100);
        for c in &done {
            if c.tag < 100 {
                // 1e9 * 8 / 180e6 s = 44.4444444 s, rounded up to the µs.
                assert_eq!(c.finished, 44_444_445, "wired flow {c:?}");
            } else {
                assert_eq!(c.finished, 400_000_000, "vpn flow {c:?}");
            }
        }
        assert_eq!(net.link_bytes(dp), 100 * GB);
    });
}

#[test]
fn vpn_rate_stays_capped_after_wired_flows_leave() {
    each_model(|net| {
        let dp = net.add_link(10 * GBPS);
        let w = net.start_flow(0, GB, GBPS, &[dp], 0);
        let v = net.start_flow(0, GB, 20 * MBPS, &[dp], 1);
        let mut out = Vec::new();
        net.advance(8 * S, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].flow, w);
        assert_eq!(net.flow_rate_bps(v), 20e6);
        assert_eq!(net.link_rate_bps(dp), 20e6);
        assert_eq!(net.link_active(dp), 1);
    });
}

#[test]
fn wan_link_is_the_bottleneck_before_the_dp_uplink() {
    each_model(|net| {
        let wan = net.add_link(GBPS);
        let dp = net.add_link(10 * GBPS);
        let flows: Vec<FlowId> = (0..10)
            .map(|i| net.start_flow(0, GB, GBPS, &[wan, dp], i))
            .collect();
        for &f in &flows {
            assert_eq!(net.flow_rate_bps(f), 100e6);
        }
        assert_eq!(net.link_rate_bps(wan), 1e9);
        assert_eq!(net.link_rate_bps(dp), 1e9);
        assert_eq!(net.link_active(dp), 10);
        // 10 GB through 1 Gbps: 80 s.
        let done = drain(net);
        assert!(done.iter().all(|c| c.finished == 80 * S));
    });
}

#[test]
fn bytes_per_link_never_decrease_and_end_exact() {
    each_model(|net| {
        let wan = net.add_link(300 * MBPS);
        let dp = net.add_link(GBPS);
        let sizes = [
            1u64,
            999,
            123_456_789,
            3_000_000_007,
            77,
            500_000_001,
            42_424_242,
        ];
        let mut through_wan = 0;
        for (i, &s) in sizes.iter().enumerate() {
            let links: &[LinkId] = if i % 2 == 0 { &[wan, dp] } else { &[dp] };
            if i % 2 == 0 {
                through_wan += s;
            }
            net.start_flow(i as SimTime * 333_333, s, 150 * MBPS, links, i as u64);
        }
        let (mut last_wan, mut last_dp) = (0, 0);
        let mut out = Vec::new();
        let mut t = 0;
        while net.active_flows() > 0 {
            t += 123_457;
            net.advance(t, &mut out);
            let (w, d) = (net.link_bytes(wan), net.link_bytes(dp));
            assert!(w >= last_wan && d >= last_dp, "dip at {t}");
            (last_wan, last_dp) = (w, d);
        }
        assert_eq!(net.link_bytes(wan), through_wan);
        assert_eq!(net.link_bytes(dp), sizes.iter().sum::<u64>());
    });
}

#[test]
fn bytes_count_fluid_progress_of_active_flows() {
    each_model(|net| {
        let dp = net.add_link(GBPS);
        net.start_flow(0, GB, u64::MAX, &[dp], 0);
        let mut out = Vec::new();
        net.advance(4 * S, &mut out);
        assert_eq!(net.link_bytes(dp), GB / 2);
        net.advance(5 * S + 1, &mut out);
        assert_eq!(net.link_bytes(dp), 625_000_125);
        assert!(out.is_empty());
    });
}

#[test]
fn zero_bytes_complete_at_start_and_free_the_id_when_reported() {
    each_model(|net| {
        let dp = net.add_link(GBPS);
        let f = net.start_flow(5, 0, GBPS, &[dp], 9);
        assert_eq!(net.next_completion(), Some(5));
        assert_eq!(net.active_flows(), 0);
        let mut out = Vec::new();
        net.advance(5, &mut out);
        assert_eq!(
            out,
            vec![Completion {
                flow: f,
                tag: 9,
                bytes: 0,
                started: 5,
                finished: 5
            }]
        );
        // The id is free again.
        assert_eq!(net.start_flow(6, 10, GBPS, &[dp], 10), f);
        assert_eq!(net.link_bytes(dp), 0);
    });
}

#[test]
fn uncapped_flow_on_no_link_completes_at_its_start() {
    each_model(|net| {
        let f = net.start_flow(7, GB, u64::MAX, &[], 1);
        assert_eq!(net.flow_rate_bps(f), f64::INFINITY);
        assert_eq!(net.next_completion(), Some(7));
        let done = drain(net);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].finished, 7);
    });
}

#[test]
fn zero_rate_flows_never_complete_and_take_nothing() {
    each_model(|net| {
        let dead = net.add_link(0);
        let dp = net.add_link(GBPS);
        net.start_flow(0, GB, 0, &[dp], 1);
        net.start_flow(0, GB, GBPS, &[dead, dp], 2);
        let live = net.start_flow(0, GB, GBPS, &[dp], 3);
        assert_eq!(net.flow_rate_bps(live), 1e9);
        let done = drain(net);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].tag, 3);
        assert_eq!(net.next_completion(), None);
        assert_eq!(net.active_flows(), 2);
    });
}

#[test]
fn unknown_and_duplicate_links_are_tolerated() {
    each_model(|net| {
        let dp = net.add_link(GBPS);
        let f = net.start_flow(0, GB, u64::MAX, &[dp, dp, 99], 1);
        assert_eq!(net.flow_rate_bps(f), 1e9);
        assert_eq!(net.link_active(dp), 1);
        assert_eq!(net.link_active(99), 0);
        assert_eq!(net.link_bytes(99), 0);
        assert_eq!(net.link_rate_bps(99), 0.0);
        assert_eq!(net.flow_rate_bps(12345), 0.0);
        assert_eq!(drain(net)[0].finished, 8 * S);
    });
}

#[test]
fn start_past_completions_holds_them_for_the_next_advance() {
    each_model(|net| {
        let dp = net.add_link(GBPS);
        net.start_flow(0, GB / 8, u64::MAX, &[dp], 1); // half of 1 Gbps: 2 s
        net.start_flow(0, GB / 4, u64::MAX, &[dp], 2); // shares: ends at 3 s
        // Start a third flow at 10 s without advancing first.
        net.start_flow(10 * S, GB / 8, u64::MAX, &[dp], 3);
        assert_eq!(net.next_completion(), Some(2 * S));
        let mut out = Vec::new();
        net.advance(10 * S, &mut out);
        let times: Vec<_> = out.iter().map(|c| (c.tag, c.finished)).collect();
        assert_eq!(times, vec![(1, 2 * S), (2, 3 * S)]);
        assert_eq!(net.now(), 10 * S);
        assert_eq!(drain(net)[0].finished, 11 * S);
    });
}

#[test]
fn one_advance_past_several_completions_recomputes_between_them() {
    each_model(|net| {
        let dp = net.add_link(GBPS);
        net.start_flow(0, GB / 8, u64::MAX, &[dp], 1);
        net.start_flow(0, GB / 4, u64::MAX, &[dp], 2);
        net.start_flow(0, GB / 2, u64::MAX, &[dp], 3);
        let mut out = Vec::new();
        net.advance(100 * S, &mut out);
        // 3 at 1/3 Gbps each: first done at 3 s; then 2 at 1/2 Gbps: 1 Gbit more
        // for the second, done at 5 s; the last 2 Gbit alone: 7 s.
        let times: Vec<_> = out.iter().map(|c| c.finished).collect();
        assert_eq!(times, vec![3 * S, 5 * S, 7 * S]);
        assert_eq!(net.now(), 100 * S);
        assert_eq!(net.link_bytes(dp), GB / 8 + GB / 4 + GB / 2);
    });
}

#[test]
fn same_finish_time_is_reported_in_start_order_across_classes() {
    each_model(|net| {
        let a = net.add_link(GBPS);
        let b = net.add_link(GBPS);
        net.start_flow(0, GB / 8, u64::MAX, &[b], 10);
        net.start_flow(0, GB / 8, u64::MAX, &[a], 20);
        net.start_flow(0, GB / 16, 500 * MBPS, &[], 30);
        let done = drain(net);
        let tags: Vec<_> = done.iter().map(|c| (c.tag, c.finished)).collect();
        assert_eq!(tags, vec![(10, S), (20, S), (30, S)]);
    });
}

#[test]
fn advance_before_the_clock_only_reports_held_completions() {
    each_model(|net| {
        let dp = net.add_link(GBPS);
        net.start_flow(10, GB, GBPS, &[dp], 1);
        net.start_flow(3, 0, GBPS, &[dp], 2);
        let mut out = Vec::new();
        net.advance(0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].finished, 10);
        assert_eq!(net.now(), 10);
        assert_eq!(net.active_flows(), 1);
    });
}
