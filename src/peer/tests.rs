use super::*;
use crate::domain::PeerCache;

fn site(subnets: u32, sources: Option<PeerSources>) -> Site {
    Site {
        name: "s".into(),
        share: 1.0,
        wan: None,
        distribution_points: Vec::new(),
        fallback: None,
        subnets,
        branchcache: true,
        peer_cache: sources.map(|sources| PeerCache {
            sources,
            max_connections: 20,
            precache: false,
        }),
    }
}

#[test]
fn content_information_of_one_segment_and_of_a_6_gb_package() {
    // 1 MiB: one segment, 16 blocks: 18 + 84 + 16 * 32.
    assert_eq!(content_info_bytes(1 << 20), 18 + 84 + 512);
    // 6 GB = 6e9 bytes: 179 segments (178 full ones of 32 MiB), 91,553 blocks.
    let size = 6_000_000_000u64;
    assert_eq!(size.div_ceil(SEGMENT), 179);
    assert_eq!(size.div_ceil(BLOCK), 91_553);
    assert_eq!(content_info_bytes(size), 18 + 179 * 84 + 91_553 * 32);
    let share = content_info_bytes(size) as f64 / size as f64;
    assert!((0.00049..0.00050).contains(&share), "{share}");
}

#[test]
fn subnets_round_robin_within_each_site_and_numbered_over_the_fleet() {
    let sites = [site(3, None), site(2, None)];
    let l = Layout::new(&[0, 0, 1, 0, 1, 0, 1], &sites, |_| None);
    assert_eq!(l.first_subnet, vec![0, 3]);
    // Site 0's clients are 0, 1, 3, 5 (k = 0..3), site 1's are 2, 4, 6.
    assert_eq!(l.subnet, vec![0, 1, 3, 2, 4, 0, 3]);
}

#[test]
fn an_inventory_subnet_places_its_devices_after_the_counted_subnets() {
    let sites = [site(3, None), site(2, None)];
    // Devices 1 and 4 name inventory subnet 0, device 2 subnet 1.
    let inv = |c: usize| match c {
        1 | 4 => Some(0),
        2 => Some(1),
        _ => None,
    };
    let l = Layout::new(&[0, 0, 1, 0, 1], &sites, inv);
    // Counted subnets: 0..3 for site 0, 3..5 for site 1; inventory ones from 5.
    // Site 0's devices 0, 1, 3 have k = 0, 1, 2 (device 1's k is used up too).
    assert_eq!(l.subnet, vec![0, 5, 6, 2, 5]);
}

#[test]
fn a_share_of_sources_is_spread_evenly_and_ids_must_belong_to_the_site() {
    let sites = [site(1, Some(PeerSources::Share(0.25)))];
    let l = Layout::new(&[0; 10], &sites, |_| None);
    // round(2.5) = 3 sources at floor(j * 10 / 3) = 0, 3, 6.
    let got: Vec<usize> = (0..10).filter(|&c| l.source[c]).collect();
    assert_eq!(got, vec![0, 3, 6]);
    let sites = [
        site(1, Some(PeerSources::Clients(vec![1, 2]))),
        site(1, None),
    ];
    let l = Layout::new(&[0, 0, 1], &sites, |_| None);
    assert_eq!(l.source, vec![false, true, false]);
    for (n, m) in [(7u64, 7u64), (1000, 50), (13, 1), (5, 0)] {
        let count = (0..n).filter(|&k| on_grid(k, n, m)).count() as u64;
        assert_eq!(count, m, "n {n} m {m}");
    }
}

#[test]
fn peer_cache_sources_are_picked_round_robin_among_the_usable() {
    let mut ix = SourceIndex::default();
    for c in [4, 8, 12] {
        ix.add(0, 7, c);
    }
    ix.add(0, 7, 8);
    assert_eq!(ix.holders(0, 7), &[4, 8, 12]);
    assert_eq!(ix.pick(0, 7, |_| true), Some(4));
    assert_eq!(ix.pick(0, 7, |_| true), Some(8));
    assert_eq!(ix.pick(0, 7, |s| s != 12), Some(4));
    assert_eq!(ix.pick(0, 7, |_| false), None);
    assert_eq!(ix.pick(1, 7, |_| true), None);
    assert_eq!(ix.pick(0, 6, |_| true), None);
}

fn want(subnet: u32, client: u32, pos: u64, size: u64) -> Want {
    Want {
        subnet,
        item: 0,
        client,
        pos,
        size,
    }
}

#[test]
fn branchcache_serves_a_whole_holder_first_then_the_download_furthest_ahead() {
    let mut b = SubnetBlocks::default();
    let size = 10 * SEGMENT;
    b.start_download(1, 0, 10);
    b.start_download(1, 0, 11);
    let prefix = |d: u32| Some(if d == 10 { 3 * SEGMENT } else { 5 * SEGMENT });
    let f = b.find(want(1, 12, 0, size), |_| true, prefix);
    assert_eq!(
        f,
        Some(Found {
            peer: 11,
            end: 5 * SEGMENT
        })
    );
    // Less than a segment ahead: from the DP.
    assert_eq!(
        b.find(want(1, 12, 4 * SEGMENT + 1, size), |_| true, prefix),
        None
    );
    // An off peer cannot serve (its prefix is unknown).
    let off11 = |d: u32| (d != 11).then_some(3 * SEGMENT);
    let f = b.find(want(1, 12, 0, size), |_| true, off11);
    assert_eq!(
        f,
        Some(Found {
            peer: 10,
            end: 3 * SEGMENT
        })
    );
    // The requester never serves itself; another subnet sees nothing.
    assert_eq!(
        b.find(want(1, 11, 4 * SEGMENT, size), |_| true, prefix),
        None
    );
    assert_eq!(b.find(want(2, 12, 0, size), |_| true, prefix), None);
    // A finished holder serves the whole rest, even less than a segment of it.
    b.add_whole(1, 0, 11);
    let f = b.find(want(1, 12, size - 5, size), |_| true, prefix);
    assert_eq!(
        f,
        Some(Found {
            peer: 11,
            end: size
        })
    );
    // Holders that are off are skipped; then the downloads in progress.
    let f = b.find(want(1, 12, 0, size), |h| h != 11, prefix);
    assert_eq!(
        f,
        Some(Found {
            peer: 10,
            end: 3 * SEGMENT
        })
    );
    b.end_download(1, 0, 10);
    assert_eq!(b.find(want(1, 12, 0, size), |h| h != 11, prefix), None);
}
